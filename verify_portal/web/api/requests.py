"""Reading requests strictly: JSON bodies, query integers, Idempotency-Key."""

from __future__ import annotations

from typing import Any

from flask import request

from ledger import jsontext
from ledger.bounds import MAX_INT64, whole_number
from ledger.cases import Idempotency
from ledger.errors import InvalidInput


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; anything else is a clear 400 (or 415)."""
    if request.mimetype != "application/json":
        raise InvalidInput(
            f"send the body as application/json, not {request.mimetype or 'nothing'}"
        )
    body = jsontext.loads(
        request.get_data(cache=True), "the body", object_pairs_hook=_no_duplicate_keys
    )
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object, not {type(body).__name__}")
    return body


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise InvalidInput(
            f"the body repeats a key: {sorted(k for k in keys if keys.count(k) > 1)[0]!r}"
        )
    return dict(pairs)


def only_fields(
    body: dict[str, Any], allowed: set[str], required: frozenset[str] = frozenset()
) -> None:
    """Refuse unknown fields and missing required ones, naming them."""
    unknown, missing = set(body) - allowed, required - set(body)
    if unknown:
        raise InvalidInput(
            f"unknown fields: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )
    if missing:
        raise InvalidInput(f"missing fields: {', '.join(sorted(missing))}")


def int_arg(name: str, default: int | None = None, maximum: int = MAX_INT64) -> int | None:
    """A whole-number query parameter from 0 to `maximum` (the database's 64-bit range by
    default)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    return whole_number(raw, f"query parameter {name!r}", maximum)


def required_int_arg(name: str) -> int:
    value = int_arg(name)
    if value is None:
        raise InvalidInput(f"query parameter {name!r} is required")
    return value


def idempotency() -> Idempotency | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    return Idempotency.of(key, request.method, request.path, request.get_data(cache=True))
