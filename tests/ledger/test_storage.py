"""The log in the database: gap-free appends, O(log n) proofs, append-only tables."""

import math
import threading

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from ledger import db, merkle, storage
from ledger.errors import InvalidInput
from ledger.storage import case_leaves, node_rows
from ledger.trust import verify_checkpoint


def _append(services, payloads):
    """The places of `payloads` and the head their transaction was sealed with."""
    with services.store.transaction(services.sessions) as tx:
        appended = tx.append([(p, None) for p in payloads])
    return appended, tx.head


def _fill(services, n, batch=100):
    data = [b'{"n":%d}' % i for i in range(n)]
    for start in range(0, n, batch):
        _append(services, data[start : start + batch])
    return [merkle.leaf_hash(d) for d in data]


def test_appends_get_consecutive_indexes_and_a_checkpoint_of_the_new_size(services):
    appended, head = _append(services, [b"a", b"b", b"c"])
    assert [a.index for a in appended] == [0, 1, 2]
    appended, head = _append(services, [b"d"])
    assert appended[0].index == 3 and head.size == 4
    assert head.root == merkle.root_from_leaves(
        [merkle.leaf_hash(x) for x in (b"a", b"b", b"c", b"d")]
    )
    assert verify_checkpoint(services.trust.latest(), head.note).checkpoint.size == 4


def test_every_inclusion_and_consistency_proof_of_a_stored_tree_verifies(services):
    leaves = _fill(services, 37, batch=5)
    with services.sessions() as session:
        for size in range(5, 38, 5):  # checkpointed sizes are the batch boundaries
            root = merkle.root_from_leaves(leaves[:size])
            assert services.store.root(session, size) == root
            for index in range(size):
                p = services.store.inclusion_proof(session, index, size)
                merkle.verify_inclusion(index, size, leaves[index], p.proof, root)
            for size1 in range(1, size + 1):
                c = services.store.consistency_proof(session, size1, size)
                merkle.verify_consistency(
                    size1, size, merkle.root_from_leaves(leaves[:size1]), root, c.proof
                )


