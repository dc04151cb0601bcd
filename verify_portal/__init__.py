"""The service around the domains: wiring and use cases, the web front (`verify_portal.web`, its app
factory `create_app`) and the `lianzheng` command (`verify_portal.cli`). Importing this package loads
nothing: the court's `lianzheng verify` must not pay for the web front."""
