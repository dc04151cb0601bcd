"""Witnesses' cosignatures on the log's checkpoints, append-only like the checkpoints themselves.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_cosignatures",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(255), primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER log_cosignatures_append_only BEFORE UPDATE OR DELETE ON "
            "log_cosignatures FOR EACH ROW EXECUTE FUNCTION lianzheng_append_only()"
        )
        op.execute(
            "CREATE TRIGGER log_cosignatures_no_truncate BEFORE TRUNCATE ON log_cosignatures "
            "FOR EACH STATEMENT EXECUTE FUNCTION lianzheng_append_only()"
        )
        return
    for op_name in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER log_cosignatures_no_{op_name.lower()} BEFORE {op_name} ON "
            f"log_cosignatures BEGIN SELECT RAISE(ABORT, 'lianzheng: {op_name} on append-only "
            "table log_cosignatures refused'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("cosignatures are append-only")
