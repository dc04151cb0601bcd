"""Many writers at once on PostgreSQL: unique, gap-free indexes and nothing lost."""

import threading

import pytest
from sqlalchemy import select

from ledger import audit
from ledger.models import Leaf
from ledger.users import Role, add_user, by_username

WRITERS, CASES_EACH = 8, 12


@pytest.fixture(params=["postgresql"])
def database_url(request, pg_database):
    # Override: this test is about PostgreSQL row locking across connections.
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_eight_concurrent_writers_get_every_event_in_the_log_exactly_once(services):
    with services.sessions.begin() as session:
        add_user(session, "officer", Role.OFFICER)
    with services.sessions() as session:
        actor = by_username(session, "officer")
    acknowledged, errors = [], []
    lock = threading.Lock()

    def writer(w):
        try:
            for _ in range(CASES_EACH):
                report = {"source": "patrol", "violation_type": "stall", "district": f"d{w}"}
                created = services.cases.create(actor, report)
                stepped = services.cases.transition(actor, created["case_no"], "FILED", {})
                with lock:
                    acknowledged.extend([created, stepped])
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    total = WRITERS * CASES_EACH * 2
    indexes = sorted(a["index"] for a in acknowledged)
    assert indexes == list(range(total)), "indexes must be unique and gap-free"
    with services.sessions() as session:
        stored = {i: h.hex() for i, h in session.execute(select(Leaf.leaf_index, Leaf.leaf_hash))}
        assert {a["index"]: a["leaf_hash"] for a in acknowledged} == stored
        report = audit.run(session, services.trust.latest())
    assert report.clean, report.findings
    assert report.size == total
