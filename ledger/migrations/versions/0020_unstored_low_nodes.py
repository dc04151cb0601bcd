"""The log's four lowest node levels are no longer stored (ledger/storage.py, STORED_FROM_LEVEL):
each is hashed, when asked for, from the at most eight leaf hashes below it. Their rows go, and so
does the index on leaf hashes, which no query used.

Only rows that the leaves give back are removed: a low node that differs from its leaves, or that
has none, is evidence (DESIGN.md: The log, `audit` names each node that differs), and the upgrade
then stops, changing nothing, until `lianzheng audit` has named it and the damage is dealt with.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from ledger import merkle

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

STORED_FROM_LEVEL = 4  # ledger/storage.py as of this revision
CHUNK = 1 << 12  # leaves checked at once: a multiple of every unstored node's width


def upgrade() -> None:
    _check_low_nodes()
    _delete_low_nodes()
    op.drop_index("ix_log_leaves_leaf_hash", "log_leaves")


def _check_low_nodes() -> None:
    """Every stored node below STORED_FROM_LEVEL must be the tree hash of its leaves."""
    bind = op.get_bind()
    total = bind.execute(
        sa.text("SELECT count(*) FROM log_nodes WHERE level < :s"), {"s": STORED_FROM_LEVEL}
    ).scalar_one()
    size = bind.execute(sa.text("SELECT size FROM log_head WHERE id = 1")).scalar_one()
    checked = 0
    for start in range(0, size, CHUNK):
        stored = _stored_low_nodes(bind, start, start + CHUNK)
        expected = _low_nodes(_leaf_hashes(bind, start, start + CHUNK))
        differing = [node for node, digest in stored.items() if expected.get(node) != digest]
        if differing:
            level, index = differing[0]
            raise RuntimeError(
                f"node (level {level}, index {index}) is not what its leaves give "
                f"({len(differing)} such node(s) near leaf {start}): run `lianzheng audit`; "
                "the upgrade changed nothing"
            )
        checked += len(stored)
    if checked != total:
        raise RuntimeError(
            f"{total - checked} node(s) below level {STORED_FROM_LEVEL} lie beyond the log's "
            f"size {size}: run `lianzheng audit`; the upgrade changed nothing"
        )


def _leaf_hashes(bind: sa.Connection, start: int, end: int) -> dict[int, bytes]:
    rows = bind.execute(
        sa.text(
            "SELECT leaf_index, leaf_hash FROM log_leaves"
            " WHERE leaf_index >= :a AND leaf_index < :b"
        ),
        {"a": start, "b": end},
    )
    return {index: bytes(digest) for index, digest in rows}


def _stored_low_nodes(bind: sa.Connection, start: int, end: int) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    for level in range(STORED_FROM_LEVEL):
        rows = bind.execute(
            sa.text(
                "SELECT node_index, hash FROM log_nodes"
                " WHERE level = :l AND node_index >= :a AND node_index < :b"
            ),
            {"l": level, "a": start >> level, "b": end >> level},
        )
        found.update(((level, index), bytes(digest)) for index, digest in rows)
    return found


def _low_nodes(leaves: dict[int, bytes]) -> dict[tuple[int, int], bytes]:
    """The nodes of levels 0 to STORED_FROM_LEVEL - 1 whose leaves are all in `leaves`."""
    nodes = {(0, index): digest for index, digest in leaves.items()}
    for level in range(1, STORED_FROM_LEVEL):
        for index in _parent_indexes(nodes, level):
            left, right = nodes.get((level - 1, 2 * index)), nodes.get((level - 1, 2 * index + 1))
            if left is not None and right is not None:
                nodes[(level, index)] = merkle.node_hash(left, right)
    return nodes


def _parent_indexes(nodes: dict[tuple[int, int], bytes], level: int) -> Iterator[int]:
    return iter(sorted({index >> 1 for lv, index in nodes if lv == level - 1}))


def _delete_low_nodes() -> None:
    """Lift log_nodes' append-only trigger (migration 0001) for this one statement."""
    delete = f"DELETE FROM log_nodes WHERE level < {STORED_FROM_LEVEL}"
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_append_only")
        op.execute(delete)
        op.execute("ALTER TABLE log_nodes ENABLE TRIGGER log_nodes_append_only")
        return
    op.execute("DROP TRIGGER log_nodes_no_delete")
    op.execute(delete)
    op.execute(
        "CREATE TRIGGER log_nodes_no_delete BEFORE DELETE ON log_nodes BEGIN SELECT "
        "RAISE(ABORT, 'lianzheng: DELETE on append-only table log_nodes refused'); END"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger schema is never downgraded: the log is append-only")
