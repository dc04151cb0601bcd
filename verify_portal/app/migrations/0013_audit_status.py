"""Audit runs that run in the background: their status, when they finished, what was acknowledged.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_runs") as table:
        table.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="done"))
        table.add_column(
            sa.Column("started_by", sa.String(64), nullable=False, server_default="cli")
        )
        table.add_column(sa.Column("finished_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("open_findings", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("acknowledged", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("audit_runs") as table:
        for column in ("acknowledged", "open_findings", "finished_at", "started_by", "status"):
            table.drop_column(column)
