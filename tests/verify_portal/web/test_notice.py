"""The printable notice: a new code with the case number, the check link as a QR code and the
trust root's fingerprint, in Chinese and on request English, for officers to hand over."""

import io
import re

from pypdf import PdfReader

from tests.conftest import bearer
from tests.support.api import citizen_lookup, open_case, sign_in


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_api_gives_the_notice_as_a_pdf_whose_code_opens_the_case(client, tokens, services):
    case_no = open_case(client, tokens["officer"])
    r = client.post(
        f"/api/v1/cases/{case_no}/verification-code?format=pdf&lang=en",
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 201 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    text = _text(r.data)
    code = re.search(r"Verification code: ([2-9A-Z]{5}-[2-9A-Z]{5})", text)[1]
    fingerprint = services.trust.latest().fingerprint
    assert case_no in text and fingerprint[:8] in text and fingerprint[-8:] in text
    assert "核验码" in text and "12345" in text  # Chinese first, the contact on it
    assert citizen_lookup(client, case_no, code).status_code == 303  # the printed code works


def test_an_officer_prints_the_notice_from_the_case_page(client, tokens, staff):
    case_no = open_case(client, tokens["officer"])
    sign_in(client, "officer-1")
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    assert 'id="notice"' in page
    r = client.post(f"/staff/cases/{case_no}/notice", data={"csrf": csrf})
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert case_no in _text(r.data) and "Verification code" not in _text(r.data)  # Chinese only


def test_a_supervisor_may_not_issue_codes_so_sees_no_notice_button(client, tokens, staff):
    case_no = open_case(client, tokens["officer"])
    sign_in(client)
    assert 'id="notice"' not in client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
