"""The service's own layer between the domains and its fronts: settings, wiring (`services.build`)
and the use cases that span domains (anchoring, audits, exports, backups, citizens' and staff
access).
Nothing here imports Flask or click: the web front and the command line both call into it."""
