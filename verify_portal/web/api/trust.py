"""The deployment's trust root (DESIGN.md: Public verification API, Trust root). No login."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current

bp = Blueprint("trust", __name__, url_prefix="/api/v1/trust")


@bp.get("")
@access(PUBLIC)
def latest() -> Response:
    """The current trust root, exactly as published (its fingerprint covers these bytes'
    members)."""
    return Response(
        current().trust.latest_text(),
        mimetype="application/json",
        headers={"Cache-Control": "no-cache"},
    )


@bp.get("/history")
@access(PUBLIC)
def history() -> Response:
    """Every trust root the deployment published, oldest first, each replacing the one before."""
    return jsonify(roots=current().trust.history())
