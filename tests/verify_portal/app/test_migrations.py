"""The schema: every domain's Alembic revisions and the SQLAlchemy models describe the same
tables."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import anchor
import evidence
from ledger import db
from ledger.models import Base
from verify_portal.app.services import PORTAL_MIGRATIONS, migrate

LOCATIONS = (anchor.MIGRATIONS, evidence.MIGRATIONS, PORTAL_MIGRATIONS)


def test_the_migrated_schema_matches_the_models(services):
    with services.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_domains_revisions_are_applied_in_one_chain(services):
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0019"


def test_upgrading_twice_changes_nothing(services):
    migrate(services.engine)  # a second `make run` migrates again: it must be a no-op
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0019"


def test_upgrading_to_the_case_list_fills_each_cases_officer_from_its_first_event(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0015", locations=LOCATIONS)  # a deployment from before the case list
    first = {"type": "case.reported", "case_no": "CG-2026-000001", "seq": 0, "actor": "officer-7"}
    later = {**first, "type": "case.filed", "seq": 1, "actor": "supervisor-1"}
    with engine.begin() as conn:
        for index, event in enumerate((first, later)):
            conn.execute(
                text(
                    "INSERT INTO log_leaves (leaf_index, leaf_hash, data, case_no) "
                    "VALUES (:i, :h, :d, 'CG-2026-000001')"
                ),
                {"i": index, "h": bytes([index]) * 32, "d": json.dumps(event).encode()},
            )
        conn.execute(
            text(
                "INSERT INTO cases (case_no, serial, state, violation_type, district, source, seq, "
                "last_leaf_hash, created_at, updated_at) VALUES ('CG-2026-000001', 1, 'FILED', "
                "'stall', 'xuhui', 'patrol', 2, :h, :t, :t)"
            ),
            {"h": bytes(32), "t": "2026-03-01 00:00:00.000000"},
        )
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT officer FROM cases")).scalar_one() == "officer-7"
