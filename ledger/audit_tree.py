"""The audit's tree check, one aligned span of leaves at a time (used by ledger/audit.py).

A span is the perfect subtree of 2**SPAN_LEVEL leaves that starts at a multiple of its size. Its
stored nodes (ledger/storage.py: from STORED_FROM_LEVEL up; below, the leaves' stored hashes stand
for the tree) are read in one query, level by level, and compared as whole lists: a list
comparison runs in C, so an honest span costs one hash per node and nothing per comparison. Only a
span whose lists differ is walked node by node to name what differs. Above the spans, two compact
ranges of span roots carry the tree on: one of the truth (hashes recomputed from the leaf bytes),
one of the stored nodes.

A stored node is blamed only when it is not the hash of its own stored children (its children as
judged, that is: an altered child is replaced by what its children say), so one altered leaf is not
also reported as log n altered nodes. Memory is O(span + log n) whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ledger import db, merkle, storage
from ledger.merkle import CompactRange, NodeId
from ledger.storage import node_rows

SPAN_LEVEL = 12  # 4,096 leaves per span: about 1 MiB of events in one query


class StoredSpan:
    """What one span stores, level by level: the leaves' stored hashes at level 0, then the stored
    nodes; None for a missing row, and for a whole level that is not stored."""

    def __init__(self, start: int, levels: list[list[bytes | None] | None]) -> None:
        self.start = start
        self.levels = levels


class Tree:
    """The tree recomputed so far, and the stored nodes judged against it."""

    def __init__(self, report: Findings) -> None:
        self.report = report
        self.level = SPAN_LEVEL  # read when the audit starts: tests make spans small
        if self.level < storage.STORED_FROM_LEVEL:  # each span's root must be a stored node
            raise ValueError(f"audit spans of level {self.level} are below the stored nodes")
        self.span = 1 << self.level
        self.size = 0
        self.truth_top = CompactRange()  # span roots from the leaf bytes
        self.stored_top = CompactRange()  # span roots from the stored nodes, as judged
        self._prefix: list[bytes] = []  # truth_top's border where the current span starts
        self._start = 0
        self._truth: list[list[bytes]] = []  # the current span's true hashes, by level

    def start_at(self, session: Session, size: int) -> bool:
        """Start from the stored border of the tree at `size`, a multiple of the span (an
        incremental audit, which checks the root at its starting size); False if a node is
        missing."""
        ids = CompactRange.border_nodes(size)
        found = {NodeId(lv, i): bytes(h) for lv, i, h in node_rows(session, set(ids))}
        if len(found) != len(ids):
            return False
        border = [found[n] for n in ids]
        self.truth_top = CompactRange(size >> self.level, border)
        self.stored_top = CompactRange(size >> self.level, border)
        self._prefix, self._start, self._truth, self.size = list(border), size, [], size
        return True

    def stored_nodes(
        self, session: Session, start: int, end: int, leaves: Sequence[Sequence[Any]]
    ) -> StoredSpan:
        """The stored hashes of the leaf rows start <= index < end (index first, leaf hash third),
        and the stored nodes those leaves complete, read in one query."""
        hashes: list[bytes | None] = [None] * (end - start)
        for row in leaves:
            hashes[row[0] - start] = bytes(row[2])
        levels: list[list[bytes | None] | None] = [hashes]
        params: list[int] = []
        for level in range(1, self.level + 1):
            count = (end - start) >> level
            if count == 0:
                break
            stored = level >= storage.STORED_FROM_LEVEL
            levels.append([None] * count if stored else None)
            params += [level, start >> level, (start >> level) + count] if stored else []
        if params:
            terms = " OR ".join(
                ["(level = ? AND node_index >= ? AND node_index < ?)"] * (len(params) // 3)
            )
            sql = f"SELECT level, node_index, hash FROM log_nodes WHERE {terms}"
            for level, index, digest in db.driver_rows(session, sql, params):
                stored_level = levels[level]
                assert stored_level is not None  # only stored levels were asked for
                stored_level[index - (start >> level)] = bytes(digest)
        return StoredSpan(start, levels)

    def grow(self, session: Session, start: int, truth: list[bytes], stored: StoredSpan) -> None:
        """Add the span's leaves (their true hashes, in order) and judge its stored nodes."""
        leaves = stored.levels[0]
        assert leaves is not None  # level 0: the leaves' stored hashes, always read
        judged = _judged_leaves(truth, leaves[: len(truth)])
        truth_levels, judged_levels = [truth], [judged]
        for level in range(1, self.level + 1):
            count = len(truth) >> level
            if count == 0:
                break
            expected = _parents(judged_levels[-1], count)
            nodes = stored.levels[level]
            if nodes is not None:
                self._judge_nodes(level, start >> level, nodes[:count], expected)
            same = truth_levels[-1] is judged_levels[-1]
            truth_levels.append(expected if same else _parents(truth_levels[-1], count))
            judged_levels.append(expected)
        self._start, self._truth, self._prefix = start, truth_levels, list(self.truth_top.border)
        self.size = start + len(truth)
        if len(truth) == self.span:
            self.truth_top.append(truth_levels[self.level][0])
            created = self.stored_top.append(judged_levels[self.level][0])
            self._judge_top(session, created[1:])  # the first is the span's root, judged above

    def root(self, size: int) -> bytes:
        """The true root at `size`, within the span grown last."""
        offset, border = size - self._start, list(self._prefix)
        done = 0
        for level in range(self.level, -1, -1):  # the set bits of the offset, largest first
            if offset >> level & 1:
                border.append(self._truth[level][done >> level])
                done += 1 << level
        return merkle.fold_range(border)

    def _judge_nodes(
        self, level: int, first: int, stored: list[bytes | None], expected: list[bytes]
    ) -> None:
        self.report.nodes += len(stored) - stored.count(None)
        if stored == expected:
            return
        for offset, (node, want) in enumerate(zip(stored, expected, strict=True)):
            self._judge_node(NodeId(level, first + offset), node, want)

    def _judge_top(self, session: Session, created: list[tuple[NodeId, bytes]]) -> None:
        """Judge the nodes above the spans that the last span's root completed."""
        ids = [NodeId(n.level + self.level, n.index) for n, _ in created]
        if not ids:
            return
        found = {NodeId(lv, i): bytes(h) for lv, i, h in node_rows(session, set(ids))}
        self.report.nodes += len(found)
        for node_id, (_, want) in zip(ids, created, strict=True):
            self._judge_node(node_id, found.get(node_id), want)

    def _judge_node(self, node_id: NodeId, stored: bytes | None, expected: bytes) -> None:
        if stored is None:
            self.report.add(node_name(node_id), "is missing")
        elif stored != expected and node_id.level == storage.STORED_FROM_LEVEL:
            first = node_id.index << node_id.level
            last = first + (1 << node_id.level) - 1
            self.report.add(  # its children are not stored: which of them changed is not known
                node_name(node_id),
                f"is not the tree hash of the stored leaf hashes {first} to {last}: the node, or "
                "one of those leaves with its stored hash, was altered",
            )
        elif stored != expected:
            self.report.add(
                node_name(node_id), "is not the hash of its two children: the node was altered"
            )


def _judged_leaves(truth: list[bytes], stored: list[bytes | None]) -> list[bytes]:
    """The leaf hashes the stored nodes are judged by: the stored ones, the true one where a row
    has none (the audit names each leaf whose bytes do not give its stored hash)."""
    if stored == truth:
        return truth
    return [true if hash_ is None else hash_ for hash_, true in zip(stored, truth, strict=True)]


def _parents(children: list[bytes], count: int) -> list[bytes]:
    """The `count` parents of consecutive pairs of `children` (RFC 9162 §2.1.1 node hashes)."""
    node_hash = merkle.node_hash
    return [node_hash(children[2 * i], children[2 * i + 1]) for i in range(count)]


def node_name(node: NodeId) -> str:
    return f"node (level {node.level}, index {node.index})"


class Findings(Protocol):
    """What the tree check reports to (ledger.audit.AuditReport)."""

    nodes: int

    def add(self, where: str, problem: str, case_no: str | None = None) -> None: ...
