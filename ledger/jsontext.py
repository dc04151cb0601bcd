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
import rfc8785

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
        if orjson.dumps(value, option=_CANONICAL) != data or not _plain(value):
            return None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return value


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of `value`: what every leaf, key id and commitment hashes.

    orjson writes it when `value` holds JSON's own types only, no float, and its text comes out
    ASCII: for such values orjson's compact encoding with sorted keys is RFC 8785's (see
    `canonical_value`), at a tenth of the reference implementation's cost. Anything else goes to
    the reference implementation, rfc8785, which also refuses what RFC 8785 cannot write."""
    if _plain(value):
        try:
            text = orjson.dumps(value, option=_CANONICAL)
        except orjson.JSONEncodeError:  # an integer beyond 2^53: rfc8785 says so in its words
            text = b""
        if text and text.isascii():
            return text
    return rfc8785.dumps(value)


_SCALARS = (str, int, bool, type(None))


def _plain(value: Any) -> bool:
    """Only JSON's own types in `value` and no float (RFC 8785 writes some floats unlike orjson,
    e.g. 1.0). Exact types: orjson writes a subclass, a dataclass or a date its own way, where
    rfc8785 writes or refuses it by RFC 8785."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind not in _SCALARS:
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
