"""The party index 首违不罚 is decided from, append-only, filled from the cases recorded so far.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_cases",
        sa.Column("party_key", sa.String(64), primary_key=True),
        sa.Column("case_no", sa.String(32), primary_key=True),
    )
    op.execute(
        "INSERT INTO party_cases (party_key, case_no) SELECT party_key, case_no FROM cases "
        "WHERE party_key IS NOT NULL"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER party_cases_append_only BEFORE UPDATE OR DELETE ON party_cases "
            "FOR EACH ROW EXECUTE FUNCTION lianzheng_append_only()"
        )
        op.execute(
            "CREATE TRIGGER party_cases_no_truncate BEFORE TRUNCATE ON party_cases "
            "FOR EACH STATEMENT EXECUTE FUNCTION lianzheng_append_only()"
        )
        return
    for op_name in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER party_cases_no_{op_name.lower()} BEFORE {op_name} ON party_cases "
            f"BEGIN SELECT RAISE(ABORT, 'lianzheng: {op_name} on append-only table party_cases "
            "refused'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("the party index is append-only")