def test_a_proof_reads_its_stored_nodes_and_leaf_hashes_in_one_batched_query_each(services):
    _fill(services, 1000, batch=250)
    reads, nodes, leaves = [], [], []

    def count(conn, cursor, statement, params, context, executemany):
        if isinstance(params, dict) and "FROM log_nodes" in statement:
            reads.append(statement)  # PostgreSQL: nodes and leaf hashes in one statement
            nodes.append(len(params["levels"]))
            leaves.append(len(params["leaves"]))
        elif "FROM log_nodes" in statement:
            reads.append(statement)
            nodes.append(len(params) // 2)
        elif "FROM log_leaves" in statement:
            reads.append(statement)
            leaves.append(len(params))

    event.listen(services.engine, "before_cursor_execute", count)
    with services.sessions() as session:
        services.store.inclusion_proof(session, 617, 1000)
        services.store.consistency_proof(session, 333, 1000)
    event.remove(services.engine, "before_cursor_execute", count)
    per_proof = 1 if services.engine.dialect.name == "postgresql" else 2
    assert len(reads) == 2 * per_proof, reads
    # O(log n) stored nodes; leaf hashes: the unstored levels of at most three 16-leaf blocks
    assert all(n <= 2 * math.ceil(math.log2(1000)) + 2 for n in nodes), nodes
    assert all(n <= 3 * 2**storage.STORED_FROM_LEVEL for n in leaves), leaves


def test_nodes_below_the_stored_levels_are_never_written_and_hashed_from_their_leaves(services):
    leaves = _fill(services, 40, batch=7)
    with services.engine.connect() as conn:
        levels = conn.execute(text("SELECT DISTINCT level FROM log_nodes")).scalars().all()
    assert min(levels) == storage.STORED_FROM_LEVEL
    wanted = {merkle.NodeId(level, 1) for level in range(storage.STORED_FROM_LEVEL + 1)}
    with services.sessions() as session:
        found = {merkle.NodeId(lv, i): h for lv, i, h in node_rows(session, wanted)}
    for node in wanted:
        width = 1 << node.level
        assert found[node] == merkle.root_from_leaves(leaves[node.index * width :][:width])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("table", ["log_nodes", "log_leaves"])
def test_proof_reads_search_the_primary_key_instead_of_scanning_the_table(services, table):
    # SQLite's planner scans the table for a row-value IN list; PostgreSQL's does not.
    _fill(services, 100)
    seen = []

    def capture(conn, cursor, statement, params, context, executemany):
        if f"FROM {table}" in statement:
            seen.append((statement, params))

    event.listen(services.engine, "before_cursor_execute", capture)
    with services.sessions() as session:
        services.store.inclusion_proof(session, 37, 100)
    event.remove(services.engine, "before_cursor_execute", capture)
    statement, params = seen[-1]
    with services.engine.connect() as conn:
        plan = " ".join(
            row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert f"SEARCH {table} USING" in plan and f"SCAN {table}" not in plan, plan


def test_rows_appended_in_a_transaction_are_there_for_any_read_in_it(services):
    _fill(services, 3)
    with services.store.transaction(services.sessions) as tx:
        [appended] = tx.append([(b'{"n":"late"}', "CG-2026-000001")])
        # an ORM read: the kept-back rows go first
        [leaf] = case_leaves(tx.session, "CG-2026-000001")
        assert (leaf.index, leaf.leaf_hash) == (3, appended.leaf_hash)
        tx.append([(b'{"n":"later"}', None)])
        # a read sent to the driver (the SQLite node query): the same
        wanted = {merkle.NodeId(0, 4), merkle.NodeId(1, 1)}
        assert {(level, index) for level, index, _ in node_rows(tx.session, wanted)} == {
            (0, 4),
            (1, 1),
        }
    with services.sessions() as session:
        assert services.store.root(session, 5) == tx.head.root


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: the row lock
def test_a_sqlite_writer_waits_its_turn_while_another_process_writes(services):
    finished = threading.Event()

    def write():
        _append(services, [b"queued"])
        finished.set()

    with db.writers_turn(services.engine):  # as another process's writer would hold it
        writer = threading.Thread(target=write)
        writer.start()
        assert not finished.wait(0.3), "the writer went ahead of the one holding the turn"
    writer.join(timeout=60)
    assert finished.is_set(), "the writer never got its turn"
    with services.sessions() as session:
        assert services.store.latest_size(session) == 1


def test_a_proof_beyond_the_tree_is_refused(services):
    _fill(services, 4)
    with services.sessions() as session:
        with pytest.raises(InvalidInput, match="leaf index 4 is not in the tree of size 4"):
            services.store.inclusion_proof(session, 4)
        with pytest.raises(InvalidInput, match="tree size 9"):
            services.store.inclusion_proof(session, 0, 9)
        with pytest.raises(InvalidInput, match="from size 0"):
            services.store.consistency_proof(session, 0, 4)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE log_leaves SET data = X'00' WHERE leaf_index = 0",
        "DELETE FROM log_leaves WHERE leaf_index = 0",
        "UPDATE log_nodes SET hash = X'00' WHERE level = 4",
        "DELETE FROM log_nodes",
        "DELETE FROM log_checkpoints",
        "TRUNCATE log_leaves",
    ],
)
def test_the_database_itself_refuses_to_change_or_delete_log_rows(services, statement):
    _fill(services, 16)  # one stored node, on level 4
    dialect = services.engine.dialect.name
    if dialect == "sqlite":
        statement = statement.replace("X'00'", "x'00'").replace(
            "TRUNCATE log_leaves", "DELETE FROM log_leaves"
        )
    else:
        statement = statement.replace("X'00'", "'\\x00'::bytea")
    with pytest.raises(DBAPIError, match="append-only table"):
        with services.engine.begin() as conn:
            conn.execute(text(statement))
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_leaves")).scalar() == 16
        assert conn.execute(text("SELECT count(*) FROM log_nodes")).scalar() == 1


def test_proofs_asked_during_concurrent_appends_always_match_their_checkpoint(services):
    _fill(services, 10)
    root = services.trust.latest()
    stop, failures, checked = threading.Event(), [], []

    def writer():
        while not stop.is_set():
            _append(services, [b"w%d" % len(checked)])

    def reader():
        while len(checked) < 150:
            with services.sessions() as session:
                index = services.store.latest_size(session) // 2
                p = services.store.inclusion_proof(session, index)  # default: latest checkpoint
                note = services.store.checkpoint(session, p.size).note
            try:
                cp = verify_checkpoint(root, note).checkpoint
                merkle.verify_inclusion(index, cp.size, p.leaf_hash, p.proof, cp.root)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)
            checked.append(p.size)

    writers = [threading.Thread(target=writer) for _ in range(3)]
    for t in writers:
        t.start()
    try:
        reader()
    finally:
        stop.set()
        for t in writers:
            t.join()
    assert failures == []
    assert len(set(checked)) > 10, "the log should have grown while proofs were asked"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_connections_never_compile_queries_with_jit(services):
    # A look-up planned for millions of rows on a freshly grown table spent 0.9 s compiling.
    with services.engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"
        conn.commit()
    with services.engine.begin() as conn:  # and the pool's next transaction is a normal one
        assert conn.execute(text("SELECT count(*) FROM log_leaves")).scalar() == 0
