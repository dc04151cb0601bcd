"""The schema: every domain's Alembic revisions and the SQLAlchemy models describe the same
tables."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

import anchor
import evidence
from ledger import db, merkle
from ledger.keyring import ED25519, KeyRing
from ledger.models import Base
from ledger.storage import LogStore
from verify_portal.app.services import PORTAL_MIGRATIONS, migrate

LOCATIONS = (anchor.MIGRATIONS, evidence.MIGRATIONS, PORTAL_MIGRATIONS)


def test_the_migrated_schema_matches_the_models(services):
    with services.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_domains_revisions_are_applied_in_one_chain(services):
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0024"


def test_upgrading_twice_changes_nothing(services):
    migrate(services.engine)  # a second `make run` migrates again: it must be a no-op
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0024"


def test_an_older_schema_is_upgraded_after_a_newer_one_was_found_up_to_date(services, tmp_path):
    migrate(services.engine)  # found at the newest revision: nothing run
    older = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(older, "0015", locations=LOCATIONS)
    migrate(older)
    with older.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0024"
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    older.dispose()


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


def _log_before_unstored_low_nodes(tmp_path, leaves):
    """A deployment from before revision 0020: every node stored, levels 0 to 3 included."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0019", locations=LOCATIONS)
    compact, nodes = merkle.CompactRange(), []
    for leaf in leaves:
        nodes += compact.append(leaf)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO log_leaves (leaf_index, leaf_hash, data) VALUES (:i, :h, :d)"),
            [{"i": i, "h": h, "d": b"{}"} for i, h in enumerate(leaves)],
        )
        conn.execute(
            text("INSERT INTO log_nodes (level, node_index, hash) VALUES (:l, :i, :h)"),
            [{"l": n.level, "i": n.index, "h": h} for n, h in nodes],
        )
        conn.execute(text("UPDATE log_head SET size = :s"), {"s": len(leaves)})
    return engine


def _node_levels(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT level, count(*) FROM log_nodes GROUP BY level")).all()


def test_upgrading_to_unstored_low_nodes_removes_them_and_every_proof_stays_the_same(tmp_path):
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(70)]
    engine = _log_before_unstored_low_nodes(tmp_path, leaves)
    migrate(engine)
    assert dict(_node_levels(engine)) == {4: 4, 5: 2, 6: 1}
    with engine.connect() as conn:
        indexes = conn.execute(text("PRAGMA index_list(log_leaves)")).all()
    assert "ix_log_leaves_leaf_hash" not in {row[1] for row in indexes}
    store = LogStore("example.gov.cn/log", KeyRing(tmp_path / "log.pem", True, tmp_path, ED25519))
    with Session(engine) as session:
        for size in (1, 16, 17, 64, 70):
            root = merkle.root_from_leaves(leaves[:size])
            assert store.root(session, size) == root
            for index in (0, size // 2, size - 1):
                proof = store.inclusion_proof(session, index, size)
                merkle.verify_inclusion(index, size, leaves[index], proof.proof, root)


def test_an_upgrade_refuses_a_log_whose_low_nodes_differ_from_its_leaves_and_changes_nothing(
    tmp_path,
):
    engine = _log_before_unstored_low_nodes(tmp_path, [merkle.leaf_hash(b"x")] * 20)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER log_nodes_no_update"))
        conn.execute(text("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 2"))
    before = _node_levels(engine)
    with pytest.raises(RuntimeError, match=r"node \(level 2, index 0\) is not what its leaves"):
        migrate(engine)
    assert _node_levels(engine) == before
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0019"
