"""Audit runs, for the dashboard.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("clean", sa.Integer, nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_runs")
