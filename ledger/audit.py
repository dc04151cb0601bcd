"""`lianzheng audit`: recompute the log from its stored leaves and name what differs.

One streaming pass in leaf order, memory O(log n + cases):
- each leaf's bytes are hashed and decoded; its case's hash chain is followed;
- two compact ranges grow side by side, one from the leaf bytes (the truth),
  one from the stored nodes; a stored node is blamed only if it is not the
  hash of its own stored children, so one altered leaf is not also reported
  as log n altered nodes;
- every checkpoint's signature is checked, and its root compared with the
  root recomputed at its size: all checkpoints agreeing with one recomputed
  tree is what makes each later one consistent with every earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import merkle
from ledger.checkpoint import parse_note
from ledger.cosignature import Cosigner, verified_cosigners
from ledger.errors import VerificationError
from ledger.events import Event
from ledger.merkle import CompactRange, NodeId
from ledger.models import CheckpointCosignature, CheckpointRecord, Leaf, LogHead, Node
from ledger.trust import TrustRoot, verify_checkpoint

BATCH = 5000
T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    where: (
        str  # "leaf 17", "node (level 2, index 3)", "checkpoint at size 9", "cases CG-2026-000001"
    )
    problem: str
    case_no: str | None = None  # the case it concerns, for linking to it

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class AuditReport:
    size: int = 0
    leaves: int = 0
    nodes: int = 0
    checkpoints: int = 0
    anchors: int | None = None  # anchored tree heads compared with the chain; None: not compared
    evidence: int | None = None  # evidence blobs checked against their hashes; None: not checked
    findings: list[Finding] = field(default_factory=list)
    acknowledged: list[Finding] = field(
        default_factory=list
    )  # known and explained, e.g. a device's gap

    @property
    def clean(self) -> bool:
        return not self.findings

    def add(self, where: str, problem: str, case_no: str | None = None) -> None:
        self.findings.append(Finding(where, problem, case_no))

    def acknowledge(self, where: str, problem: str, case_no: str | None = None) -> None:
        self.acknowledged.append(Finding(where, problem, case_no))

    def summary(self) -> str:
        verdict = "clean" if self.clean else f"{len(self.findings)} finding(s)"
        chain = (
            "no anchors compared with a chain"
            if self.anchors is None
            else f"{self.anchors} anchors compared with the chain"
        )
        blobs = "" if self.evidence is None else f", {self.evidence} evidence blobs verified"
        return (
            f"audit {verdict}: log size {self.size}, {self.leaves} leaves, {self.nodes} nodes, "
            f"{self.checkpoints} checkpoints checked, {chain}{blobs}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "size": self.size,
            "leaves": self.leaves,
            "nodes": self.nodes,
            "checkpoints": self.checkpoints,
            "anchors": self.anchors,
            "evidence": self.evidence,
            "findings": [_finding_json(f) for f in self.findings],
            "acknowledged": [_finding_json(f) for f in self.acknowledged],
        }


def _finding_json(finding: Finding) -> dict[str, str | None]:
    return {"where": finding.where, "problem": finding.problem, "case_no": finding.case_no}


Observer = Callable[[int, bytes, Event], None]  # (leaf index, leaf hash, event) of every valid leaf


def run(
    session: Session,
    root: TrustRoot,
    progress: Callable[[int, int], None] | None = None,
    observers: Sequence[Observer] = (),
) -> AuditReport:
    """Audit the whole log in `session`'s database; checkpoints must be signed as `root` says.

    Each observer sees every event in log order (the projections the derived tables are checked
    against)."""
    size = session.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one()
    report = _Audit(session, size, root, progress, observers).run()
    check_cosignatures(session, root, report)
    return report


def check_cosignatures(session: Session, root: TrustRoot, report: AuditReport) -> None:
    """Every stored cosignature of a witness the root lists must verify over the stored checkpoint
    of its size (DESIGN.md: The log, `audit`); lines of witnesses the root no longer lists are
    left alone: they were checked against that witness's key when they arrived."""
    by_name = {w.name: w.cosigner() for w in root.witnesses}
    rows = (
        select(CheckpointCosignature, CheckpointRecord.note)
        .outerjoin(CheckpointRecord, CheckpointRecord.size == CheckpointCosignature.size)
        .order_by(CheckpointCosignature.size, CheckpointCosignature.witness)
        .execution_options(yield_per=BATCH)
    )
    for row, note in session.execute(rows):
        where = f"cosignature of witness {row.witness} at size {row.size}"
        if note is None:
            report.add(where, "names a checkpoint the log does not hold")
        elif row.witness in by_name:
            _check_cosignature(note, row.line, by_name[row.witness], where, report)


