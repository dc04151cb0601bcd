"""Anchoring the log's tree heads on an EVM chain (DESIGN.md: Chain). Imports `ledger`, never `evidence`."""
