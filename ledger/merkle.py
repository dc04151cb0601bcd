"""RFC 9162 §2.1 Merkle tree: hashing, proofs and their verifiers. Pure: no I/O.

Storage keeps the hash of every *perfect* subtree: node `(level, index)`
covers leaves `[index << level, (index + 1) << level)`. Any subtree hash that
RFC 9162 needs (a root, a proof element) is the hash of a range `[start, end)`
whose start is aligned to a power of two at least `end - start`; such a range
is a handful of perfect subtrees, largest first (`range_nodes`), folded from
the right (`fold_range`). That is how roots and proofs cost O(log n) reads.

The proof builders here only name the ranges they need; the caller fetches
the node hashes (from memory or a database) and folds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.errors import InvalidInput, VerificationError

LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1: domain separation of leaves ...
NODE_PREFIX = b"\x01"  # ... from interior nodes (no second preimages).
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (§2.1.1)


@dataclass(frozen=True, order=True)
class NodeId:
    """A perfect subtree: `level` 0 is a leaf, `index` counts from the left."""

    level: int
    index: int


def leaf_hash(data: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2), RFC 9162 §2.1.1's k."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees that tile `[start, end)`, left to right.

    Each step takes the largest subtree that is aligned at `start`
    (`start & -start` is the lowest set bit, i.e. the alignment) and fits.
    """
    nodes = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)  # largest power of two that fits
        if start:
            size = min(size, start & -start)  # ... and keeps the subtree aligned
        level = size.bit_length() - 1
        nodes.append(NodeId(level, start >> level))
        start += size
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Hash of an RFC range from its perfect subtrees, largest first.

    MTH splits n leaves into the largest power of two k < n and the rest, so
    the leftmost subtree pairs with the hash of everything to its right.
    """
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[size]) (§2.1.3.1), leaf first."""
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is not in a tree of size {size}")
    path = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:  # leaf on the left: the sibling is the right part
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    return path[::-1]


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(size1, D[size2]) (§2.1.4.1), deepest first."""
    if not 0 < size1 <= size2:
        raise InvalidInput(f"no consistency proof from size {size1} to size {size2}")
    proof = []
    lo, hi, whole = 0, size2, True  # `whole`: SUBPROOF's b, the old tree is D[0:size1] itself
    while size1 != hi:
        k = split_point(hi - lo)
        if size1 - lo <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:
        proof.append((lo, hi))  # SUBPROOF(m, D[m], false) = MTH(D[m])
    return proof[::-1]


def nodes_for_ranges(ranges: Iterable[tuple[int, int]]) -> set[NodeId]:
    """Every stored node that `hash_ranges` will ask for: one batched read."""
    return {node for start, end in ranges for node in range_nodes(start, end)}


def hash_ranges(ranges: Iterable[tuple[int, int]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The hashes of RFC ranges, given the perfect subtree hashes they need."""
    return [fold_range([nodes[n] for n in range_nodes(s, e)]) for s, e in ranges]


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, in memory (tests, small trees)."""
    return CompactRange.of(leaf_hashes).root()


class CompactRange:
    """The right border of a growing tree: one perfect subtree per set bit of its size.

    Appending a leaf merges equal-sized subtrees like a binary counter
    increment; each merge is a new stored node. Used to append and to audit.
    """

    def __init__(self, size: int = 0, border: Sequence[bytes] = ()) -> None:
        if len(border) != size.bit_count():
            raise InvalidInput(
                f"a border of a tree of size {size} has {size.bit_count()} nodes, got {len(border)}"
            )
        self.size = size
        self.border = list(border)  # largest subtree first

    @classmethod
    def of(cls, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """The compact range of a whole list of leaves."""
        compact = cls()
        for h in leaf_hashes:
            compact.append(h)
        return compact

    @staticmethod
    def border_nodes(size: int) -> list[NodeId]:
        """The stored nodes that make up the border of a tree of `size` leaves."""
        return range_nodes(0, size)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return the new perfect nodes, the leaf first."""
        index = self.size
        created = [(NodeId(0, index), leaf)]
        acc, level = leaf, 0
        while index & 1:  # a right child completes its parent: merge, carry up
            acc = node_hash(self.border.pop(), acc)
            index >>= 1
            level += 1
            created.append((NodeId(level, index), acc))
        self.border.append(acc)
        self.size += 1
        return created

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        return fold_range(self.border)


