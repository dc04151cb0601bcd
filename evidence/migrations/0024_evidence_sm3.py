"""The SM3 digest of every evidence file beside its SHA-256 (DESIGN.md: 国密 digests and
signatures); empty for items registered before, whose events name none.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("sm3", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("evidence", "sm3")
