"""Database engines and schema migrations (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from ledger.models import APPEND_ONLY_TABLES

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for `url`; SQLite gets WAL, full fsync and a generous busy timeout, PostgreSQL no
    JIT."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A connection for each of a web worker's threads (verify_portal/web/server.py), a few spare.
    options: dict[str, Any] = {"pool_size": 16, "max_overflow": 8}
    engine = create_engine(url, **(options | kwargs))
    event.listen(engine, "connect", _postgresql_without_jit)
    event.listen(engine.pool, "connect", _mark_idle)
    event.listen(engine.pool, "checkin", _mark_idle)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


# A pooled connection idle this long is pinged before it is used again: the database may have
# closed it meanwhile (a restart, an idle timeout). Under load connections come back within
# milliseconds; pinging every one as it was checked out (SQLAlchemy's pool_pre_ping) cost each
# request a round trip, about a tenth of an append's CPU over HTTP (bench/ledger.py). A
# connection that dies while busy fails its statement, which invalidates the pool (SQLAlchemy's
# disconnect handling); `lone_rows` then reads again.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "lianzheng.idle_since"


def _mark_idle(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(
    dialect: Dialect, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: object
) -> None:
    """Ping a connection idle for PING_AFTER_IDLE_SECONDS; a dead one is replaced by the pool."""
    if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, dbapi_connection, None):
            raise DisconnectionError(str(error)) from error  # the pool connects anew
        raise


@contextmanager
def lone_read(engine: Engine) -> Iterator[Connection]:
    """A pooled connection outside any transaction, for one read statement: the read is one round
    trip, where a session's transaction would add two (BEGIN and ROLLBACK). A single statement
    sees one consistent state of the database on its own."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def lone_rows(engine: Engine, sql: str, params: Sequence[object]) -> Sequence[Any]:
    """The rows of one read statement (`?` placeholders; our text, never input) in a `lone_read`,
    sent as text to the driver: for the reads every request makes, where compiling a statement
    costs as much as running it."""
    try:
        return _lone_rows(engine, sql, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    # The database closed the connection (a restart): the pool is invalidated, and a read can
    # always be sent again.
    return _lone_rows(engine, sql, params)


def _lone_rows(engine: Engine, sql: str, params: Sequence[object]) -> Sequence[Any]:
    with lone_read(engine) as connection:
        return _driver_fetch(connection, sql, params)


@contextmanager
def writers_turn(engine: Engine) -> Iterator[None]:
    """Wait for this writer's turn at the log among all processes. PostgreSQL queues writers on
    the head row's lock. SQLite's busy handler instead sleeps and retries, up to 100 ms a time,
    which under load leaves the database idle while writers sleep; an flock on a file beside the
    database queues them in the kernel, which wakes the next one as soon as the lock is free."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    handle = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the handle is closed
        yield
    finally:
        os.close(handle)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _postgresql_without_jit(dbapi_connection: Any, _record: object) -> None:
    """Every query here is a few index look-ups; on a table grown since PostgreSQL last counted
    it, the planner expects millions of rows and compiles the query first (JIT): the audit's
    look-up of leaves past the size took 0.9 s that way at 10^7 leaves, for no row."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET outside any transaction of the pool's
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


_BEFORE_READ = "lianzheng.before_read"  # the session.info key of `before_next_read`


def before_next_read(session: Session, write: Callable[[], None]) -> None:
    """Have `write` run before the session's next statement through `Session.execute` or
    `driver_rows`, or its next flush, and so before any read of what it writes or row that points
    at it: rows kept back to be sent in one statement (ledger/storage.py) are in the database
    whenever anything could look for them."""
    session.info[_BEFORE_READ] = write


def write_deferred(session: Session) -> None:
    """Run the write `before_next_read` set, if any, now."""
    write = session.info.pop(_BEFORE_READ, None)
    if write is not None:
        write()


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    write_deferred(state.session)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: object, _instances: object) -> None:
    """Rows kept back go before the session's own: those may point at them (a party at its case)."""
    write_deferred(session)


def driver_rows(session: Session, sql: str, params: Sequence[object]) -> Sequence[Any]:
    """The rows of `sql` (with `?` placeholders; our text, never input) in the session's
    transaction, sent as text to the driver: for per-leaf and per-append queries, where compiling
    a statement costs more than running it."""
    write_deferred(session)
    return _driver_fetch(session.connection(), sql, params)


