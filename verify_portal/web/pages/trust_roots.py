"""The admin's page of the trust roots the court page verifies against: this deployment's own, and
other agencies' roots registered after their fingerprint was confirmed (README: Courts)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ledger.errors import LianzhengError
from ledger.users import Action, Actor
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import language
from verify_portal.web.pages.forms import check_csrf, page, signed_in

bp = Blueprint("trust_roots", __name__, url_prefix="/staff/trust")
MAX_ROOT_UPLOAD = 1 << 20


def _listing(actor: Actor, status: int = 200, error: str | None = None) -> Response:
    services = current()
    return page(
        "staff_trust.html",
        status=status,
        user=actor,
        own=services.trust.latest(),
        registered=services.court.registered(),
        error=error,
    )


@bp.get("")
@access(PUBLIC)  # the signed-in session decides, as on every staff page
@signed_in
def listing(actor: Actor) -> ResponseReturnValue:
    if not actor.may(Action.MANAGE_TRUST_ROOTS):
        return page("staff_denied.html", status=403, user=actor)
    return _listing(actor)


@bp.post("")
@access(PUBLIC)
@signed_in
def register(actor: Actor) -> ResponseReturnValue:
    check_csrf()
    request.max_content_length = MAX_ROOT_UPLOAD
    upload = request.files.get("root")
    data = (
        upload.read(MAX_ROOT_UPLOAD)
        if upload and upload.filename
        else request.form.get("document", "").encode()
    )
    try:
        current().court.register(
            actor, data, request.form.get("fingerprint", ""), request.form.get("rpc_url") or None
        )
    except LianzhengError as exc:
        if not actor.may(Action.MANAGE_TRUST_ROOTS):
            return page("staff_denied.html", status=403, user=actor)
        return _listing(actor, status=400, error=exc.message)
    return redirect(url_for("trust_roots.listing", lang=language()), code=303)


@bp.post("/<fingerprint>/removal")
@access(PUBLIC)
@signed_in
def remove(actor: Actor, fingerprint: str) -> ResponseReturnValue:
    check_csrf()
    try:
        current().court.remove(actor, fingerprint)
    except LianzhengError as exc:
        if not actor.may(Action.MANAGE_TRUST_ROOTS):
            return page("staff_denied.html", status=403, user=actor)
        return _listing(actor, status=404, error=exc.message)
    return redirect(url_for("trust_roots.listing", lang=language()), code=303)
