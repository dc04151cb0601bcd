"""`python -m verify_portal` is the `lianzheng` command (used by `serve` to start its anchor
worker)."""

from verify_portal.cli import main

main()
