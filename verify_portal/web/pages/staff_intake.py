"""The staff page of docked footage no case holds yet (evidence/intake.py): who carried the
recorder, when it was captured, and the cases proposed for it, with a button to link it to one or
decline the proposal. An officer sees the footage they carried; a supervisor sees all."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ledger.errors import Forbidden, LianzhengError
from ledger.users import Action, Actor
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import language
from verify_portal.web.pages.forms import check_csrf, page, signed_in
from verify_portal.web.problems import status_of

bp = Blueprint("staff_intake", __name__, url_prefix="/staff/intake")


def _listing(actor: Actor, status: int = 200, error: str | None = None) -> Response:
    return page(
        "staff_intake.html",
        status=status,
        user=actor,
        footage=current().intake.unlinked(actor),
        error=error,
    )


@bp.get("")
@access(PUBLIC)  # the signed-in session decides, as on every staff page
@signed_in
def listing(actor: Actor) -> ResponseReturnValue:
    if not actor.may(Action.LINK_EVIDENCE):
        return page("staff_denied.html", status=403, user=actor)
    return _listing(actor)


@bp.post("/<evidence_id>/link")
@access(PUBLIC)
@signed_in
def link(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    return _decide(actor, evidence_id, "link")


@bp.post("/<evidence_id>/decline")
@access(PUBLIC)
@signed_in
def decline(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    return _decide(actor, evidence_id, "decline")


def _decide(actor: Actor, evidence_id: str, what: str) -> ResponseReturnValue:
    check_csrf()
    intake = current().intake
    decide = intake.link if what == "link" else intake.decline
    try:
        decide(actor, evidence_id, request.form.get("case_no", "")[:32])
    except Forbidden:
        return page("staff_denied.html", status=403, user=actor)
    except LianzhengError as exc:
        return _listing(actor, status=status_of(exc), error=exc.message)
    return redirect(url_for("staff_intake.listing", lang=language()), code=303)
