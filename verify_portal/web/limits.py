"""Rate limits of the portal's public forms, all by one library (flask-limiter).

Limits go by client (its address; behind `LIANZHENG_TRUSTED_PROXIES` proxies,
the address they report in X-Forwarded-For, and no further) or by case,
never by account or case alone for everyone: one client's failures must not
lock a citizen out of their case or a supervisor out of their account.
Failed attempts count against their client (`refused()` marks a request as
one); a client over its limit waits, with growing waits for staff sign-in.
Counts live in `LIANZHENG_RATE_LIMIT_STORAGE`: memory in the embedded
default (per process), Redis (`redis://host:6379`) for several workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request, session
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from verify_portal.app.settings import Settings


@dataclass(frozen=True)
class Rule:
    limits: str  # flask-limiter's notation: "5 per minute; 20 per hour"
    key: Callable[[], str]
    deduct_when: Callable[[Response], bool] | None = None
    page: str = "check.html"  # the page that says "too many attempts"


def refused() -> None:
    """Count this request as a failed attempt against its client."""
    g.limit_refused = True


def _was_refused(response: Response) -> bool:
    return bool(g.get("limit_refused", False))


def _accepted(response: Response) -> bool:
    return response.status_code < 400


def _client() -> str:
    return "client:" + get_remote_address()


def _opened_case() -> str:
    opened = session.get("citizen") or {}
    return "case:" + str(opened.get("case_no") or get_remote_address())


RULES: dict[str, list[Rule]] = {
    # Codes have 50 bits: a client's 10 wrong guesses per 15 minutes cannot find one, and lock no
    # case.
    "citizen.lookup": [Rule("10 per 15 minutes", _client, _was_refused)],
    # Wrong passwords slow their client down more and more; the account itself is never locked.
    "staff.login": [
        Rule("5 per minute; 20 per hour; 60 per day", _client, _was_refused, "staff_login.html")
    ],
    # A party's statements: a few per case and day, and no client flooding many cases.
    "citizen.statement": [Rule("3 per day", _opened_case, _accepted), Rule("10 per day", _client)],
    "court.verify": [Rule("30 per hour", _client, page="court.html")],
    # Citizens' reports open cases: a few an hour from one client, whatever the answer.
    "report.submit": [Rule("5 per hour; 20 per day", _client, page="report.html")],
}


def _unlimited() -> bool:
    """Whether the request's endpoint has no limit: only RULES' endpoints have any (no default or
    application-wide limit), and flask-limiter otherwise works out every request's limits anew,
    a twentieth of an API request's time."""
    return request.endpoint not in RULES


def _breach_page(
    too_many: Callable[[str], Response], page: str
) -> Callable[[RequestLimit], Response]:
    """What flask-limiter answers a client over a rule's limit: the rule's page."""

    def on_breach(_: RequestLimit) -> Response:
        return too_many(page)

    return on_breach


def install(app: Flask, settings: Settings, too_many: Callable[[str], Response]) -> Limiter:
    """Put the limits on their routes; `too_many(template)` renders the page a client over its limit
    gets."""
    if settings.web.trusted_proxies:
        # Flask's documented way to sit behind proxies; mypy sees wsgi_app as a method, not a slot.
        proxied = ProxyFix(app.wsgi_app, x_for=settings.web.trusted_proxies)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    limiter = Limiter(
        key_func=_client,
        app=app,
        storage_uri=settings.web.rate_limit_storage,
        strategy="moving-window",
        headers_enabled=True,
        key_prefix="lianzheng",
    )
    limiter.request_filter(_unlimited)
    for endpoint, rules in RULES.items():
        view: Callable[..., Any] = app.view_functions[endpoint]
        for rule in rules:
            view = limiter.limit(
                rule.limits,
                key_func=rule.key,
                deduct_when=rule.deduct_when,
                on_breach=_breach_page(too_many, rule.page),
            )(view)
        app.view_functions[endpoint] = view
    return limiter


__all__ = ["RULES", "install", "refused", "request"]
