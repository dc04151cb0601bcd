"""Who anchors: with several service instances on one database, exactly one worker holds the lock.

PostgreSQL: a session-level advisory lock on a connection kept open for the
worker's life; if the process dies, the server ends the session and the lock
passes on. SQLite (one machine): an exclusive `flock` on a file beside the
database, released by the kernel when the process dies.

Each cycle also holds a shared "pause" lock; `pause` takes it exclusively, so
that `lianzheng backup` can copy the chain and the database between two
cycles, with no anchor sent or settled in between.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from ledger.processes import flocked

log = logging.getLogger(__name__)

# pg_try_advisory_lock takes a bigint; this one is ASCII "LZANCHOR" read as a 64-bit integer.
ADVISORY_KEY = int.from_bytes(b"LZANCHOR", "big") - (1 << 63)
PAUSE_KEY = int.from_bytes(b"LZPAUSE!", "big") - (1 << 63)  # likewise "LZPAUSE!"


class Leadership(Protocol):
    def acquire(self) -> bool:
        """Take or keep the lock without waiting; True while this worker holds it."""

    def release(self) -> None: ...

    def cycle(self) -> AbstractContextManager[None]:
        """Held (shared) for one cycle; waits while a backup holds `pause`."""


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still our session, so still our lock
                return True
            conn = self.engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
                conn.commit()
                self._conn = conn
                log.info("this worker now holds the anchoring lock")
                return True
            conn.close()
            return False
        except DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            except DBAPIError:
                pass
            self._drop()

    @contextmanager
    def cycle(self) -> Iterator[None]:
        assert self._conn is not None, "a cycle runs only while the leader lock is held"
        self._conn.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": PAUSE_KEY})
        self._conn.commit()
        try:
            yield
        finally:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock_shared(:k)"), {"k": PAUSE_KEY})
                self._conn.commit()
            except DBAPIError:
                self._drop()  # the session is gone, and its locks with it

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except DBAPIError:
                pass
        self._conn = None


class FileLock:
    """An exclusive flock on `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @contextmanager
    def cycle(self) -> Iterator[None]:
        with flocked(_pause_file(self.path), fcntl.LOCK_SH):
            yield


def _pause_file(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name.replace(".anchor-lock", ".anchor-pause"))


@contextmanager
def pause(engine: Engine) -> Iterator[None]:
    """No anchor cycle runs while this is held: it waits for the running one to end, then holds the
    next."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PAUSE_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PAUSE_KEY})
                conn.commit()
    else:
        with flocked(_pause_file(_lock_file(engine)), fcntl.LOCK_EX):
            yield


def for_engine(engine: Engine) -> Leadership:
    """The lock that fits the database: advisory on PostgreSQL, a file beside an SQLite database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return FileLock(_lock_file(engine))


def _lock_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database:
        raise ValueError("an in-memory SQLite database cannot be shared by workers")
    return Path(database).with_name(Path(database).name + ".anchor-lock")
