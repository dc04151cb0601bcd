"""The API's own description: the OpenAPI 3.1 document and a page that reads it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from verify_portal.web import openapi
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.pages.forms import page

bp = Blueprint("docs", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@access(PUBLIC)
def openapi_json() -> Response:
    return jsonify(openapi.document())


@bp.get("/docs")
@access(PUBLIC)
def docs() -> Response:
    return page("api_docs.html", operations=openapi.OPERATIONS)
