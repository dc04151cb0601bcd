"""Files the web front hands out as downloads."""

from __future__ import annotations

import tempfile

from flask import Response, send_file

from evidence.report_pdf import NoticeFacts
from ledger.users import Actor
from verify_portal.app import notices
from verify_portal.app.export import export_case
from verify_portal.app.services import Services


def package_download(services: Services, actor: Actor, case_no: str, reason: str) -> Response:
    """The case's package as a zip download: built into a spooled file that goes once it has been
    sent (or at once, if building fails)."""
    spool = tempfile.NamedTemporaryFile(
        prefix="package-", suffix=".zip", dir=services.settings.data_dir
    )
    try:
        summary = export_case(services, actor, case_no, spool, reason)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = send_file(
        spool,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"lianzheng-{case_no}.zip",
    )
    response.headers["Lianzheng-Signing-Key-Id"] = summary["signing_key_id"]
    response.call_on_close(spool.close)
    return response


def notice_download(facts: NoticeFacts, english: bool) -> Response:
    """The printable notice as a PDF attachment, never cached: the code is on it."""
    response = Response(notices.pdf(facts, english), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="notice-{facts.case_no}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
