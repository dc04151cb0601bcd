"""Numbers from outside, range-checked before they reach a database (PostgreSQL's bigint, SQLite's
INTEGER: both signed 64-bit). Pure: no I/O."""

from __future__ import annotations

import math
import re
import unicodedata

from ledger.errors import InvalidInput

MAX_INT64 = (1 << 63) - 1
_WHOLE = re.compile(r"[0-9]{1,19}")  # ASCII digits only: str.isdigit() also takes "²" and "٣"


def whole_number(text: str, what: str, maximum: int = MAX_INT64) -> int:
    """`text` as a whole number from 0 to `maximum`; InvalidInput naming the bound otherwise."""
    if not _WHOLE.fullmatch(text) or int(text) > maximum:
        raise InvalidInput(
            f"{what} must be a whole number from 0 to {maximum}, got {text[:40]!r}", maximum=maximum
        )
    return int(text)


def has_control_character(text: str, but: str = "") -> bool:
    """Whether `text` holds a control character other than those in `but` (NUL included, which
    PostgreSQL's text refuses) or a lone surrogate (which no encoding writes)."""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in but for c in text)


def finite_number(value: object, what: str, maximum: float) -> float:
    """A JSON number from 0 to `maximum` (not a bool, not NaN or infinite, which Python's JSON
    accepts)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= maximum
    ):
        raise InvalidInput(f"{what} must be a number from 0 to {maximum:g}", maximum=maximum)
    return value
