"""Evidence files: blob store, uploads, media probe, custody, packages (DESIGN.md). Imports `ledger`, never `anchor`."""
