"""The court page (法院/复议机关): upload an evidence package, get the verifier's report check by check.

The package is checked by the same offline verifier a court can run itself;
the anchor is checked on the chain this deployment anchors to. Nothing of the
upload is kept: it lives in a temporary file for the request only.
"""

from __future__ import annotations

import base64
import json

from flask import Blueprint, Response, request

from evidence import report_pdf
from evidence import verify as verifier
from verify_portal import anchoring, counters
from verify_portal.auth import PUBLIC, access
from verify_portal.i18n import t
from verify_portal.pages.forms import page
from verify_portal.services import current

bp = Blueprint("court", __name__, url_prefix="/court")


@bp.get("")
@access(PUBLIC)
def form() -> Response:
    return page("court.html")


@bp.post("/verify")
@access(PUBLIC)
def verify() -> Response:
    """Verify an uploaded package (multipart field `package`); the upload is never stored."""
    request.max_content_length = current().settings.max_package_bytes
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        return page("court.html", status=400, error=t("no_file"))
    report = verifier.verify(upload.stream, None, anchoring.chain_check(current().settings))
    if not report.passed:
        counters.add(current().sessions, counters.PACKAGE_FAILED)
    body = json.dumps(report.to_json(), ensure_ascii=False, indent=2).encode()
    return page("court_report.html", report=report,
                 report_json_b64=base64.b64encode(body).decode(),
                 report_html_b64=base64.b64encode(verifier.report_html(report).encode()).decode(),
                 report_pdf_b64=base64.b64encode(report_pdf.render_verification(report)).decode())
