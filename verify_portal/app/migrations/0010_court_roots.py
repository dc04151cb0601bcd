"""Trust roots of other agencies that an admin registered for the court page.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "court_roots",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("log_origin", sa.String(255), nullable=False, unique=True),
        sa.Column("agency", sa.String(255), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("rpc_url", sa.String(500)),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("court_roots")
