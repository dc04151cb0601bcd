"""An index on evidence poster hashes: the retention run asks, under the append lock, which items
still use a blob as their file or their poster (evidence/retention_service.py), and without it
that question scanned the whole evidence table while every writer waited.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_evidence_poster_sha256", "evidence", ["poster_sha256"])


def downgrade() -> None:
    op.drop_index("ix_evidence_poster_sha256", "evidence")
