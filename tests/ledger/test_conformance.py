"""Every RFC 9162 vector in ../shared/vectors/rfc9162, accepting and rejecting alike."""

import base64
import json
from pathlib import Path

import pytest

from ledger import merkle
from ledger.errors import VerificationError

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "rfc9162"


def _cases(kind):
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def _b64(values):
    return [base64.b64decode(v) for v in values or []]


def test_the_vector_folders_are_all_there():
    # A missing checkout of shared/ must fail loudly, not pass on zero vectors.
    assert len(_cases("inclusion")) == 98
    assert len(_cases("consistency")) == 98


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_inclusion_vector(case):
    leaf, root = base64.b64decode(case["leafHash"]), base64.b64decode(case["root"])
    args = (case["leafIdx"], case["treeSize"], leaf, _b64(case["proof"]), root)
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", _cases("consistency"))
def test_consistency_vector(case):
    root1, root2 = base64.b64decode(case["root1"]), base64.b64decode(case["root2"])
    args = (case["size1"], case["size2"], root1, root2, _b64(case["proof"]))
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)
