"""The ledger: log leaves, nodes, checkpoints (append-only), cases, parties, users, idempotency.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("log_leaves", "log_nodes", "log_checkpoints")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO log_head (id, size) VALUES (1, 0)")
    op.create_table(
        "log_leaves",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False, index=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("case_no", sa.String(32), index=True),
        sa.Column("appended_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("node_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("case_no", sa.String(32), primary_key=True),
        sa.Column("serial", sa.BigInteger, nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("violation_type", sa.String(64), nullable=False),
        sa.Column("district", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("party_key", sa.String(64), index=True),
        sa.Column("outcome", sa.String(32)),
        sa.Column("amount_fen", sa.BigInteger),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("last_leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "parties",
        sa.Column("case_no", sa.String(32), sa.ForeignKey("cases.case_no"), primary_key=True),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("district", sa.String(64)),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("request_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    """DESIGN.md: leaves are never updated or deleted, enforced by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE FUNCTION lianzheng_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'lianzheng: % on append-only table % refused',
               TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$"""
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION lianzheng_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION lianzheng_append_only()"
            )
    else:  # SQLite has no TRUNCATE; a DELETE without WHERE fires the row trigger
        for table in APPEND_ONLY:
            for op_name in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'lianzheng: {op_name} on append-only table {table} "
                    f"refused'); END"
                )


def downgrade() -> None:
    raise NotImplementedError("the ledger schema is never downgraded: the log is append-only")
