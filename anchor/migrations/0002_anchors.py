"""Anchoring: anchor records and the worker's status.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "anchors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("previous_size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary, nullable=False),
        sa.Column("max_fee", sa.BigInteger, nullable=False),
        sa.Column("priority_fee", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("block_number", sa.BigInteger),
        sa.Column("block_hash", sa.LargeBinary(32)),
        sa.Column("gas_used", sa.BigInteger),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("mined_at", TS),
        sa.Column("final_at", TS),
        sa.UniqueConstraint("chain_id", "contract", "size", name="uq_anchor_size"),
    )
    op.create_table(
        "anchor_worker",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("healthy", sa.Integer, nullable=False),
        sa.Column("chain_down_since", TS),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("anchor_worker")
    op.drop_table("anchors")
