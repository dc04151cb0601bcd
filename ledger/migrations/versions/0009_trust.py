"""Key history (which key signs checkpoints of which sizes, packages at which times) and the trust
roots the deployment published, each replacing the one before.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "log_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(64), nullable=False),
        sa.Column("valid_from_size", sa.BigInteger),
        sa.Column("valid_until_size", sa.BigInteger),
        sa.Column("valid_from", TS),
        sa.Column("valid_until", TS),
        sa.UniqueConstraint("kind", "public_key"),
    )
    op.create_table(
        "trust_roots",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("published_at", TS, nullable=False),
    )
    _append_only("trust_roots")


def _append_only(table: str) -> None:
    """A published root is never changed: its successor replaces it (same triggers as the log's)."""
    if op.get_bind().dialect.name == "postgresql":
        for when, each in (("UPDATE OR DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            name = "append_only" if each == "ROW" else "no_truncate"
            op.execute(
                f"CREATE TRIGGER {table}_{name} BEFORE {when} ON {table} "
                f"FOR EACH {each} EXECUTE FUNCTION lianzheng_append_only()"
            )
        return
    for op_name in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'lianzheng: {op_name} on append-only table {table} "
            "refused'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("published trust roots are never removed")
