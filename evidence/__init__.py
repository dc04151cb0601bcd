"""Evidence files: blob store, uploads, media probe, custody, packages (DESIGN.md). Imports
`ledger`, never `anchor`."""

from pathlib import Path

MIGRATIONS = (
    Path(__file__).parent / "migrations"
)  # alembic revisions of the evidence tables, after anchoring's
