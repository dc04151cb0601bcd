"""The staff case list finds cases by the officer who registered their evidence.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_evidence_officer", "evidence", ["officer"])


def downgrade() -> None:
    op.drop_index("ix_evidence_officer", "evidence")
