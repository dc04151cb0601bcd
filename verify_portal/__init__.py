"""The service around the domains, in three parts: `app` (settings, wiring and use cases; no Flask,
no click), `web` (the app factory `create_app`, API blueprints, pages) and `cli` (the `lianzheng`
command).
Importing this package loads nothing: the court's `lianzheng verify` must not pay for the web
front."""
