"""Rate limits by client replace the hand-made lockouts (their counters go); staff sessions on the
server.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("lookup_failures")
    with op.batch_alter_table("case_codes") as table:
        table.drop_column("failures")
        table.drop_column("locked_until")
    with op.batch_alter_table("staff_logins") as table:
        table.drop_column("failures")
        table.drop_column("locked_until")
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the lockout counters are not brought back")
