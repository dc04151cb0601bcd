"""The web front of Lianzheng: the app factory that puts the JSON API and the portal pages
(DESIGN.md: Layout) under one Flask app, with its limits, headers and error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider

from verify_portal.app.services import Services, build
from verify_portal.app.settings import Settings
from verify_portal.web import labels, limits, logs, problems
from verify_portal.web.auth import check_every_view_declares_access
from verify_portal.web.context import install
from verify_portal.web.i18n import beijing_time
from verify_portal.web.routing import LazyRule


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """The app factory. The schema must be migrated already (`lianzheng serve` does it)."""
    app = Flask(__name__)  # templates/ and static/ sit beside this file
    app.url_rule_class = LazyRule  # before the first rule is added
    services = services or build(settings or Settings.from_env())
    install(app, services)
    app.config["MAX_CONTENT_LENGTH"] = services.settings.web.max_request_bytes
    # Citizens' sessions: a signed cookie naming the one case they opened, for 30 minutes.
    app.secret_key = services.cases.party_secrets.session_key
    app.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=services.settings.web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=30),
    )
    app.jinja_env.filters["beijing"] = beijing_time
    app.jinja_env.filters["money"] = labels.money
    app.jinja_env.globals.update(
        label=labels.label, field_name=labels.field_name, field_value=labels.field_value
    )
    if isinstance(app.json, DefaultJSONProvider):  # Flask's own, unless a later line replaced it
        app.json.sort_keys = False
        app.json.ensure_ascii = False

    from verify_portal.web.api import cases, docs, evidence, intake, log, ops, trust
    from verify_portal.web.pages import (
        citizen,
        court,
        home,
        public_log,
        report,
        staff,
        staff_cases,
        staff_intake,
        trust_roots,
        vendor,
    )

    app.register_blueprint(home.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(log.bp)
    app.register_blueprint(trust.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(court.bp)
    app.register_blueprint(citizen.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(staff_cases.bp)
    app.register_blueprint(staff_intake.bp)
    app.register_blueprint(public_log.bp)
    app.register_blueprint(report.bp)
    app.register_blueprint(trust_roots.bp)
    app.register_blueprint(vendor.bp)
    limits.install(app, services.settings, _too_many)
    app.after_request(_security_headers(services.settings.web.public_rpc_url))
    problems.register(app)
    logs.install(app)
    check_every_view_declares_access(app)
    return app


def _too_many(template: str) -> Response:
    """The page a client over its rate limit gets, in its language."""
    from verify_portal.web.i18n import t
    from verify_portal.web.pages.forms import page

    return page(template, status=429, error=t("too_many"))


def _security_headers(public_rpc_url: str | None) -> Callable[[Response], Response]:
    """Every answer: no inline script, no framing, no sniffing, no referrer, pages never cached;
    HSTS over HTTPS. Pages
    may call this site and, when one is configured, the public chain RPC that citizens' browsers
    check."""
    connect = "'self'" + (f" {_origin(public_rpc_url)}" if public_rpc_url else "")
    policy = (
        f"default-src 'self'; script-src 'self'; connect-src {connect}; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    )

    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":  # pages hold codes, statements, cases: never cached
            response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    return headers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