def _check_cosignature(
    note: str, line: str, cosigner: Cosigner, where: str, report: AuditReport
) -> None:
    try:
        _, body, signatures = parse_note(note + line)
        if not verified_cosigners(body, signatures, [cosigner]):
            report.add(where, "is not a line by the witness's key")
    except VerificationError as exc:
        report.add(where, f"is forged or damaged: {exc.message}")


class _Audit:
    def __init__(
        self,
        session: Session,
        size: int,
        root: TrustRoot,
        progress: Callable[[int, int], None] | None,
        observers: Sequence[Observer],
    ) -> None:
        self.session, self.root, self.progress, self.observers = session, root, progress, observers
        self.report = AuditReport(size=size)
        self.truth = CompactRange()  # from the leaf bytes
        self.stored = CompactRange()  # from the stored nodes
        self.nodes = _PeekableStream(self._stored_nodes())
        self.checkpoints = _PeekableStream(self._checkpoints())
        self.chains: dict[str, tuple[int, bytes]] = {}  # case -> (next seq, last leaf hash)
        self.bad_roots: list[int] = []

    def run(self) -> AuditReport:
        self._check_checkpoints_at(0)
        leaves = select(Leaf).order_by(Leaf.leaf_index).execution_options(yield_per=BATCH)
        for row in self.session.execute(leaves).scalars():
            if row.leaf_index >= self.report.size:
                self.report.add(
                    f"leaf {row.leaf_index}",
                    f"stored beyond the committed log size {self.report.size}",
                )
                continue
            while self.truth.size < row.leaf_index:  # rows missing before this one
                if not self._missing_leaf(self.truth.size):
                    return self._finish(stopped_at=self.truth.size)
            self._leaf(row)
        while self.truth.size < self.report.size:
            if not self._missing_leaf(self.truth.size):
                return self._finish(stopped_at=self.truth.size)
        return self._finish()

    # --- leaves ----------------------------------------------------------------------

    def _leaf(self, row: Leaf) -> None:
        index, digest = row.leaf_index, merkle.leaf_hash(row.data)
        self.report.leaves += 1
        if digest != row.leaf_hash:
            self.report.add(
                f"leaf {index}",
                "its bytes do not hash to its stored leaf_hash: the event was changed",
            )
        self._follow_chain(index, row, digest)
        self._grow(index, digest)

    def _missing_leaf(self, index: int) -> bool:
        """AuditReport a deleted leaf; go on with its stored tree node if there is one."""
        self.report.add(f"leaf {index}", "is missing from the log (deleted)")
        node = self.nodes.peek()
        if node is None or node[0] != NodeId(0, index):
            self.report.add(
                f"leaf {index}",
                "its tree node is missing too: the tree cannot be recomputed past it",
            )
            return False
        self._grow(index, node[1])
        return True

    def _follow_chain(self, index: int, row: Leaf, digest: bytes) -> None:
        try:
            event = Event.decode(row.data)
        except VerificationError as exc:
            self.report.add(f"leaf {index}", f"is not a valid event: {exc.message}")
            return
        if event.case_no != row.case_no:
            self.report.add(
                f"leaf {index}", f"names case {event.case_no} but is filed under {row.case_no}"
            )
        seq, last = self.chains.get(event.case_no, (0, b""))
        if event.seq != seq:
            self.report.add(
                f"leaf {index}",
                f"is event {event.seq} of case {event.case_no}, expected event {seq}",
            )
        expected_prev = last.hex() if seq else None
        if event.prev != expected_prev:
            self.report.add(
                f"leaf {index}",
                f"breaks the hash chain of case {event.case_no}: prev does not name its previous "
                f"event",
            )
        self.chains[event.case_no] = (seq + 1, digest)
        for observe in self.observers:
            observe(index, digest, event)

    # --- nodes ---------------------------------------------------------------------

    def _grow(self, index: int, digest: bytes) -> None:
        created = self.truth.append(digest)
        stored_left = list(self.stored.border)
        stored_acc = b""  # the first node created is always the new leaf's (level 0), which sets it
        for node_id, true_hash in created:
            stored_hash = self._stored_node(node_id)
            if node_id.level == 0:
                if stored_hash is None:
                    self.report.add(f"leaf {index}", "its tree node (level 0) is missing")
                    stored_hash = true_hash
                elif stored_hash != true_hash:
                    self.report.add(
                        f"leaf {index}",
                        "its bytes do not match the tree's stored leaf node: "
                        "the event was changed, swapped or inserted",
                    )
            else:
                expected = merkle.node_hash(stored_left.pop(), stored_acc)
                if stored_hash is None:
                    self.report.add(_node_name(node_id), "is missing")
                    stored_hash = expected
                elif stored_hash != expected:
                    self.report.add(
                        _node_name(node_id),
                        "is not the hash of its two children: the node was altered",
                    )
                    # judge its parent by what its children say, not by the altered value
                    stored_hash = expected
            stored_acc = stored_hash
        self.stored.border = [*stored_left, stored_acc]
        self.stored.size = self.truth.size
        self._check_checkpoints_at(self.truth.size)
        if self.progress and self.truth.size % 10_000 == 0:
            self.progress(self.truth.size, self.report.size)

    def _stored_node(self, node_id: NodeId) -> bytes | None:
        while (nxt := self.nodes.peek()) is not None and _completion(nxt[0]) < _completion(node_id):
            self.report.add(
                _node_name(nxt[0]), "is stored but belongs to no leaf that is in the log"
            )
            self.nodes.next()
        if nxt is not None and nxt[0] == node_id:
            self.nodes.next()
            self.report.nodes += 1
            return nxt[1]
        return None

    def _stored_nodes(self) -> Iterator[tuple[NodeId, bytes]]:
        # In the order nodes are completed: by the leaf that completes them, then upwards.
        completion = (Node.node_index + 1).op("<<")(Node.level)
        query = select(Node.level, Node.node_index, Node.hash).order_by(completion, Node.level)
        for level, index, h in self.session.execute(query.execution_options(yield_per=BATCH)):
            yield NodeId(level, index), h

    # --- checkpoints -----------------------------------------------------------------

    def _checkpoints(self) -> Iterator[CheckpointRecord]:
        query = (
            select(CheckpointRecord)
            .order_by(CheckpointRecord.size)
            .execution_options(yield_per=BATCH)
        )
        yield from self.session.execute(query).scalars()

    def _check_checkpoints_at(self, size: int) -> None:
        while (cp := self.checkpoints.peek()) is not None and cp.size <= size:
            self.checkpoints.next()
            self._checkpoint(cp, self.truth.root() if cp.size == size else None)

    def _checkpoint(self, cp: CheckpointRecord, root: bytes | None) -> None:
        self.report.checkpoints += 1
        where = f"checkpoint at size {cp.size}"
        try:
            signed = verify_checkpoint(self.root, cp.note).checkpoint
        except VerificationError as exc:
            self.report.add(where, f"is forged or damaged: {exc.message}")
            return
        if signed.size != cp.size or signed.root != cp.root:
            self.report.add(where, "its stored size or root differs from the signed note")
        if root is None:
            self.report.add(where, "skipped a size: no tree was recomputed there")
        elif signed.root != root:
            self.bad_roots.append(cp.size)

    def _finish(self, stopped_at: int | None = None) -> AuditReport:
        for cp in self.checkpoints.rest():
            self.report.checkpoints += 1
            beyond = cp.size > self.report.size
            why = (
                "is beyond the log size"
                if beyond
                else f"could not be checked: the tree stops at {stopped_at}"
            )
            self.report.add(f"checkpoint at size {cp.size}", why)
        for node_id, _ in self.nodes.rest():
            if stopped_at is None:
                self.report.add(
                    _node_name(node_id), "is stored but belongs to no leaf that is in the log"
                )
        if self.bad_roots:
            first, last = self.bad_roots[0], self.bad_roots[-1]
            self.report.add(
                f"checkpoint at size {first}"
                if first == last
                else f"checkpoints at sizes {first} to {last}",
                f"signed root differs from the root recomputed from the stored leaves "
                f"({len(self.bad_roots)} "
                f"checkpoint(s)): history was rewritten at or before leaf {first - 1}",
            )
        if self.progress:
            self.progress(self.report.size, self.report.size)
        return self.report


class _PeekableStream(Generic[T]):
    """A database stream read in step with the leaves: look at the next item before taking it."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._head: T | None = next(items, None)

    def peek(self) -> T | None:
        return self._head

    def next(self) -> T | None:
        head, self._head = self._head, next(self._items, None)
        return head

    def rest(self) -> Iterator[T]:
        while (head := self.next()) is not None:
            yield head


def _completion(node: NodeId) -> tuple[int, int]:
    """Sort key of the leaf count at which a node is completed, then its level."""
    return ((node.index + 1) << node.level, node.level)


def _node_name(node: NodeId) -> str:
    return f"node (level {node.level}, index {node.index})"
