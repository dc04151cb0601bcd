"""Each audit run records the log size it covered and the root it recomputed there, where an
incremental audit (`lianzheng audit --incremental`) starts, sealed with an HMAC of the service's
so that a row written behind its back is not a place to start from.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_runs") as table:
        table.add_column(sa.Column("size", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("root", sa.LargeBinary(32), nullable=True))
        table.add_column(sa.Column("since", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("seal", sa.LargeBinary(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_runs") as table:
        table.drop_column("seal")
        table.drop_column("since")
        table.drop_column("root")
        table.drop_column("size")
