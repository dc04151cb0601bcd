"""Every RFC 9162 vector in ../shared/vectors/rfc9162, accepting and rejecting alike."""

import base64

import pytest

from ledger import merkle
from ledger.errors import VerificationError
from tests.support.vectors import b64_list, cases


def test_the_vector_folders_are_all_there():
    # A missing checkout of shared/ must fail loudly, not pass on zero vectors.
    assert len(cases("inclusion")) == 98
    assert len(cases("consistency")) == 98


@pytest.mark.parametrize("case", cases("inclusion"))
def test_inclusion_vector(case):
    leaf, root = base64.b64decode(case["leafHash"]), base64.b64decode(case["root"])
    args = (case["leafIdx"], case["treeSize"], leaf, b64_list(case["proof"]), root)
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", cases("consistency"))
def test_consistency_vector(case):
    root1, root2 = base64.b64decode(case["root1"]), base64.b64decode(case["root2"])
    args = (case["size1"], case["size2"], root1, root2, b64_list(case["proof"]))
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)
