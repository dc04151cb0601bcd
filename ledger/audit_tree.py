"""The audit's tree check, one aligned span of leaves at a time (used by ledger/audit.py).

A span is the perfect subtree of 2**SPAN_LEVEL leaves that starts at a multiple of its size. Its
stored nodes are
read in one query, level by level, and compared as whole lists: a list comparison runs in C, so
an honest span costs one hash per node and nothing per comparison. Only a span whose lists differ is
walked node by node to name what differs. Above the spans, two compact ranges of span roots carry
the tree on: one of the truth (hashes recomputed from the leaf bytes), one of the stored nodes.

A stored node is blamed only when it is not the hash of its own stored children (its children as
judged, that is: an altered child is replaced by what its children say), so one altered leaf is not
also reported as log n altered nodes. Memory is O(span + log n) whatever the log's size.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from ledger import db, merkle
from ledger.merkle import CompactRange, NodeId
from ledger.storage import node_rows

SPAN_LEVEL = 12  # 4,096 leaves per span: about 1 MiB of events in one query


class StoredSpan:
    """The stored nodes inside one span, level by level, None where a node is missing."""

    def __init__(self, start: int, levels: list[list[bytes | None]]) -> None:
        self.start = start
        self.levels = levels

    def get(self, level: int, index: int) -> bytes | None:
        """The stored node (level, index) of this span, if it is there."""
        return self.levels[level][index - (self.start >> level)]


class Tree:
    """The tree recomputed so far, and the stored nodes judged against it."""

    def __init__(self, report: Findings) -> None:
        self.report = report
        self.level = SPAN_LEVEL  # read when the audit starts: tests make spans small
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

    def stored_nodes(self, session: Session, start: int, end: int) -> StoredSpan:
        """The stored nodes that the leaves start <= index < end complete, in one query."""
        levels: list[list[bytes | None]] = []
        params: list[int] = []
        for level in range(self.level + 1):
            count = (end - start) >> level
            if count == 0:
                break
            levels.append([None] * count)
            params += [level, start >> level, (start >> level) + count]
        terms = " OR ".join(["(level = ? AND node_index >= ? AND node_index < ?)"] * len(levels))
        sql = f"SELECT level, node_index, hash FROM log_nodes WHERE {terms}"
        for level, index, digest in db.driver_rows(session, sql, params):
            levels[level][index - (start >> level)] = bytes(digest)
        return StoredSpan(start, levels)

    def grow(self, session: Session, start: int, truth: list[bytes], stored: StoredSpan) -> None:
        """Add the span's leaves (their true hashes, in order) and judge its stored nodes."""
        judged = self._judge_leaves(start, truth, stored.levels[0][: len(truth)])
        truth_levels, judged_levels = [truth], [judged]
        for level in range(1, self.level + 1):
            count = len(truth) >> level
            if count == 0:
                break
            expected = _parents(judged_levels[-1], count)
            self._judge_nodes(level, start >> level, stored.levels[level][:count], expected)
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

    def _judge_leaves(
        self, start: int, truth: list[bytes], stored: list[bytes | None]
    ) -> list[bytes]:
        """The level-0 nodes as judged: the stored ones where present, named where they differ."""
        self.report.nodes += len(stored) - stored.count(None)
        if stored == truth:
            return truth
        judged = list(truth)
        for offset, (node, true_hash) in enumerate(zip(stored, truth, strict=True)):
            if node is None:
                self.report.add(f"leaf {start + offset}", "its tree node (level 0) is missing")
            elif node != true_hash:
                self.report.add(
                    f"leaf {start + offset}",
                    "its bytes do not match the tree's stored leaf node: "
                    "the event was changed, swapped or inserted",
                )
                judged[offset] = node
        return judged

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
        elif stored != expected:
            self.report.add(
                node_name(node_id), "is not the hash of its two children: the node was altered"
            )


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
