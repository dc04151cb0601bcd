"""EvidenceAnchor on a real anvil: anchors extend history, never rewrite it; only anchorers
write."""

import random

import pytest

from anchor.account import development_account
from anchor.errors import AnchorRefused
from ledger.errors import VerificationError
from tests.anchor import trees
from tests.anchor.support import transact

TREE = trees.leaves(300)


def anchor(contract, size, proof=(), root=None, sender=0):
    return transact(
        contract, "anchor", size, root or trees.root(TREE, size), list(proof), sender=sender
    )


def refusal(excinfo):
    return excinfo.value.details["error"]


def test_the_first_anchor_is_taken_without_a_proof(contract):
    anchor(contract, 5)
    assert contract.latest() == (5, trees.root(TREE, 5))


def test_a_chain_of_anchors_with_consistency_proofs_is_accepted(contract):
    sizes = [1, 2, 3, 4, 7, 8, 9, 64, 100, 255, 256, 300]
    anchor(contract, sizes[0])
    for old, new in zip(sizes, sizes[1:], strict=False):
        anchor(contract, new, trees.consistency(TREE, old, new))
    assert contract.latest() == (300, trees.root(TREE, 300))
    assert all(contract.root_at(s) == trees.root(TREE, s) for s in sizes)
    assert contract.root_at(6) is None


def test_each_anchor_emits_anchored_with_the_previous_size(contract):
    anchor(contract, 10)
    anchor(contract, 20, trees.consistency(TREE, 10, 20))
    events = contract.anchored_events(0)
    assert [(e.size, e.root, e.previous_size) for e in events] == [
        (10, trees.root(TREE, 10), 0),
        (20, trees.root(TREE, 20), 10),
    ]


def test_a_wrong_consistency_proof_is_refused_as_inconsistent_history(contract):
    anchor(contract, 10)
    proof = trees.consistency(TREE, 10, 20)
    proof[-1] = bytes(32)
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 20, proof)
    assert refusal(excinfo) == "InconsistentHistory"
    assert contract.latest()[0] == 10


def test_a_forked_history_is_refused(contract):
    anchor(contract, 10)
    fork = TREE[:5] + trees.leaves(20, seed=99)  # same first five leaves, a different sixth onwards
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 20, trees.consistency(fork, 10, 20), root=trees.root(fork, 20))
    assert refusal(excinfo) == "InconsistentHistory"


def test_a_proof_of_the_wrong_length_is_refused_as_malformed(contract):
    anchor(contract, 10)
    proof = trees.consistency(TREE, 10, 20)
    for wrong in (proof[:-1], proof + [bytes(32)], []):
        with pytest.raises(AnchorRefused) as excinfo:
            anchor(contract, 20, wrong)
        assert refusal(excinfo) == "MalformedProof"


def test_a_shrinking_size_is_refused(contract):
    anchor(contract, 10)
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 9, trees.consistency(TREE, 9, 10))
    assert refusal(excinfo) == "SizeNotIncreasing"


def test_a_changed_root_for_an_anchored_size_is_refused_as_root_conflict(contract):
    anchor(contract, 10)
    anchor(contract, 20, trees.consistency(TREE, 10, 20))
    for size in (10, 20):
        with pytest.raises(AnchorRefused) as excinfo:
            anchor(contract, size, root=b"\x01" * 32)
        assert refusal(excinfo) == "RootConflict"


def test_the_same_anchor_twice_is_refused(contract):
    anchor(contract, 10)
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 10)
    assert refusal(excinfo) == "AlreadyAnchored"
    assert contract.functions.anchorCount().call() == 1


def test_a_first_anchor_with_a_proof_or_of_an_empty_log_is_refused(contract):
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 10, [bytes(32)])
    assert refusal(excinfo) == "UnexpectedProof"
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 0, root=bytes(32))
    assert refusal(excinfo) == "EmptyLog"


def test_an_unauthorised_sender_is_refused(contract):
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 10, sender=1)
    assert refusal(excinfo) == "NotAnchorer"


def test_the_owner_adds_and_removes_anchorers(contract):
    second = development_account(1).address
    transact(contract, "addAnchorer", second)
    anchor(contract, 10, sender=1)
    transact(contract, "removeAnchorer", second)
    with pytest.raises(AnchorRefused) as excinfo:
        anchor(contract, 20, trees.consistency(TREE, 10, 20), sender=1)
    assert refusal(excinfo) == "NotAnchorer"


def test_only_the_owner_manages_anchorers(contract):
    with pytest.raises(AnchorRefused) as excinfo:
        transact(contract, "addAnchorer", development_account(2).address, sender=1)
    assert refusal(excinfo) == "NotOwner"


def test_ownership_moves_only_when_the_new_owner_accepts(contract):
    new_owner = development_account(1).address
    transact(contract, "transferOwnership", new_owner)
    assert contract.functions.owner().call() == development_account(0).address
    with pytest.raises(AnchorRefused) as excinfo:
        transact(contract, "acceptOwnership", sender=2)
    assert refusal(excinfo) == "NotPendingOwner"
    transact(contract, "acceptOwnership", sender=1)
    assert contract.functions.owner().call() == new_owner
    with pytest.raises(AnchorRefused) as excinfo:
        transact(contract, "addAnchorer", new_owner, sender=0)
    assert refusal(excinfo) == "NotOwner"


def test_the_on_chain_inclusion_check_agrees_with_python_on_random_trees(contract):
    anchor(contract, 137)

    rng = random.Random(7)
    for index in rng.sample(range(137), 25):
        contract.verify_inclusion(TREE[index], index, 137, trees.inclusion(TREE, index, 137))
    proof = trees.inclusion(TREE, 3, 137)
    with pytest.raises(VerificationError, match="RootMismatch"):
        contract.verify_inclusion(TREE[4], 3, 137, proof)
    with pytest.raises(VerificationError, match="MalformedProof"):
        contract.verify_inclusion(TREE[3], 3, 137, proof[:-1])
    with pytest.raises(VerificationError, match="IndexOutOfRange"):
        contract.verify_inclusion(TREE[3], 137, 137, proof)
    with pytest.raises(VerificationError, match="NotAnchored"):
        contract.verify_inclusion(TREE[3], 3, 136, trees.inclusion(TREE, 3, 136))
