"""The append-only, tamper-evident log of enforcement events (DESIGN.md: The log).

Imports nothing from the other domain packages: `evidence`, `anchor` and
`verify_portal` build on it, never the reverse.
"""
