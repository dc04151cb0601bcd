"""Evidence: registered items, resumable uploads, the device registry.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_no", sa.String(32), nullable=False, index=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), index=True),
        sa.Column("device_signed", sa.Integer, nullable=False),
        sa.Column("captured_at", TS, nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("late", sa.Integer, nullable=False),
        sa.Column("media", sa.Text, nullable=False),
        sa.Column("media_sha256", sa.String(64), nullable=False),
        sa.Column("segment_seq", sa.BigInteger),
        sa.Column("segment_prev", sa.String(64)),
        sa.Column("continuity", sa.Text),
        sa.Column("derived_from", sa.String(40)),
        sa.Column("operation", sa.Text),
        sa.Column("poster_sha256", sa.String(64)),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "evidence_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False, index=True),
        sa.Column("evidence_id", sa.String(40)),
    )
    op.create_table(
        "devices",
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("registered_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("devices")
    op.drop_table("evidence_uploads")
    op.drop_table("evidence")
