"""The RFC 9162 conformance vectors in ../shared/vectors/rfc9162, as pytest parameters."""

import base64
import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "rfc9162"


def cases(kind):
    """Every vector of `kind` (inclusion, consistency, ...), each named by its file."""
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def b64_list(values):
    """A vector's base64 hashes as bytes."""
    return [base64.b64decode(v) for v in values or []]
