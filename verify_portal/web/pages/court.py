"""The court page (法院/复议机关): upload an evidence package, get the verifier's report check by
check.

The package is checked by the same `lianzheng verify` a court can run itself,
in a process of its own with time and memory limits, against this deployment's
trust root and the roots an admin registered for other agencies; the anchor is
always checked on chain, so with the chain down the verdict is INCOMPLETE.
Nothing of the upload is kept: it lives in a temporary folder for the request.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import version
from typing import IO, Any

from flask import Blueprint, Response, abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from evidence import report_pdf
from evidence import verify as verifier
from verify_portal.app import counters, court_reports
from verify_portal.app.court_roots import VerificationRefused
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import language, t
from verify_portal.web.pages.forms import page

bp = Blueprint("court", __name__, url_prefix="/court")
KEPT_IN_SESSION = 5  # the reports a browser can come back to, newest first


class _Hashing:
    """A stream that hashes what is read through it: the package's SHA-256 for the report."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


@bp.get("")
@access(PUBLIC)
def form() -> Response:
    return page("court.html")


@bp.post("/verify")
@access(PUBLIC)
def verify() -> ResponseReturnValue:
    """Verify an uploaded package (multipart field `package`); the upload is never stored, its
    report is kept an hour for this browser (verify_portal/app/court_reports.py)."""
    request.max_content_length = current().settings.web.max_package_bytes
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        return page("court.html", status=400, error=t("no_file"))
    hashing = _Hashing(upload.stream)
    try:
        report = current().court.verify(hashing)
    except VerificationRefused as exc:
        counters.add(current().sessions, counters.PACKAGE_FAILED)
        return page("court.html", status=422, error=f"{t('refused')}: {exc.message}")
    if not report.passed:
        counters.add(current().sessions, counters.PACKAGE_FAILED)
    record = {
        "report": report.to_json(),
        "package_sha256": hashing.digest.hexdigest(),
        "package_name": (upload.filename or "")[:200],
        "verified_at": datetime.now(UTC).isoformat(),
        "verifier_version": version("lianzheng"),
    }
    report_id = court_reports.keep(current().settings.data_dir, record)
    session["court_reports"] = [report_id, *session.get("court_reports", [])][:KEPT_IN_SESSION]
    return redirect(url_for("court.report", report_id=report_id, lang=language()), code=303)


@bp.get("/reports/<report_id>")
@access(PUBLIC)
def report(report_id: str) -> ResponseReturnValue:
    """A kept report, in the language asked for: the language switch keeps the report."""
    record = _kept(report_id)
    if record is None:
        return page("court.html", status=404, error=t("court_report_gone"))
    shown = verifier.PackageReport.from_json(record["report"])
    return page("court_report.html", report=shown, record=record, report_id=report_id)


@bp.get("/reports/<report_id>/report.<any(json, html, pdf):kind>")
@access(PUBLIC)
def download(report_id: str, kind: str) -> ResponseReturnValue:
    """The kept report as a file to keep: JSON, HTML or PDF (with the package's SHA-256, the time
    of verification and the verifier's version)."""
    record = _kept(report_id)
    if record is None:
        abort(404)
    shown = verifier.PackageReport.from_json(record["report"])
    if kind == "json":
        body: bytes = json.dumps(record, ensure_ascii=False, indent=2).encode()
        mimetype = "application/json"
    elif kind == "html":
        body, mimetype = verifier.report_html(shown).encode(), "text/html"
    else:
        body, mimetype = report_pdf.render_verification(shown, _facts(record)), "application/pdf"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="verification-report.{kind}"'},
    )


def _kept(report_id: str) -> dict[str, Any] | None:
    if report_id not in session.get("court_reports", []):
        return None  # another browser's report, or none
    return court_reports.load(current().settings.data_dir, report_id)


def _facts(record: dict[str, Any]) -> dict[str, str]:
    return {
        "package_sha256": record["package_sha256"],
        "package_name": record["package_name"],
        "verified_at": record["verified_at"],
        "verifier_version": record["verifier_version"],
    }