# --- verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Recompute the root that an inclusion proof leads to (§2.1.3.2 steps 1-5)."""
    if size <= 0 or index >= size or index < 0:
        raise VerificationError(
            f"inclusion proof: leaf index {index} is not in a tree of size {size}"
        )
    expected = _inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise VerificationError(
            f"inclusion proof has wrong size: expected {expected}, got {len(proof)}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if (
            fn & 1 or fn == sn
        ):  # we are a right child, or the last node of a level (no right sibling)
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:  # skip levels where the last node was promoted unpaired
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise VerificationError unless `leaf` is at `index` in the tree of `size` with `root`."""
    for name, value in (("leaf hash", leaf), ("root", root), *(("proof node", p) for p in proof)):
        if len(value) != HASH_SIZE:
            raise VerificationError(
                f"inclusion proof: {name} has {len(value)} bytes, expected {HASH_SIZE}"
            )
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    if computed != root:
        raise VerificationError(
            f"inclusion proof leads to root {computed.hex()}, expected {root.hex()} at size {size}"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise VerificationError unless the tree `(size2, root2)` extends `(size1, root1)`."""
    if size1 <= 0:
        raise VerificationError(
            f"consistency proof from size {size1}: the first tree must not be empty"
        )
    if size2 < size1:
        raise VerificationError(f"consistency proof: size {size2} is smaller than size {size1}")
    if size1 == size2:
        if proof:
            raise VerificationError(
                f"consistency proof has wrong size: expected 0, got {len(proof)}"
            )
        if root1 != root2:
            raise VerificationError(f"consistency proof: roots differ at the same size {size1}")
        return
    expected = len(consistency_ranges(size1, size2))
    if len(proof) != expected:
        raise VerificationError(
            f"consistency proof has wrong size: expected {expected}, got {len(proof)}"
        )
    old, new = _roots_from_consistency_proof(size1, size2, root1, proof)
    if old != root1:
        raise VerificationError(f"consistency proof does not lead to the root of size {size1}")
    if new != root2:
        raise VerificationError(f"consistency proof does not lead to the root of size {size2}")


def _roots_from_consistency_proof(
    size1: int, size2: int, root1: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    path = list(proof)
    if (
        size1 & (size1 - 1) == 0
    ):  # size1 is a power of two: the old root is itself a node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # climb to the lowest node that is not a right child of a full subtree
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("consistency proof is shorter than the tree is deep")
    return fr, sr


def _inclusion_proof_length(index: int, size: int) -> int:
    """Nodes in PATH(index, D[size]).

    Below the highest bit where `index` and `size - 1` differ, the leaf sits in
    a perfect subtree: one sibling per level. Above it the two share their
    bits: a set bit there is a full left subtree (one more sibling), a clear
    bit a level where the right border is promoted unpaired (none).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


@dataclass(frozen=True)
class InclusionProof:
    """A leaf's audit path (RFC 9162 §2.1.3) to the root of a tree of `size` leaves."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    proof: list[bytes]

    def to_json(self) -> dict[str, object]:
        """The public API's form (DESIGN.md): hashes as lowercase hex."""
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root": self.root.hex(),
            "proof": [h.hex() for h in self.proof],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The proof (RFC 9162 §2.1.4) that the tree of `size2` leaves extends that of `size1`."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: list[bytes]

    def to_json(self) -> dict[str, object]:
        """The public API's form (DESIGN.md): hashes as lowercase hex."""
        return {
            "from": self.size1,
            "to": self.size2,
            "root_from": self.root1.hex(),
            "root_to": self.root2.hex(),
            "proof": [h.hex() for h in self.proof],
        }
