"""The one web front of Lianzheng: the JSON API now, the portal pages later (DESIGN.md: Layout)."""

from __future__ import annotations

from flask import Flask

from verify_portal import problems
from verify_portal.auth import check_every_view_declares_access
from verify_portal.services import Services, build, install
from verify_portal.settings import Settings


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """The app factory. The schema must be migrated already (`lianzheng serve` does it)."""
    app = Flask(__name__)
    services = services or build(settings or Settings.from_env())
    install(app, services)
    app.config["MAX_CONTENT_LENGTH"] = services.settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from verify_portal.api import cases, evidence, log

    app.register_blueprint(log.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(evidence.bp)
    problems.register(app)
    check_every_view_declares_access(app)
    return app
