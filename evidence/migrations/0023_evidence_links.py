"""Intake footage linked to its case: the link event's leaf on the item's row (the row's case
number is then the case's, as the link event says).

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("linked_leaf", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("evidence", "linked_leaf")
