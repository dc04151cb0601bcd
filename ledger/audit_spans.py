"""The audit's reads, one span ahead (used by ledger/audit.py).

Each span's leaf rows and stored nodes are read on a connection of its own, in a thread, while the
audit checks the span before: the database's part of the work (PostgreSQL's server process,
SQLite's C code, both without the interpreter's lock) then runs on the second core. Both
connections see the same rows: the log tables are append-only and every span lies below the size
the audit checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ledger import db
from ledger.audit_tree import StoredSpan, Tree

_SPAN_LEAVES = (
    "SELECT leaf_index, data, leaf_hash, case_no FROM log_leaves"
    " WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index"
)


@dataclass(frozen=True)
class Span:
    """One span's rows as stored: (index, data, leaf hash, case number) in index order, and the
    stored nodes its leaves complete."""

    start: int
    end: int
    rows: Sequence[Any]
    stored: StoredSpan


class SpanReader:
    """Reads the spans of `tree` from `start` to `size`, each while the one before is checked."""

    def __init__(self, engine: Engine, tree: Tree, start: int, size: int) -> None:
        self._tree = tree
        self._bounds = [(s, min(s + tree.span, size)) for s in range(start, size, tree.span)]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-reader")
        self._session = Session(engine)  # used by the pool's one thread only

    def __enter__(self) -> SpanReader:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.submit(self._session.close).result()
        self._pool.shutdown()

    def __iter__(self) -> Iterator[Span]:
        ahead: Future[Span] | None = None
        for at, (start, end) in enumerate(self._bounds):
            current = ahead or self._pool.submit(self._read, start, end)
            ahead = None
            if at + 1 < len(self._bounds):
                ahead = self._pool.submit(self._read, *self._bounds[at + 1])
            yield current.result()

    def _read(self, start: int, end: int) -> Span:
        rows = db.driver_rows(self._session, _SPAN_LEAVES, (start, end))
        return Span(start, end, rows, self._tree.stored_nodes(self._session, start, end, rows))
