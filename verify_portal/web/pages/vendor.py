"""Third-party browser modules, served from the npm install (package-lock.json pins them).

Only the files the portal's scripts import are served: @noble/hashes' SHA-256 (an audited,
dependency-free implementation that can hash a stream, which WebCrypto cannot)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

from verify_portal.web.auth import PUBLIC, access

NOBLE = Path(__file__).resolve().parents[3] / "node_modules" / "@noble" / "hashes"
SERVED = {"sha2.js", "_md.js", "_u64.js", "utils.js"}

bp = Blueprint("vendor", __name__, url_prefix="/static/vendor")


@bp.get("/noble-hashes/<name>")
@access(PUBLIC)
def noble_hashes(name: str) -> Response:
    if name not in SERVED:
        abort(404)
    return send_from_directory(NOBLE, name, mimetype="text/javascript", max_age=86400)
