"""Parsing untrusted JSON text with a depth limit checked before the parser runs.

The parser's own recursion cannot be the guard: py_ecc (under web3) raises
the interpreter's recursion limit to 100,000 on import, and text nested that
deep then crashes the process instead of raising RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from ledger.errors import InvalidInput

MAX_NESTING = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes included
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting(data: bytes) -> int:
    """How deep arrays and objects nest in `data`, brackets inside strings not counted."""
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def loads(
    data: bytes | str,
    what: str = "the input",
    max_nesting: int = MAX_NESTING,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """`json.loads`, refusing text nested deeper than `max_nesting` or not JSON with
    InvalidInput."""
    raw = data.encode() if isinstance(data, str) else data
    if nesting(raw) > max_nesting:
        raise InvalidInput(f"{what} nests deeper than {max_nesting} levels")
    try:
        return json.loads(raw, object_pairs_hook=object_pairs_hook)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc}") from None
