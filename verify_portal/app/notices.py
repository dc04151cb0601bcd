"""The citizen's way in, issued by the officer: a new verification code and the link and QR code
that carry it, as the API's JSON and as a printable PDF notice (告知书/决定书 companion). The code
exists only in what this returns: the database keeps its HMAC (verify_portal/app/citizens.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.report_pdf import NoticeFacts, render_notice
from ledger.users import Actor

if TYPE_CHECKING:  # the wiring passes the services in: importing it would put this above it
    from verify_portal.app.services import Services


def issue(services: Services, actor: Actor, case_no: str, base_url: str) -> NoticeFacts:
    """A new code for the case (any earlier one stops working) and what the notice prints."""
    code = services.citizens.issue(actor, case_no)
    base = (services.settings.web.public_url or base_url).rstrip("/")
    root = services.trust.latest()
    return NoticeFacts(
        case_no=case_no,
        code=code,
        link=f"{base}/check#{case_no}:{code}",
        check_url=f"{base}/check",
        fingerprint=root.fingerprint,
        agency=root.agency,
        contact=services.settings.web.agency_contact,
    )


def pdf(facts: NoticeFacts, english: bool) -> bytes:
    """The printable notice: Chinese, with the English below when asked."""
    return render_notice(facts, ("zh", "en") if english else ("zh",))
