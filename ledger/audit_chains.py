"""The audit's check of each case's hash chain, in log order (used by ledger/audit.py).

The chain ends of the CHAINS_KEPT cases seen last are kept in memory. Before each span, the ends
of the other cases that the span continues are read back from the database in a few queries (the
last leaf of each below the span), so memory stays flat however many cases the log holds. A first
event (seq 0) of a case not in memory is not looked up: `finish` counts instead. Every case's
first leaf must be a first event, so as many first events as new cases means that none was
started twice; only a log that fails the count is read again to name the leaf.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from ledger import db, merkle
from ledger.errors import VerificationError
from ledger.events import Event
from ledger.models import Leaf

# Cases whose chain end is kept in memory (about 200 bytes each); beyond them, read back.
CHAINS_KEPT = 1 << 18
_CASES_AT_ONCE = 400  # case numbers in one look-up: under SQLite's smallest parameter limit


class Findings(Protocol):
    """What the chain check reports to (ledger.audit.AuditReport)."""

    @property
    def clean(self) -> bool: ...

    def add(self, where: str, problem: str, case_no: str | None = None) -> None: ...


class Chains:
    """Each case's chain, followed from leaf `base` on (0 for a full audit; where an incremental
    audit starts, with every case before it to be read back)."""

    def __init__(self, session: Session, report: Findings, base: int = 0) -> None:
        self.session, self.report, self.base = session, report, base
        self.ends: OrderedDict[str, tuple[int, bytes]] = OrderedDict()  # next seq, last leaf hash
        self.firsts = 0  # first events of cases not in memory when they came
        self.forgot = base > 0  # cases may have chains that memory does not hold

    def prepare(self, start: int, events: Sequence[Event]) -> None:
        """Read back the chain ends, below leaf `start`, of the cases that `events` continue and
        memory does not hold."""
        if not self.forgot:
            return
        wanted = sorted({e.case_no for e in events if e.seq > 0 and e.case_no not in self.ends})
        for at in range(0, len(wanted), _CASES_AT_ONCE):
            for data in self._last_leaves(start, wanted[at : at + _CASES_AT_ONCE]):
                try:
                    event = Event.decode(data)
                except VerificationError:  # reported where that leaf was audited
                    continue
                self.ends[event.case_no] = (event.seq + 1, merkle.leaf_hash(data))

    def _last_leaves(self, start: int, cases: list[str]) -> Sequence[bytes]:
        marks = ", ".join("?" * len(cases))
        sql = (  # our text; the case numbers are parameters
            "SELECT l.data FROM log_leaves AS l JOIN (SELECT case_no, max(leaf_index) AS last"
            f" FROM log_leaves WHERE leaf_index < ? AND case_no IN ({marks}) GROUP BY case_no)"
            " AS m ON l.leaf_index = m.last"
        )
        return [bytes(data) for (data,) in db.driver_rows(self.session, sql, [start, *cases])]

    def follow(self, index: int, event: Event, digest: bytes) -> None:
        """Check `event` (leaf `index`) against its case's chain so far; extend the chain."""
        seq, last = self._end(event.case_no)
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
        self.ends[event.case_no] = (seq + 1, digest)

    def _end(self, case_no: str) -> tuple[int, bytes]:
        """The case's chain end so far: (next seq, last leaf hash)."""
        end = self.ends.get(case_no)
        if end is None:
            self.firsts += 1
            return 0, b""
        self.ends.move_to_end(case_no)
        return end

    def trim(self) -> None:
        """Forget the chains seen longest ago beyond CHAINS_KEPT (after each span: what `prepare`
        read for a span stays until the span is done)."""
        while len(self.ends) > CHAINS_KEPT:
            self.ends.popitem(last=False)
            self.forgot = True

    def finish(self, size: int) -> None:
        """With cases forgotten on the way: as many first events as new cases, or name the second
        first events."""
        if not self.forgot:
            return
        if self._new_cases(size) != self.firsts or not self.report.clean:
            self._name_second_starts(size)

    def _new_cases(self, size: int) -> int:
        """Cases with a leaf in base <= index < size and none below base."""
        query = select(func.count(func.distinct(Leaf.case_no))).where(
            Leaf.leaf_index >= self.base, Leaf.leaf_index < size
        )
        if self.base:
            earlier = aliased(Leaf)
            query = query.where(
                ~exists().where(earlier.case_no == Leaf.case_no, earlier.leaf_index < self.base)
            )
        return self.session.scalar(query) or 0

    def _name_second_starts(self, size: int) -> None:
        """The slow pass, only for a log found wrong: memory O(cases)."""
        started: set[str] = set()
        rows = (
            select(Leaf.leaf_index, Leaf.data)
            .where(Leaf.leaf_index < size)
            .order_by(Leaf.leaf_index)
            .execution_options(yield_per=5000)
        )
        for index, data in self.session.execute(rows):
            try:
                event = Event.decode(data)
            except VerificationError:
                continue
            if event.seq == 0 and event.case_no in started and index >= self.base:
                self.report.add(
                    f"leaf {index}",
                    f"starts case {event.case_no} a second time: its chain was forked",
                )
            if event.seq == 0:
                started.add(event.case_no)
