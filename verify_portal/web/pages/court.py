"""The court page (法院/复议机关): upload an evidence package, get the verifier's report check by
check.

The package is checked by the same `lianzheng verify` a court can run itself,
in a process of its own with time and memory limits, against this deployment's
trust root and the roots an admin registered for other agencies; the anchor is
always checked on chain, so with the chain down the verdict is INCOMPLETE.
Nothing of the upload is kept: it lives in a temporary folder for the request.
"""

from __future__ import annotations

import base64
import json

from flask import Blueprint, Response, request

from evidence import report_pdf
from evidence import verify as verifier
from verify_portal.app import counters
from verify_portal.app.court_roots import VerificationRefused
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import t
from verify_portal.web.pages.forms import page

bp = Blueprint("court", __name__, url_prefix="/court")


@bp.get("")
@access(PUBLIC)
def form() -> Response:
    return page("court.html")


@bp.post("/verify")
@access(PUBLIC)
def verify() -> Response:
    """Verify an uploaded package (multipart field `package`); the upload is never stored."""
    request.max_content_length = current().settings.web.max_package_bytes
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        return page("court.html", status=400, error=t("no_file"))
    try:
        report = current().court.verify(upload.stream)
    except VerificationRefused as exc:
        counters.add(current().sessions, counters.PACKAGE_FAILED)
        return page("court.html", status=422, error=f"{t('refused')}: {exc.message}")
    if not report.passed:
        counters.add(current().sessions, counters.PACKAGE_FAILED)
    body = json.dumps(report.to_json(), ensure_ascii=False, indent=2).encode()
    return page(
        "court_report.html",
        report=report,
        report_json_b64=base64.b64encode(body).decode(),
        report_html_b64=base64.b64encode(verifier.report_html(report).encode()).decode(),
        report_pdf_b64=base64.b64encode(report_pdf.render_verification(report)).decode(),
    )
