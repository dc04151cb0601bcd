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

import orjson

from ledger.errors import InvalidInput

MAX_NESTING = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes included
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting(data: bytes) -> int:
    """How deep arrays and objects nest in `data`, brackets inside strings not counted."""
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def nests_at_most(data: bytes, limit: int) -> bool:
    """Whether arrays and objects nest at most `limit` deep in `data`. Each bracket opens at most
    one level, so a document with few of them needs no exact scan."""
    return data.count(b"[") + data.count(b"{") <= limit or nesting(data) <= limit


# RFC 8785 §3.2.2.3: numbers are IEEE 754 doubles, so integers stop at 2^53 - 1 (the strict
# option refuses larger ones); keys sorted as RFC 8785 sorts ASCII keys (§3.2.3).
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def canonical_value(data: bytes) -> Any | None:
    """The value of `data` when a fast check proves it RFC 8785 canonical; None when the check
    cannot tell, and the caller asks the reference implementation (rfc8785).

    The check: ASCII text whose numbers are all safe integers, and which orjson's compact encoding
    with sorted keys gives back byte for byte. For such values that encoding is RFC 8785's: keys
    sort alike when they are ASCII (§3.2.3), integers print alike, and strings escape alike
    (§3.2.2.2; tests/ledger/test_jsontext.py compares every ASCII character)."""
    if not data.isascii():
        return None
    try:
        value = orjson.loads(data)
        if orjson.dumps(value, option=_CANONICAL) != data or not _no_floats(value):
            return None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return value


def _no_floats(value: Any) -> bool:
    """No float anywhere in `value` (RFC 8785 writes some of them unlike orjson, e.g. 1.0)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)  # exact types: orjson makes nothing else
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is float:
            return False
    return True


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