def _driver_fetch(connection: Connection, sql: str, params: Sequence[object]) -> Sequence[Any]:
    """The rows of `sql` on `connection` as the driver's own tuples: building SQLAlchemy rows cost
    the audit a quarter of its time."""
    result = connection.exec_driver_sql(_for_driver(connection, sql), tuple(params))
    try:
        rows: Sequence[Any] = result.cursor.fetchall()
    finally:
        result.close()
    return rows


def driver_batch(session: Session, statements: Sequence[tuple[str, Sequence[object]]]) -> None:
    """Run writes (`?` placeholders, our text) in the session's transaction as text sent to the
    driver, as `driver_rows` reads: on PostgreSQL all in one round trip (psycopg's pipeline mode),
    on SQLite, which runs in this process, one after another. A refusal raises SQLAlchemy's error,
    as for any other statement."""
    write_deferred(session)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for sql, params in statements:
            connection.exec_driver_sql(sql, tuple(params))
        return
    if not statements:
        return
    import psycopg  # the driver of every PostgreSQL engine here (make_engine)

    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(_for_driver(connection, sql), params)
    except psycopg.Error as error:  # raised once the pipeline syncs: which statement, it says
        sent = "; ".join(sql for sql, _ in statements)
        raise DBAPIError.instance(sent, None, error, psycopg.Error) from error


def _for_driver(bind: Engine | Connection, sql: str) -> str:
    """`sql` with the driver's placeholders: psycopg's `%s` for sqlite3's `?`."""
    return sql.replace("?", "%s") if bind.dialect.name == "postgresql" else sql


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(engine: Engine, revision: str = "head", locations: Sequence[Path] = ()) -> None:
    """Bring the schema to `revision` with Alembic.

    The ledger's revisions come first; other domains (anchor, evidence) own
    their tables and pass their own folders of revisions as `locations`.
    """
    with engine.begin() as connection:
        if revision == "head" and _at_heads(connection, tuple(locations)):
            return  # one query, where running Alembic would read every revision's file again
        config = _config(tuple(locations))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _config(locations: tuple[Path, ...]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "newline")
    config.set_main_option(
        "version_locations", "\n".join(str(p) for p in (MIGRATIONS / "versions", *locations))
    )
    return config


@cache
def _heads(locations: tuple[Path, ...]) -> frozenset[str]:
    """The newest revisions of these folders: fixed while the process runs."""
    return frozenset(ScriptDirectory.from_config(_config(locations)).get_heads())


def _at_heads(connection: Connection, locations: tuple[Path, ...]) -> bool:
    current = MigrationContext.configure(connection).get_current_heads()
    return frozenset(current) == _heads(locations)


# --- the service's PostgreSQL role (DESIGN.md: leaves are never updated or deleted, by the
# database) -------


def grant_service_role(
    owner: Engine, role: str, password: str | None, tables: Sequence[str]
) -> None:
    """Make `role` (created with `password` if missing) the least-privileged user of the owner's
    tables: on the append-only tables SELECT and INSERT only; `log_head` may be locked and advanced;
    every other table read and written. The role owns nothing, so it can neither alter a table nor
    drop or disable its triggers, and as no superuser it cannot set session_replication_role to
    bypass them."""
    quoted = _identifier(role)
    with owner.begin() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        if exists is None:
            secret = "" if password is None else " PASSWORD " + _literal(password)
            conn.execute(
                text(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE{secret}")
            )
        schema = _identifier(conn.execute(text("SELECT current_schema()")).scalar_one())
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}"))
        conn.execute(text(f"GRANT SELECT ON alembic_version TO {quoted}"))
        for table in tables:
            name = _identifier(table)
            conn.execute(text(f"REVOKE ALL ON {name} FROM {quoted}"))
            rights = (
                "SELECT, INSERT"
                if table in APPEND_ONLY_TABLES
                else "SELECT, INSERT, UPDATE, DELETE"
            )
            rights = "SELECT, UPDATE" if table == "log_head" else rights
            conn.execute(text(f"GRANT {rights} ON {name} TO {quoted}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"))


def _identifier(name: str) -> str:
    if not name or '"' in name or "\x00" in name:
        raise ValueError(f"not a usable SQL identifier: {name!r}")
    return f'"{name}"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
