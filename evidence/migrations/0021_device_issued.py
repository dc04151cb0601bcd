"""Which officer carries each bodycam (the `device.issued` events of the registry chain), for the
docking station to name the officer of what it ingests.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("issued_to", sa.String(64)))
    op.create_index("ix_devices_issued_to", "devices", ["issued_to"])


def downgrade() -> None:
    op.drop_index("ix_devices_issued_to", "devices")
    with op.batch_alter_table("devices") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("issued_to")
