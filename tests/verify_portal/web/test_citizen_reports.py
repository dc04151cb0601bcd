"""Citizens' reports (全民城管): anyone reports a problem and follows the case it opens; the
log holds codes only; bad input is explained beside its field and writes nothing; a client is
limited."""

import io
import re

import pytest

from tests.support.api import citizen_lookup, log_size
from tests.support.privacy import personal_data_in_leaves

PHONE = "13912345678"
ADDRESS = "漕溪北路 88 号门口"


def _form(client):
    page = client.get("/report").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def _send(client, csrf, photos=(), addr="198.51.100.7", lang="zh", **fields):
    data = {
        "csrf": csrf,
        "violation_type": "occupy-road",
        "district": "xuhui",
        "address": ADDRESS,
        "phone": PHONE,
        **fields,
        "photos": [(io.BytesIO(p), "p.jpg") for p in photos],
    }
    return client.post(
        f"/report?lang={lang}",
        data=data,
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": addr},
    )


def test_a_report_opens_a_case_and_its_code_follows_it_on_the_check_page(
    client, tokens, services, media_dir
):
    photo = (media_dir / "photo.jpg").read_bytes()
    done = _send(client, _form(client), [photo])
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and 'id="report-done"' in page
    case_no = re.search(r"<code>(CG-\d{4}-\d{6})</code>", page)[1]
    code = re.search(r'id="tracking-code">([^<]+)<', page)[1]
    assert done.headers["Cache-Control"] == "no-store"  # the code is on it
    assert citizen_lookup(client, case_no, code).status_code == 303
    case = client.get("/check/case").get_data(as_text=True)
    assert "线索登记" in case and "照片" in case  # the case and its photo as evidence
    staff = client.get(
        f"/api/v1/cases/{case_no}", headers={"Authorization": f"Bearer {tokens['supervisor']}"}
    ).json
    reported = staff["events"][0]["event"]
    assert reported["payload"] == {
        "source": "citizen-report",
        "violation_type": "occupy-road",
        "district": "xuhui",
    }
    assert [e["event"]["type"] for e in staff["events"]][1] == "evidence.registered"
    assert personal_data_in_leaves(services.engine) == []
    with services.engine.connect() as conn:
        leaves = conn.exec_driver_sql("SELECT data FROM log_leaves").fetchall()
    assert not any(PHONE.encode() in bytes(r[0]) or ADDRESS.encode() in bytes(r[0]) for r in leaves)


JPEG_MARKER_ONLY = b"\xff\xd8\xff\xe0" + bytes(200)


@pytest.mark.parametrize(
    "fields, photos, field, words",
    [
        ({"violation_type": ""}, 0, "violation_type", "请选择问题类型"),
        ({"address": ""}, 0, "address", "请填写地点"),
        ({"address": "", "latitude": "91", "longitude": "10"}, 0, "address", "请填写地点"),
        ({"phone": "call me"}, 0, "phone", "电话号码只能包含数字"),
        ({}, 4, "photos", "最多 3 张"),
        ({}, -1, "photos", "最多 3 张"),
    ],
)
def test_a_bad_report_is_explained_beside_its_field_keeps_the_text_and_writes_nothing(
    client, services, media_dir, fields, photos, field, words
):
    photo = (media_dir / "photo.jpg").read_bytes()
    sent = [JPEG_MARKER_ONLY] if photos == -1 else [photo] * photos
    before = log_size(client)
    r = _send(client, _form(client), sent, **fields)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and f'id="error-{field}"' in page and words in page
    if "address" not in fields:
        assert ADDRESS in page  # what was typed is kept
    assert log_size(client) == before
    with services.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM citizen_reports").scalar() == 0


def test_a_report_located_by_the_phone_needs_no_address(client, media_dir):
    r = _send(client, _form(client), address="", latitude="31.1923", longitude="121.4367")
    assert r.status_code == 200 and 'id="tracking-code"' in r.get_data(as_text=True)


def test_one_client_sends_five_reports_an_hour_and_no_more(client):
    csrf = _form(client)
    for _ in range(5):
        assert _send(client, csrf, addr="198.51.100.9").status_code == 200
    assert _send(client, csrf, addr="198.51.100.9").status_code == 429
    assert _send(client, csrf, addr="198.51.100.10").status_code == 200  # another client


def test_the_officer_sees_the_reporters_address_and_phone_on_the_case_page(client, staff):
    from tests.support.api import sign_in

    page = _send(client, _form(client)).get_data(as_text=True)
    case_no = re.search(r"<code>(CG-\d{4}-\d{6})</code>", page)[1]
    sign_in(client, "officer-1")
    shown = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    reported = shown[shown.index('id="reported"') :]
    assert ADDRESS in reported and PHONE in reported


def test_a_case_and_its_sealed_details_commit_together_or_not_at_all(client, monkeypatch):
    from verify_portal.app import citizen_reports

    def broken(*_):
        raise RuntimeError("the disk failed while sealing")

    csrf = _form(client)
    before = log_size(client)
    monkeypatch.setattr(citizen_reports, "seal_record", broken)
    assert _send(client, csrf).status_code == 500
    assert log_size(client) == before  # no REPORTED case without its place
