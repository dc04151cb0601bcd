"""In-memory Merkle trees for the chain tests: roots and proofs computed from leaf lists."""

from __future__ import annotations

import random

from ledger import merkle


def leaves(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [merkle.leaf_hash(rng.randbytes(40)) for _ in range(n)]


def root(tree: list[bytes], size: int) -> bytes:
    return merkle.root_from_leaves(tree[:size])


def consistency(tree: list[bytes], size1: int, size2: int) -> list[bytes]:
    return [merkle.root_from_leaves(tree[a:b]) for a, b in merkle.consistency_ranges(size1, size2)]


def inclusion(tree: list[bytes], index: int, size: int) -> list[bytes]:
    return [merkle.root_from_leaves(tree[a:b]) for a, b in merkle.inclusion_ranges(index, size)]
