"""`lianzheng audit`: recompute the log from its stored leaves and name what differs.

One streaming pass in leaf order, memory O(log n + cases):
- each leaf's bytes are hashed and decoded; its case's hash chain is followed;
- two compact ranges grow side by side, one from the leaf bytes (the truth),
  one from the stored leaf hashes and nodes; a stored node is blamed only if
  it is not the hash of its own stored children, so one altered leaf is not
  also reported as log n altered nodes;
- a deleted leaf takes its hash with it: the tree stops there, and the
  leaves after it are still checked one by one and along their cases' chains;
- every checkpoint's signature is checked, and its root compared with the
  root recomputed at its size: all checkpoints agreeing with one recomputed
  tree is what makes each later one consistent with every earlier one.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ledger import merkle, storage
from ledger.audit_chains import Chains
from ledger.audit_spans import Span, SpanReader
from ledger.audit_tree import StoredSpan, Tree, node_name
from ledger.checkpoint import parse_note
from ledger.cosignature import Cosigner, verified_cosigners
from ledger.errors import VerificationError
from ledger.events import Event
from ledger.merkle import NodeId
from ledger.models import CheckpointCosignature, CheckpointRecord, Leaf, LogHead, Node
from ledger.trust import TrustRoot, VerifiedCheckpoint, verify_checkpoint

BATCH = 5000
SIGNATURES_IN_FLIGHT = 256  # checkpoints whose signatures the helper threads have not checked yet
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


@dataclass(frozen=True)
class Since:
    """Where an incremental audit starts: a log size and the root a clean audit recomputed there
    (DESIGN.md: The log, `audit`)."""

    size: int
    root: bytes


@dataclass
class AuditReport:
    size: int = 0
    root: bytes | None = None  # recomputed from the leaves at `size`, where the tree got that far
    since: int | None = None  # an incremental audit's starting size; None for a full audit
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
        if self.since is not None:
            verdict += f" (incremental: from size {self.since}, derived tables not rebuilt)"
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
            "root": None if self.root is None else self.root.hex(),
            "since": self.since,
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
    since: Since | None = None,
) -> AuditReport:
    """Audit the log in `session`'s database; checkpoints must be signed as `root` says.

    Each observer sees every event in log order from where the audit starts (the projections the
    derived tables are checked against). With `since`, only what was appended after that clean
    audit is checked, from the aligned span that holds its size: the tree recomputed there must
    give the root it signed off, so the old tree is trusted only through that root."""
    size = session.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one()
    with _cycle_collector_paused():
        report = _Audit(session, size, root, progress, observers, since).run()
    check_cosignatures(session, root, report, 0 if since is None else since.size)
    return report


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the audit runs. The audit makes millions of objects,
    none in a cycle (reference counting frees each span's), but each pass of the collector walks
    every live one, the chain ends kept included: measured at 10^5 leaves, it took half of the
    audit's time (bench/ledger.py). The pause is process-wide; what other threads leave in cycles
    meanwhile is collected when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_cosignatures(
    session: Session, root: TrustRoot, report: AuditReport, above: int = 0
) -> None:
    """Every stored cosignature (on checkpoints larger than `above`) of a witness the root lists
    must verify over the stored checkpoint of its size (DESIGN.md: The log, `audit`); lines of
    witnesses the root no longer lists are left alone: they were checked against that witness's
    key when they arrived."""
    by_name = {w.name: w.cosigner() for w in root.witnesses}
    rows = (
        select(CheckpointCosignature, CheckpointRecord.note)
        .outerjoin(CheckpointRecord, CheckpointRecord.size == CheckpointCosignature.size)
        .where(CheckpointCosignature.size > above)
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
        since: Since | None,
    ) -> None:
        self.session, self.root, self.progress, self.observers = session, root, progress, observers
        self.since = since
        self.report = AuditReport(size=size, since=None if since is None else since.size)
        self.tree = Tree(self.report)
        self.base = 0 if since is None else since.size - since.size % self.tree.span
        self.checkpoints = _PeekableStream(self._checkpoints())
        self.chains = Chains(session, self.report, self.base)
        self.bad_roots: list[int] = []
        self.stopped_at: int | None = None  # the first leaf the tree could not be grown by
        self.gap: tuple[int, int] | None = None  # deleted leaves not named yet, start and end
        # Checkpoint signatures are checked on two helper threads while this one hashes leaves:
        # an SM2 verification costs about 0.5 ms and releases the GIL (ledger/sm2.py), and a log
        # of small commits has a checkpoint every few leaves. Results are taken in checkpoint
        # order.
        self.signatures: deque[tuple[Future[VerifiedCheckpoint], CheckpointRecord, bytes | None]]
        self.signatures = deque()
        self.signer_thread: ThreadPoolExecutor | None = None

    def run(self) -> AuditReport:
        try:
            return self._run()
        finally:
            if self.signer_thread is not None:
                self.signer_thread.shutdown(cancel_futures=True)

    def _run(self) -> AuditReport:
        if not self._start():  # the findings say why: the checkpoints were not reached
            return self.report
        engine = self.session.get_bind()
        assert isinstance(engine, Engine)  # bound as the services bind every session
        with SpanReader(engine, self.tree, self.base, self.report.size) as spans:
            for span in spans:
                self._span(span)
                if self.progress:
                    self.progress(span.end, self.report.size)
        self._name_gap()
        self._leaves_beyond_size()
        self.chains.finish(self.report.size)
        if self.stopped_at is not None:
            return self._finish(self.stopped_at)
        if self.since is None:  # a count over the whole table: the full audit's job
            self._nodes_beyond_size()
        self.report.root = self.tree.root(self.report.size)
        return self._finish()

    def _start(self) -> bool:
        """Check the empty tree, or where an incremental audit starts; False if it cannot."""
        if self.since is None:
            self._check_checkpoints_at(0, merkle.EMPTY_ROOT)
            return True
        if self.since.size > self.report.size:
            self.report.add(
                f"log size {self.report.size}",
                f"is smaller than at the last clean audit ({self.since.size}): leaves were "
                "removed; run the full audit",
            )
            return False
        if not self._since_is_signed(self.since):
            return False
        if not self.tree.start_at(self.session, self.base):
            self.report.add(
                f"tree at size {self.base}",
                "its stored border nodes are missing: run the full audit",
            )
            return False
        if self.base == self.since.size:
            self._check_since(self.since, self.tree.root(self.base))
        return True

    def _since_is_signed(self, since: Since) -> bool:
        """The root an incremental audit starts from must be the one the log signed at that size,
        by a key of the trust root: a row in the database alone is not trusted."""
        where = f"checkpoint at size {since.size}"
        note = self.session.scalar(
            select(CheckpointRecord.note).where(CheckpointRecord.size == since.size)
        )
        try:
            if note is None:
                raise VerificationError("it is missing")
            signed = verify_checkpoint(self.root, note).checkpoint
        except VerificationError as exc:
            self.report.add(
                where, f"(where the last clean audit ended) cannot be trusted: {exc.message}"
            )
            return False
        if signed.root != since.root:
            self.report.add(where, "does not sign the root the last clean audit recorded")
            return False
        return True

    def _check_since(self, since: Since, recomputed: bytes) -> None:
        """The tree at the last clean audit's size must still give the root it signed off."""
        if recomputed != since.root:
            self.report.add(
                f"tree at size {since.size}",
                "differs from the root the last clean audit signed off: history was rewritten "
                "since; run the full audit",
            )

    def _span(self, span: Span) -> None:
        """Audit the leaves of one aligned span; grow the tree by them unless it stopped."""
        growing = self.stopped_at is None
        truth: list[bytes] = []
        events: list[tuple[int, Event, bytes]] = []
        expected = span.start  # the next index, if no row is missing
        for index, data, stored_hash, case_no in span.rows:
            if index > expected:
                self._missing_leaves(expected, index)
            self._name_gap()
            expected = index + 1
            digest = merkle.leaf_hash(data)
            if self.stopped_at is None:
                truth.append(digest)
            event = self._leaf(index, bytes(data), digest, bytes(stored_hash), case_no)
            if event is not None:
                events.append((index, event, digest))
        if expected < span.end:
            self._missing_leaves(expected, span.end)
        self._follow(span.start, events)
        if growing:
            self._grow(span.start, truth, span.stored)

    def _grow(self, start: int, truth: list[bytes], stored: StoredSpan) -> None:
        before = self.tree.size
        self.tree.grow(self.session, start, truth, stored)
        if self.since is not None and before < self.since.size <= self.tree.size:
            self._check_since(self.since, self.tree.root(self.since.size))
        for cp in self._checkpoints_up_to(self.tree.size):
            self._checkpoint(cp, self.tree.root(cp.size))

    # --- leaves ----------------------------------------------------------------------

    def _leaf(
        self, index: int, data: bytes, digest: bytes, stored: bytes, case: str | None
    ) -> Event | None:
        """Check one leaf's hash and event; the event, if it is one."""
        self.report.leaves += 1
        if digest != stored:
            self.report.add(
                f"leaf {index}",
                "its bytes do not hash to its stored leaf_hash: the event was changed",
            )
        try:
            event = Event.decode(data)
        except VerificationError as exc:
            self.report.add(f"leaf {index}", f"is not a valid event: {exc.message}")
            return None
        if event.case_no != case:
            self.report.add(
                f"leaf {index}", f"names case {event.case_no} but is filed under {case}"
            )
        return event

    def _follow(self, start: int, events: list[tuple[int, Event, bytes]]) -> None:
        """The span's events along their cases' chains, then to the observers."""
        self.chains.prepare(start, [event for _, event, _ in events])
        for index, event, digest in events:
            self.chains.follow(index, event, digest)
            for observe in self.observers:
                observe(index, digest, event)
        self.chains.trim()

    def _missing_leaves(self, start: int, end: int) -> None:
        """Note the deleted leaves start <= index < end, with those just before them if they were
        deleted too (a run may cross spans); the tree stops at the first."""
        if self.gap is not None and self.gap[1] == start:
            self.gap = (self.gap[0], end)
        else:
            self._name_gap()
            self.gap = (start, end)
        if self.stopped_at is None:
            self.stopped_at = start
            self.report.add(
                f"leaf {start}",
                "its hash went with it: the tree cannot be recomputed past it",
            )

    def _name_gap(self) -> None:
        """Name the run of deleted leaves noted last, if any, in one finding."""
        if self.gap is None:
            return
        start, end = self.gap
        self.gap = None
        if end == start + 1:
            self.report.add(f"leaf {start}", "is missing from the log (deleted)")
        else:
            self.report.add(f"leaves {start} to {end - 1}", "are missing from the log (deleted)")

    def _leaves_beyond_size(self) -> None:
        """Leaf rows at or past the committed size, listed only if the largest index says there are
        any. The range alone cost 0.9 s at 10^7 leaves: on a table grown since PostgreSQL last
        counted it, the planner expected a million rows and compiled the query (JIT) first."""
        last = self.session.scalar(select(func.max(Leaf.leaf_index)))
        if last is None or last < self.report.size:
            return
        beyond = select(Leaf.leaf_index).where(Leaf.leaf_index >= self.report.size)
        for index in self.session.scalars(beyond.order_by(Leaf.leaf_index)):
            self.report.add(
                f"leaf {index}", f"stored beyond the committed log size {self.report.size}"
            )

    def _nodes_beyond_size(self) -> None:
        """Stored nodes that no leaf of the log completes: counted first, named only if any."""
        if self.session.scalar(select(func.count()).select_from(Node)) == self.report.nodes:
            return
        completion = (Node.node_index + 1).op("<<")(Node.level)
        unstored = Node.level < storage.STORED_FROM_LEVEL
        extra = (
            select(Node.level, Node.node_index)
            .where(or_(completion > self.report.size, Node.node_index < 0, unstored))
            .order_by(completion, Node.level)
        )
        for level, index in self.session.execute(extra):
            self.report.add(
                node_name(NodeId(level, index)),
                "is stored but belongs to no leaf that is in the log"
                if level >= storage.STORED_FROM_LEVEL
                else "is stored on a level the log never stores: it was inserted",
            )

    # --- checkpoints -----------------------------------------------------------------

    def _checkpoints(self) -> Iterator[CheckpointRecord]:
        query = (
            select(CheckpointRecord)
            .order_by(CheckpointRecord.size)
            .execution_options(yield_per=BATCH)
        )
        if self.since is not None:  # those up to the span it starts in were audited before
            query = query.where(CheckpointRecord.size > self.base)
        yield from self.session.execute(query).scalars()

    def _checkpoints_up_to(self, size: int) -> Iterator[CheckpointRecord]:
        while (cp := self.checkpoints.peek()) is not None and cp.size <= size:
            self.checkpoints.next()
            yield cp

    def _check_checkpoints_at(self, size: int, root: bytes | None) -> None:
        for cp in self._checkpoints_up_to(size):
            self._checkpoint(cp, root if cp.size == size else None)

    def _checkpoint(self, cp: CheckpointRecord, root: bytes | None) -> None:
        """Hand the checkpoint's signatures to the helper threads; take the oldest results back."""
        if self.signer_thread is None:
            self.signer_thread = ThreadPoolExecutor(2, thread_name_prefix="audit-signatures")
        self.signatures.append(
            (self.signer_thread.submit(verify_checkpoint, self.root, cp.note), cp, root)
        )
        while len(self.signatures) > SIGNATURES_IN_FLIGHT:
            self._signed(*self.signatures.popleft())

    def _signed(
        self, verified: Future[VerifiedCheckpoint], cp: CheckpointRecord, root: bytes | None
    ) -> None:
        self.report.checkpoints += 1
        where = f"checkpoint at size {cp.size}"
        try:
            signed = verified.result().checkpoint
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
        while self.signatures:
            self._signed(*self.signatures.popleft())
        for cp in self.checkpoints.rest():
            self.report.checkpoints += 1
            beyond = cp.size > self.report.size
            why = (
                "is beyond the log size"
                if beyond
                else f"could not be checked: the tree stops at {stopped_at}"
            )
            self.report.add(f"checkpoint at size {cp.size}", why)
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
