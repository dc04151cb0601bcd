"""The public log browser (/log), open to anyone without signing in: checkpoints and who cosigned
them, anchors and their transactions, a leaf's inclusion proof, a file-hash lookup. Hashes only,
never an event's content: see verify_portal/app/public_log.py."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ledger.errors import NotFound
from verify_portal.app import public_log
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import language, t
from verify_portal.web.pages.forms import page

bp = Blueprint("public_log", __name__, url_prefix="/log")
MAX_INDEX = 2**63 - 1  # the log's leaf indexes are BIGINT


@bp.get("")
@access(PUBLIC)
def index() -> ResponseReturnValue:
    return _log_page()


def _log_page(status: int = 200, **extra: object) -> ResponseReturnValue:
    checkpoints, anchors, ident = public_log.overview(current())
    return page(
        "log.html",
        status=status,
        checkpoints=checkpoints,
        anchors=anchors,
        chain=ident,
        explorer=current().settings.web.explorer_tx_url,
        **extra,
    )


@bp.get("/leaf")
@access(PUBLIC)
def find_leaf() -> ResponseReturnValue:
    """The index box's target: the leaf's own page, or the log page saying what was wrong."""
    typed = request.args.get("index", "").strip()
    if not (typed.isascii() and typed.isdigit() and len(typed) <= 19 and int(typed) <= MAX_INDEX):
        return _log_page(400, leaf_error=t("log_bad_index"), typed=typed[:20])
    return redirect(url_for("public_log.leaf", index=int(typed), lang=language()), code=303)


@bp.get("/leaves/<int:index>")
@access(PUBLIC)
def leaf(index: int) -> ResponseReturnValue:
    try:
        shown = public_log.leaf(current(), index) if index <= MAX_INDEX else None
    except NotFound:
        shown = None
    if shown is None:
        return page("log_leaf.html", status=404, leaf=None, index=index)
    return page(
        "log_leaf.html", leaf=shown, index=index, explorer=current().settings.web.explorer_tx_url
    )
