"""The staff case list (DESIGN.md, Layout: the portal's pages): the reporting officer on each case
row, filled from each case's first event, and the indexes its filters and sorts use.

Revision ID: 0016
Revises: 0015
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_officer": ("cases", ["officer"]),
    "ix_cases_violation_type": ("cases", ["violation_type"]),
    "ix_cases_created_at": ("cases", ["created_at"]),
    "ix_cases_updated_at": ("cases", ["updated_at"]),
    "ix_cases_district_updated_at": ("cases", ["district", "updated_at"]),
}


def upgrade() -> None:
    op.add_column("cases", sa.Column("officer", sa.String(64), nullable=False, server_default=""))
    _fill_officers()
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def _fill_officers() -> None:
    """Each case's officer is the actor of its first event (seq 0), as the log records it."""
    bind = op.get_bind()
    first_leaves = bind.execute(
        sa.text(
            "SELECT l.case_no, l.data FROM log_leaves l JOIN ("
            " SELECT case_no, MIN(leaf_index) AS first FROM log_leaves"
            " WHERE case_no IS NOT NULL GROUP BY case_no"
            ") f ON l.leaf_index = f.first"
        )
    )
    for case_no, data in first_leaves:
        actor = json.loads(bytes(data))["actor"]
        bind.execute(
            sa.text("UPDATE cases SET officer = :actor WHERE case_no = :case_no"),
            {"actor": actor, "case_no": case_no},
        )


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table)
    with op.batch_alter_table("cases") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("officer")
