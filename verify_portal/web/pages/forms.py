"""What every portal page shares: rendering in the visitor's language, and CSRF protection for forms
(a random token in the signed session, echoed by each form)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

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
    """A rendered page in the visitor's language, with the form token; `?lang=` is remembered in a
    cookie."""
    root = current().trust.latest()
    response = Response(
        render_template(
            template,
            lang=language(),
            t=t,
            TEXT=TEXT,
            csrf=csrf_token(),
            trust_fingerprint=root.fingerprint,
            trust_agency=root.agency,
            **context,
        ),
        status=status,
    )
    if "lang" in request.args:
        response.set_cookie(
            "lang", language(), max_age=365 * 86400, samesite="Lax", secure=request.is_secure
        )
    return response


def signed_in(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """The view's staff user, or a redirect to sign in: the session must be alive on the server
    (signed out, or idle for 30 minutes, it is not)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        session_id = session.get("staff_session")
        actor = current().logins.resume(session_id) if isinstance(session_id, str) else None
        if actor is None:
            session.pop("staff_session", None)
            return redirect(url_for("staff.login_form", lang=language()), code=303)
        return view(actor, *args, **kwargs)

    return wrapper
