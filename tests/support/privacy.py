"""No personal data in a leaf (DESIGN.md: The log): every leaf a test's deployment wrote is scanned
for names (any Chinese text: a leaf holds codes, hashes and numbers only), resident identity
numbers, mobile phone numbers and licence plates."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from ledger.models import Leaf

_NOT_HEX = r"(?<![0-9A-Fa-f]){}(?![0-9A-Fa-f])"  # a hash's hex is not an identity number
# A plate's first character.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
PATTERNS = {
    "Chinese text (a name?)": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]"),
    "a resident identity number": re.compile(_NOT_HEX.format(r"[0-9]{17}[0-9Xx]")),
    "a mobile phone number": re.compile(_NOT_HEX.format(r"1[3-9][0-9]{9}")),
    "a licence plate": re.compile(f"[{_PROVINCES}][A-Z][A-Z0-9]{{4,6}}"),
}


def personal_data_in_leaves(engine: Engine) -> list[str]:
    """What looks like personal data in any leaf, as "leaf N: what"; empty when there is none."""
    found = []
    with engine.connect() as conn:
        for index, data in conn.execute(select(Leaf.leaf_index, Leaf.data)):
            text = bytes(data).decode("utf-8", errors="replace")
            found += [
                f"leaf {index}: {what}"
                for what, pattern in PATTERNS.items()
                if pattern.search(text)
            ]
    return found
