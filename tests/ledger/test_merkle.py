"""RFC 9162 tree hashing and proofs, against pymerkle 7 as an independent oracle."""

import random

import pytest
from pymerkle import InmemoryTree

from ledger import merkle
from ledger.errors import InvalidInput, VerificationError


def _leaves(n):
    return [merkle.leaf_hash(b"event %d" % i) for i in range(n)]


def _nodes(leaves):
    """Every perfect subtree hash of a list of leaves, as storage would hold them."""
    compact, nodes = merkle.CompactRange(), {}
    for leaf in leaves:
        nodes.update(compact.append(leaf))
    return nodes


def _proof(ranges, nodes):
    return merkle.hash_ranges(ranges, nodes)


def test_leaf_and_node_hashes_are_domain_separated():
    data = b"x" * 64
    assert merkle.leaf_hash(data) != merkle.node_hash(data[:32], data[32:])


def test_empty_tree_root_is_sha256_of_nothing():
    assert (
        merkle.root_from_leaves([]).hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_range_nodes_tile_a_range_with_aligned_perfect_subtrees():
    assert merkle.range_nodes(0, 7) == [
        merkle.NodeId(2, 0),
        merkle.NodeId(1, 2),
        merkle.NodeId(0, 6),
    ]
    assert merkle.range_nodes(8, 11) == [merkle.NodeId(1, 4), merkle.NodeId(0, 10)]


def test_inclusion_proof_for_an_index_beyond_the_tree_is_refused():
    with pytest.raises(InvalidInput, match="not in a tree of size 4"):
        merkle.inclusion_ranges(4, 4)


def test_consistency_proof_from_a_larger_size_is_refused():
    with pytest.raises(InvalidInput, match="from size 5 to size 4"):
        merkle.consistency_ranges(5, 4)


def test_inclusion_verifier_names_a_wrong_proof_length():
    leaves = _leaves(5)
    nodes = _nodes(leaves)
    proof = _proof(merkle.inclusion_ranges(1, 5), nodes)
    with pytest.raises(
        VerificationError, match="inclusion proof has wrong size: expected 3, got 2"
    ):
        merkle.verify_inclusion(1, 5, leaves[1], proof[:2], merkle.root_from_leaves(leaves))


def test_inclusion_verifier_names_the_root_mismatch():
    leaves = _leaves(5)
    proof = _proof(merkle.inclusion_ranges(1, 5), _nodes(leaves))
    with pytest.raises(VerificationError, match="leads to root .* expected"):
        merkle.verify_inclusion(1, 5, leaves[2], proof, merkle.root_from_leaves(leaves))


@pytest.mark.parametrize("seed", range(4))
def test_roots_and_proofs_agree_with_pymerkle_on_random_trees(seed):
    rng = random.Random(seed)
    size = rng.randint(1, 2100) if seed else 2048 + 17
    oracle = InmemoryTree(algorithm="sha256")
    entries = [rng.randbytes(rng.randint(0, 40)) for _ in range(size)]
    for e in entries:
        oracle.append_entry(e)
    leaves = [merkle.leaf_hash(e) for e in entries]
    nodes = _nodes(leaves)

    for n in sorted({1, 2, 3, size, *rng.sample(range(1, size + 1), min(size, 40))}):
        root = merkle.fold_range([nodes[x] for x in merkle.range_nodes(0, n)])
        assert root == oracle.get_root(n), f"root differs at size {n}"
        for i in rng.sample(range(n), min(n, 5)):
            proof = _proof(merkle.inclusion_ranges(i, n), nodes)
            # pymerkle is 1-based and puts the leaf itself first on its path.
            assert [p.hex() for p in proof] == oracle.prove_inclusion(i + 1, n).serialize()["path"][
                1:
            ]
            merkle.verify_inclusion(i, n, leaves[i], proof, root)
        for m in sorted({1, n, *rng.sample(range(1, n + 1), min(n, 5))}):
            proof = _proof(merkle.consistency_ranges(m, n), nodes)
            merkle.verify_consistency(m, n, oracle.get_root(m), root, proof)


def test_every_proof_of_a_small_tree_verifies_and_a_flipped_bit_fails():
    leaves = _leaves(33)
    nodes = _nodes(leaves)
    roots = [merkle.root_from_leaves(leaves[:n]) for n in range(34)]
    for n in range(1, 34):
        for i in range(n):
            proof = _proof(merkle.inclusion_ranges(i, n), nodes)
            merkle.verify_inclusion(i, n, leaves[i], proof, roots[n])
        for m in range(1, n + 1):
            proof = _proof(merkle.consistency_ranges(m, n), nodes)
            merkle.verify_consistency(m, n, roots[m], roots[n], proof)
            if proof:
                bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:]] + proof[1:]
                with pytest.raises(VerificationError):
                    merkle.verify_consistency(m, n, roots[m], roots[n], bad)
