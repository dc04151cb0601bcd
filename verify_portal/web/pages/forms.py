"""What every portal page shares: rendering in the visitor's language, and CSRF protection for forms
(a random token in the signed session, echoed by each form)."""

from __future__ import annotations

import hmac
import secrets

from flask import Response, abort, render_template, request, session

from verify_portal.web.context import current
from verify_portal.web.i18n import TEXT, language, t


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Abort with 400 unless the POSTed form carries this session's token."""
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form is stale or was not sent from this site (CSRF token)")


def page(template: str, status: int = 200, **context: object) -> Response:
    """A rendered page in the visitor's language, with the form token; `?lang=` is remembered in a cookie."""
    root = current().trust.latest()
    response = Response(render_template(template, lang=language(), t=t, TEXT=TEXT, csrf=csrf_token(),
                                        trust_fingerprint=root.fingerprint, trust_agency=root.agency,
                                        **context), status=status)
    if "lang" in request.args:
        response.set_cookie("lang", language(), max_age=365 * 86400, samesite="Lax", secure=request.is_secure)
    return response
