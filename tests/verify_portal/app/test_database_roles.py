"""On PostgreSQL the service connects as a role that may append to the log and nothing more: it
cannot update, delete or truncate a leaf by any route (plain, replication role, ALTER TABLE, DROP
TRIGGER), while the service works as usual. Migrations run as the tables' owner (`lianzheng db
upgrade`)."""

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from ledger.models import APPEND_ONLY_TABLES
from tests.conftest import pg_schema
from tests.support.api import OPEN_CASE
from verify_portal.cli import main

ATTACKS = [
    "UPDATE log_leaves SET data = 'x'",
    "DELETE FROM log_leaves",
    "TRUNCATE log_leaves",
    "SET session_replication_role = replica",
    "ALTER TABLE log_leaves DISABLE TRIGGER ALL",
    "DROP TRIGGER log_leaves_append_only ON log_leaves",
    "ALTER TABLE log_leaves OWNER TO CURRENT_USER",
    "UPDATE log_checkpoints SET note = 'x'",
    "DELETE FROM trust_roots",
    "DELETE FROM party_cases",
]


@pytest.fixture
def roles(pg_database, tmp_path):
    """The owner's URL and the service role's URL on a fresh schema; the role is dropped
    afterwards."""
    role = f"lz_service_{uuid.uuid4().hex[:10]}"
    with pg_schema(pg_database) as owner_url:
        service_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
        env = {
            "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": service_url,
            "LIANZHENG_MIGRATION_DATABASE_URL": owner_url,
        }
        try:
            yield env, owner_url, service_url
        finally:
            admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()


def test_the_service_role_appends_and_can_change_no_leaf_by_any_route(roles):
    env, _, service_url = roles
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    runner = CliRunner()
    assert (
        runner.invoke(main, ["user", "add", "officer-1", "--role", "officer"], env=env).exit_code
        == 0
    )
    opened = runner.invoke(
        main,
        [
            *OPEN_CASE,
        ],
        env=env,
    )
    assert opened.exit_code == 0, opened.output  # the service works as this role
    service = create_engine(service_url)
    try:
        for attack in ATTACKS:
            with pytest.raises(DBAPIError) as refused, service.begin() as conn:
                conn.execute(text(attack))
            assert (
                "permission denied" in str(refused.value)
                or "must be owner" in str(refused.value)
                or "refused" in str(refused.value)
            ), attack
        with service.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM log_leaves")).scalar_one() == 1
    finally:
        service.dispose()


def test_the_role_may_only_read_and_insert_the_append_only_tables(roles):
    env, owner_url, _ = roles
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    role = make_url(env["DATABASE_URL"]).username
    owner = create_engine(owner_url)
    try:
        with owner.connect() as conn:
            rights = conn.execute(
                text(
                    "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
                    "FROM "
                    "information_schema.role_table_grants WHERE grantee = :r GROUP BY table_name"
                ),
                {"r": role},
            ).all()
    finally:
        owner.dispose()
    by_table = dict(rights)
    for table in APPEND_ONLY_TABLES:
        assert by_table[table] == "INSERT,SELECT", table
    assert (
        by_table["log_head"] == "SELECT,UPDATE"
        and by_table["cases"] == "DELETE,INSERT,SELECT,UPDATE"
    )


def test_a_service_started_as_the_role_finds_the_schema_current(roles):
    env, _, service_url = roles
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    service_only = {k: v for k, v in env.items() if k != "LIANZHENG_MIGRATION_DATABASE_URL"}
    status = CliRunner().invoke(
        main, ["log", "checkpoint"], env=service_only
    )  # migrates: nothing to do
    assert (
        status.exit_code == 1 and "the log is empty" in status.output
    )  # answered, not a permission error
