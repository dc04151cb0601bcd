"""Group commit: the log transactions of concurrent callers share one database transaction, one
signed checkpoint and one durable commit (the classic database technique; DESIGN.md: The log).

A caller hands in its work and waits. Whoever finds no group being committed becomes the leader:
it opens a log transaction, and once that holds the append lock it takes every waiting caller's
work (at most `MAX_GROUP`), runs each one in turn, seals the head once and commits. Each caller is
answered only after that commit, so an acknowledged event is durable. Taking the works only once
the lock is held lets every caller who came while another process's group held it join this one.

A work that raises raises in its own caller only, so a refused event never sinks the others. Works
are first run without savepoints, since on PostgreSQL each savepoint costs two round trips while
the group's lock is held, and refusals are rare. When one work raises, or the database refuses a
row of the group before the seal, that transaction is rolled back whole and the works run again in
a new one (but the one that raised), each inside a savepoint with its rows sent there: a refusal
is then undone alone. A work therefore writes nothing but rows in its transaction (it may run
twice). A failure of the seal or of the commit itself fails the whole group and is never run
again: a commit whose outcome is unknown must not be written twice. A connection the database had
closed (a restart) before the lock was held wrote nothing: the group begins again on a new one.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ledger.storage import LogStore, LogTransaction

T = TypeVar("T")

# Enough to keep every request thread of a busy node in one group; a bound keeps one commit short.
MAX_GROUP = 256


class _Leading(threading.local):
    """Whether this thread is running a group: a work that asked for another log transaction
    would wait for itself."""

    active = False


_leading = _Leading()


@dataclass
class _Member(Generic[T]):
    """One caller's work and, once its group committed, its answer."""

    work: Callable[[LogTransaction], T]
    context: contextvars.Context  # the caller's (request, request id): the work runs in it
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def answer(self) -> T:
        if self.error is not None:
            raise self.error
        answer: T = self.result
        return answer


class _Refused(Exception):
    """A work of the optimistic run raised, or the database refused one of its rows: its
    transaction must be rolled back whole."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class GroupCommit:
    """Runs log transactions for the threads of one process, committing them in groups."""

    def __init__(self, store: LogStore, sessions: sessionmaker[Session]) -> None:
        self.store = store
        self.sessions = sessions
        self._turn = threading.Condition()
        self._waiting: list[_Member[Any]] = []
        self._leader = False

    @property
    def waiting(self) -> int:
        """How many callers wait for the next group (the queue's depth, for figures and tests)."""
        with self._turn:
            return len(self._waiting)

    def run(self, work: Callable[[LogTransaction], T]) -> T:
        """Run `work(tx)` in a log transaction and return its result once that is committed; raise
        what the work raised (nothing of it is written) or what failed the commit (nothing of the
        group is written)."""
        if _leading.active:
            raise RuntimeError("a log transaction's work may not start another log transaction")
        member: _Member[T] = _Member(work, contextvars.copy_context())
        with self._turn:
            self._waiting.append(member)
        while True:
            with self._turn:
                while self._leader and not member.done:
                    self._turn.wait()
                if member.done:
                    return member.answer()
                self._leader = True
            self._lead()

    def _take(self) -> list[_Member[Any]]:
        """The works waiting now, in the order they came. Only the leader takes, and its own work
        waits until taken, so the group is never empty."""
        with self._turn:
            group = self._waiting[:MAX_GROUP]
            del self._waiting[:MAX_GROUP]
        return group

    def _lead(self) -> None:
        group: list[_Member[Any]] = []  # filled once the append lock is held
        _leading.active = True
        try:
            self._commit_on_a_live_connection(group)
        except BaseException as error:  # the commit failed: no member's work was written
            if not group:  # it failed before the lock was held: the waiting fail with it
                group.extend(self._take())
            for member in group:
                member.result, member.error = None, error
        finally:
            _leading.active = False
            with self._turn:
                for member in group:
                    member.done = True
                self._leader = False
                self._turn.notify_all()

    def _commit_on_a_live_connection(self, group: list[_Member[Any]]) -> None:
        """`_commit`, once more on a new connection when the database had closed the one it began
        on (a restart; ledger/db.py pings only connections left idle) before the append lock was
        held: nothing was written then."""
        try:
            self._commit(group)
        except DBAPIError as error:
            if group or not error.connection_invalidated:
                raise
            self._commit(group)

    def _commit(self, group: list[_Member[Any]]) -> None:
        """Commit the works waiting once the append lock is held, adding them to `group`."""
        try:
            with self.store.transaction(self.sessions) as tx:
                group.extend(self._take())
                for member in group:
                    self._run_optimistic(tx, member)
                self._send_rows(tx)
            return
        except _Refused as refused:
            if len(group) == 1:  # alone, its refusal is the group's: nobody to run again
                raise refused.error from None
            # rolled back: nothing of this run was written, so the others may run again
        with self.store.transaction(self.sessions) as tx:
            for member in group:
                if member.error is None:
                    self._run_member(tx, member)

    @staticmethod
    def _run_optimistic(tx: LogTransaction, member: _Member[Any]) -> None:
        """One caller's work without a savepoint: on error the whole transaction must go."""
        try:
            member.result = member.context.run(member.work, tx)
        except Exception as error:
            member.error = error
            raise _Refused(error) from error

    @staticmethod
    def _send_rows(tx: LogTransaction) -> None:
        """Send every row the works added, before the seal. A row the database refuses (a broken
        constraint) belongs to one caller; which one, the run in savepoints finds out."""
        try:
            tx.flush()
        except Exception as error:
            raise _Refused(error) from error

    @staticmethod
    def _run_member(tx: LogTransaction, member: _Member[Any]) -> None:
        """One caller's work in a savepoint, its rows sent there too: on error only its rows and
        appends are undone."""
        mark = tx.mark()
        savepoint = tx.session.begin_nested()
        try:
            member.result = member.context.run(member.work, tx)
            tx.flush()
        except Exception as error:
            savepoint.rollback()
            tx.rewind(mark)
            member.error = error
        else:
            savepoint.commit()
