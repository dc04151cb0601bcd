"""Anchoring the log's tree heads on an EVM chain (DESIGN.md: Chain). Imports `ledger`, never
`evidence`."""

from pathlib import Path

MIGRATIONS = (
    Path(__file__).parent / "migrations"
)  # alembic revisions of the anchor tables, after the ledger's
