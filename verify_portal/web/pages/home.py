"""The portal's front door: `/` lets a visitor choose where to go (citizen, court, staff, the public
log's API), and people who reach a page that is not there get a page, not JSON."""

from __future__ import annotations

from flask import Blueprint, Response, request
from markupsafe import escape

from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.i18n import t
from verify_portal.web.pages.forms import page

bp = Blueprint("home", __name__)

MACHINE_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")


@bp.get("/")
@access(PUBLIC)
def index() -> Response:
    return page("home.html")


def wants_page() -> bool:
    """Whether the request came from a person's browser for a page (it asks for HTML and is not
    for the API or the operations endpoints): then errors are pages, else problem+json."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    return "text/html" in request.headers.get("Accept", "")


def error_page(status: int, detail: str | None = None) -> Response:
    """The page a person gets for an HTTP error, in their language, with the way home; `detail`
    is the service's own (English) reason, shown small beneath."""
    keys = {400: "error_400", 403: "error_403", 404: "error_404", 405: "error_405"}
    key = {**keys, 413: "error_413"}.get(status, "error_other")
    try:
        return page("error.html", status=status, error_status=status, message=t(key), detail=detail)
    except Exception:  # noqa: BLE001 - the page needs the database; a bare page does not
        return Response(
            f'<!doctype html><title>{status}</title><p>{escape(t(key))}</p><p><a href="/">'
            f"{escape(t('home_back'))}</a></p>",
            status=status,
            mimetype="text/html",
        )
