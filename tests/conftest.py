"""Fixtures shared by the whole suite.

Every database test runs twice: on a fresh SQLite file and on a fresh schema
of its own in the PostgreSQL at 127.0.0.1:5432 (PG* environment variables or
LIANZHENG_TEST_PG_URL override it). The test run creates its own database
there and drops it at the end.

A test that builds the services gets its database migrated already: on SQLite
a copy of a file migrated once per test process (0.08 s a test saved), on
PostgreSQL a schema from a pool of migrated schemas that are emptied after each
test (tests/support/schemas.py; 0.02 s instead of 0.2-0.5 s to migrate). A
database copied from a migrated template took 0.42 s (its files are fsynced).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger import db
from ledger.users import Role, add_user
from tests.support.privacy import personal_data_in_leaves
from tests.support.schemas import MigratedSchemas, schema_url
from verify_portal.app import logins
from verify_portal.app.services import Services, build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app

pytest_plugins = [
    "tests.chain_fixtures",
    "tests.media_fixtures",
    "tests.live_server",
    "tests.package_fixtures",
    "tests.s3_fixtures",
]

PG_ADMIN_URL = os.environ.get(
    "LIANZHENG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


PRODUCTION_SCRYPT = dict(logins.SCRYPT)  # as the service hashes portal passwords


@pytest.fixture(autouse=True, scope="session")
def cheap_portal_passwords() -> Iterator[None]:
    """Portal passwords are hashed with scrypt at N=2^10 in the test processes instead of 2^15: 3 ms
    instead of 90 for each password set or checked, which the staff tests do hundreds of times.
    For the whole session, so that a password set by a module's fixture is checked at the same
    cost. Servers started as processes keep the production cost, and
    tests/verify_portal/app/test_logins.py checks that cost."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logins, "SCRYPT", {**PRODUCTION_SCRYPT, "n": 2**10})
        yield


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this test run's own on the local PostgreSQL, dropped afterwards."""
    name = f"lz_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh database on each backend: empty, except an SQLite file for a test that builds the
    services, which comes migrated (the services migrate it again, finding nothing to do)."""
    if request.param == "sqlite":
        path = tmp_path / "lianzheng.db"
        if "services" in request.fixturenames:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    if "services" in request.fixturenames:
        schemas: MigratedSchemas = request.getfixturevalue("migrated_schemas")
        schema = schemas.take()
        try:
            yield schemas.url(schema)
        finally:
            schemas.give_back(schema)
        return
    with pg_schema(request.getfixturevalue("pg_database")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file at the latest revision of every domain, its write-ahead log folded in."""
    path = tmp_path_factory.mktemp("migrated") / "lianzheng.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def migrated_schemas(pg_database: str) -> Iterator[MigratedSchemas]:
    """This test process's pool of migrated PostgreSQL schemas, emptied between tests."""
    schemas = MigratedSchemas(pg_database, _migrate)
    yield schemas
    schemas.close()


def _migrate(url: str) -> None:
    engine = db.make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """The URL of a new, empty schema in the PostgreSQL database `base`, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return Settings.from_env(
        {"LIANZHENG_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build(settings)
    migrate(services.engine)
    yield services
    try:
        assert personal_data_in_leaves(services.engine) == [], "personal data in the log"
    finally:
        services.engine.dispose()


@pytest.fixture
def app(services: Services):  # type: ignore[no-untyped-def]
    app = create_app(services=services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    """A bearer token per role: officer, system, supervisor, legal, court, admin."""
    with services.sessions.begin() as session:
        return {role.value: add_user(session, f"{role.value}-1", role) for role in Role}


@pytest.fixture
def staff(services: Services, tokens: dict[str, str]) -> Services:
    """The supervisor and the officer may sign in to the staff pages with STAFF_PASSWORD."""
    from tests.support.api import STAFF_PASSWORD

    services.logins.set_password("supervisor-1", STAFF_PASSWORD)
    services.logins.set_password("officer-1", STAFF_PASSWORD)
    return services


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
