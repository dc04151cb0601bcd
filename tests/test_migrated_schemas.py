"""The pool of migrated PostgreSQL schemas that the `services` fixture hands from test to test
(tests/support/schemas.py): a schema comes back as the migrations left it, or not at all."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from ledger.users import Role, add_user
from tests.conftest import _migrate
from tests.support.schemas import MigratedSchemas


@pytest.fixture
def schemas(pg_database):
    pool = MigratedSchemas(pg_database, _migrate)
    yield pool
    for schema in pool.free:
        with pool.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    pool.close()


def query(schemas, schema, statement):
    engine = create_engine(schemas.url(schema))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def add_officer(schemas, schema, name):
    engine = create_engine(schemas.url(schema))
    try:
        with sessionmaker(engine).begin() as session:
            add_user(session, name, Role.OFFICER)
    finally:
        engine.dispose()


def test_a_schema_given_back_is_handed_out_again_empty_but_for_what_the_migrations_wrote(schemas):
    schema = schemas.take()
    add_officer(schemas, schema, "officer-1")
    add_officer(schemas, schema, "officer-2")
    query(schemas, schema, "UPDATE log_head SET size = 7 RETURNING size")
    schemas.give_back(schema)

    assert schemas.take() == schema
    assert query(schemas, schema, "SELECT count(*) FROM users") == [(0,)]
    assert query(schemas, schema, "SELECT id, size FROM log_head") == [(1, 0)]
    add_officer(schemas, schema, "officer-3")
    assert query(schemas, schema, "SELECT id FROM users") == [(1,)]  # its sequence restarted


def test_the_append_only_triggers_work_again_once_the_schema_is_handed_out(schemas):
    schema = schemas.take()
    schemas.give_back(schema)
    assert schemas.take() == schema
    with pytest.raises(DBAPIError, match="TRUNCATE on append-only table log_leaves refused"):
        query(schemas, schema, "TRUNCATE log_leaves")


@pytest.mark.parametrize(
    "change",
    [
        "DROP TRIGGER log_leaves_append_only ON log_leaves",
        "ALTER TABLE log_leaves DISABLE TRIGGER log_leaves_append_only",
        "GRANT SELECT ON log_leaves TO PUBLIC",
        "ALTER TABLE users ADD COLUMN note text",
        "CREATE TABLE stray (id integer)",
        "UPDATE alembic_version SET version_num = 'elsewhere'",
    ],
)
def test_a_schema_whose_definition_a_test_changed_is_dropped_not_handed_out(schemas, change):
    schema = schemas.take()
    query(schemas, schema, change)
    schemas.give_back(schema)

    assert schemas.free == []
    assert schemas.take() != schema
    with schemas.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}
        )
        assert found.scalar_one() == 0
