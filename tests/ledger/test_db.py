"""The database helpers every domain shares (ledger/db.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from ledger import db
from ledger.users import Role, add_user, authenticate
from verify_portal.app.services import Services


def _autocommit(driver: Any) -> bool:
    """Whether the driver's connection (sqlite3 or psycopg) runs each statement on its own."""
    if isinstance(driver, sqlite3.Connection):  # SQLAlchemy drives it in its legacy mode
        return driver.isolation_level is None
    return bool(driver.autocommit)


def test_a_lone_read_leaves_no_transaction_to_roll_back(services: Services) -> None:
    with db.lone_read(services.engine) as connection:
        connection.execute(text("SELECT 1"))
        # each statement on its own: no BEGIN was sent, so no ROLLBACK is owed
        assert _autocommit(connection.connection.driver_connection)


def test_lone_rows_are_the_driver_s_rows_of_a_statement_with_question_marks(
    services: Services,
) -> None:
    with services.sessions.begin() as session:
        add_user(session, "court-7", Role.COURT)
        add_user(session, "court-8", Role.COURT)
    sql = "SELECT username, role FROM users WHERE username = ? OR username = ? ORDER BY id"
    rows = db.lone_rows(services.engine, sql, ["court-8", "court-7"])
    assert [tuple(row) for row in rows] == [("court-7", "court"), ("court-8", "court")]
    assert services.engine.pool.checkedout() == 0  # the connection went back


def test_a_token_authenticates_its_user_on_either_database(services: Services) -> None:
    with services.sessions.begin() as session:
        token = add_user(session, "court-7", Role.COURT, district="xuhui")
    actor = authenticate(services.engine, token)
    assert (actor.username, actor.role, actor.district) == ("court-7", Role.COURT, "xuhui")


def test_a_session_after_a_lone_read_on_its_connection_is_a_transaction_again(
    services: Services,
) -> None:
    """The pool hands the same connection on: the autocommit of the read must not stay with it."""
    services.engine.dispose()
    with db.lone_read(services.engine) as connection:
        connection.execute(text("SELECT 1"))
    with services.sessions() as session:
        session.execute(text("SELECT 1"))
        connection = session.connection()
        assert services.engine.pool.checkedout() == 1  # the one connection, handed on
        assert not _autocommit(connection.connection.driver_connection)


def test_a_driver_batch_runs_every_statement_in_the_session_s_transaction(
    services: Services,
) -> None:
    insert = "INSERT INTO log_checkpoints (size, root, note) VALUES (?, ?, ?)"
    with services.sessions.begin() as session:
        db.driver_batch(session, [(insert, (7, bytes(32), "seven")), (insert, (8, bytes(32), ""))])
    with services.sessions() as session:
        notes = session.execute(text("SELECT note FROM log_checkpoints ORDER BY size")).all()
    assert [note for (note,) in notes] == ["seven", ""]


def test_a_statement_the_database_refuses_in_a_batch_raises_sqlalchemy_s_error(
    services: Services,
) -> None:
    insert = "INSERT INTO log_checkpoints (size, root, note) VALUES (?, ?, ?)"
    with pytest.raises(IntegrityError, match="log_checkpoints"):
        with services.sessions.begin() as session:
            db.driver_batch(session, [(insert, (7, bytes(32), "")), (insert, (7, bytes(32), ""))])
    with services.sessions() as session:  # rolled back whole
        assert session.execute(text("SELECT count(*) FROM log_checkpoints")).scalar_one() == 0


def _closed_by_the_database(engine: Engine) -> int:
    """Have PostgreSQL close the pool's one idle connection, as a restart would; its process id."""
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
    admin.dispose()
    return int(pid)


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_idle_long_enough_is_pinged_and_replaced_if_the_database_closed_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    closed = _closed_by_the_database(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    assert _backend(engine) != closed  # a new connection, without an error
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_used_a_moment_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", pings.append)
    first = _backend(engine)
    assert _backend(engine) == first and pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first and len(pings) == 1
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lone_read_on_a_connection_the_database_closed_is_read_again(database_url: str) -> None:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    closed = _closed_by_the_database(engine)  # used a moment ago: not pinged
    [(pid,)] = db.lone_rows(engine, "SELECT pg_backend_pid()", [])
    assert pid != closed
    engine.dispose()
