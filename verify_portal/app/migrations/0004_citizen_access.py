"""Citizens' access: verification codes of cases and failed-lookup counters.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_codes",
        sa.Column("case_no", sa.String(32), sa.ForeignKey("cases.case_no"), primary_key=True),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", TS),
    )
    op.create_table(
        "lookup_failures",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("failures", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lookup_failures")
    op.drop_table("case_codes")
