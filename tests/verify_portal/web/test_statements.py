"""Statements and defences (陈述申辩) from the citizen page: recorded as case events, sealed,
erasable."""

import io
import re

import pytest

from tests.conftest import bearer
from tests.support.api import PARTY, citizen_lookup, issue_code, open_case


def _to_notice_stage(client, tokens):
    case_no = open_case(client, tokens["officer"], party=PARTY)
    for step in ("FILED", "INVESTIGATING", "NOTIFIED"):
        r = client.post(
            f"/api/v1/cases/{case_no}/transitions",
            json={"to": step},
            headers=bearer(tokens["officer"]),
        )
        assert r.status_code == 201, r.json
    return case_no


def _open_as_citizen(client, tokens, case_no):
    citizen_lookup(client, case_no, issue_code(client, tokens, case_no)["code"])
    page = client.get("/check/case").get_data(as_text=True)
    return page, re.search(r'name="csrf" value="([^"]+)"', page)[
        1
    ] if 'name="csrf"' in page else None


def _submit(client, csrf, text, photos=()):
    data = {"csrf": csrf, "text": text, "photos": [(io.BytesIO(p), "p.jpg") for p in photos]}
    return client.post("/check/statement", data=data, content_type="multipart/form-data")


def test_a_party_at_the_notice_stage_submits_a_statement_with_a_photo(client, tokens, media_dir):
    case_no = _to_notice_stage(client, tokens)
    page, csrf = _open_as_citizen(client, tokens, case_no)
    assert "陈述申辩" in page and csrf
    sent = _submit(
        client, csrf, "当时只是临时停放，已立即驶离。", [(media_dir / "photo.jpg").read_bytes()]
    )
    assert sent.status_code == 303
    assert "陈述申辩" in client.get("/check/case?sent=1").get_data(as_text=True)
    case = client.get(f"/api/v1/cases/{case_no}", headers=bearer(tokens["supervisor"])).json
    event = case["events"][-1]["event"]
    assert event["type"] == "party.statement" and event["actor"] == "citizen-portal"
    assert (
        "临时停放" not in str(event) and len(event["payload"]["photos"]) == 1
    )  # the leaf holds a commitment
    statements = client.get(
        f"/api/v1/cases/{case_no}/statements", headers=bearer(tokens["officer"])
    ).json
    assert statements["statements"][0]["text"] == "当时只是临时停放，已立即驶离。"


def test_no_statement_outside_the_notice_stage(client, tokens):
    case_no = open_case(client, tokens["officer"])
    page, csrf = _open_as_citizen(client, tokens, case_no)
    assert 'id="statement"' not in page
    r = _submit(client, csrf or "x", "text")
    assert r.status_code in (400, 409)


def test_a_statement_without_the_forms_csrf_token_is_refused(client, tokens):
    case_no = _to_notice_stage(client, tokens)
    _open_as_citizen(client, tokens, case_no)
    assert _submit(client, "forged", "text").status_code == 400


JPEG_MARKER_ONLY = b"\xff\xd8\xff\xe0" + bytes(200)  # starts like a JPEG, is none


@pytest.mark.parametrize(
    "photos, text",
    [([b"MZ\x90\x00" + bytes(100)], "ok"), ([JPEG_MARKER_ONLY], "ok"), ([], ""), ([], "x" * 2001)],
)
def test_bad_statements_are_refused_and_record_nothing(client, tokens, photos, text):
    case_no = _to_notice_stage(client, tokens)
    _, csrf = _open_as_citizen(client, tokens, case_no)
    before = len(
        client.get(f"/api/v1/cases/{case_no}", headers=bearer(tokens["officer"])).json["events"]
    )
    assert _submit(client, csrf, text, photos).status_code == 400
    after = len(
        client.get(f"/api/v1/cases/{case_no}", headers=bearer(tokens["officer"])).json["events"]
    )
    assert after == before


def test_erasing_the_partys_data_erases_their_statements_too(client, tokens):
    case_no = _to_notice_stage(client, tokens)
    _, csrf = _open_as_citizen(client, tokens, case_no)
    _submit(client, csrf, "我的陈述")
    assert (
        client.post(
            f"/api/v1/cases/{case_no}/party-erasure", headers=bearer(tokens["legal"])
        ).status_code
        == 201
    )
    statements = client.get(
        f"/api/v1/cases/{case_no}/statements", headers=bearer(tokens["legal"])
    ).json
    assert statements["statements"] == []


def test_a_case_takes_three_statements_a_day_and_the_fourth_is_refused(client, tokens):
    case_no = _to_notice_stage(client, tokens)
    _, csrf = _open_as_citizen(client, tokens, case_no)
    for n in range(3):
        assert _submit(client, csrf, f"陈述 {n}").status_code == 303
    fourth = _submit(client, csrf, "再一次")
    assert fourth.status_code == 429
    statements = client.get(
        f"/api/v1/cases/{case_no}/statements", headers=bearer(tokens["officer"])
    ).json
    assert len(statements["statements"]) == 3
