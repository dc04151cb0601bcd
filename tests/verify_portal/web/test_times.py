"""Times keep their instant from input to storage to every output, on SQLite and PostgreSQL: a
capture time sent with +08:00 or -05:00 reads back as the same moment from the API, the staff page,
the citizen's page and an exported package; capture times outside reason are refused leaving no
blob."""

import json
import re
import zipfile
from pathlib import Path

import pytest

from evidence.meta import encode_upload_metadata
from tests.support.api import STAFF_PASSWORD, sign_in
from tests.support.deployments import anchored_deployment

INSTANT = "2026-11-30T00:30:00.000000Z"
SENT = ["2026-11-30T08:30:00+08:00", "2026-11-29T19:30:00-05:00"]  # the same instant, two zones


@pytest.fixture
def deployment(tmp_path, database_url, chain, contract):
    with anchored_deployment(tmp_path, database_url, chain, contract) as d:
        yield d


def _upload(d, case_no, captured_at, data):
    meta = encode_upload_metadata({"case_no": case_no, "captured_at": captured_at})
    return d.client.post(
        "/api/v1/evidence", data=data, headers={**d.headers(), "Upload-Metadata": meta}
    )


def _blobs(d):
    root = d.services.settings.blob_root
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_capture_time_with_any_offset_reads_back_as_the_same_instant_everywhere(
    deployment, media_dir
):
    d = deployment
    case_no = d.open_case()
    photo, other = (media_dir / "photo.jpg").read_bytes(), (media_dir / "bodycam.mp4").read_bytes()
    ids = [
        _upload(d, case_no, when, data).json["evidence"]["evidence_id"]
        for when, data in zip(SENT, (photo, other), strict=True)
    ]
    for evidence_id in ids:  # the API
        item = d.client.get(
            f"/api/v1/evidence/{evidence_id}?reason=audit", headers=d.headers()
        ).json
        assert item["captured_at"] == INSTANT
    listed = d.client.get(f"/api/v1/cases/{case_no}/evidence", headers=d.headers()).json["evidence"]
    assert {i["captured_at"] for i in listed} == {INSTANT}
    d.services.logins.set_password(
        "supervisor-1", STAFF_PASSWORD
    )  # the staff page, in Beijing time
    sign_in(d.client)
    staff_page = d.client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    assert staff_page.count("2026-11-30 08:30:00（北京时间）") == 2
    code = d.client.post(f"/api/v1/cases/{case_no}/verification-code", headers=d.headers()).json[
        "code"
    ]
    d.client.post("/check", data={"case_no": case_no, "code": code})  # the citizen's page
    assert (
        d.client.get("/check/case").get_data(as_text=True).count("2026-11-30 08:30:00（北京时间）")
        == 2
    )
    d.anchor()
    with zipfile.ZipFile(
        d.export(case_no)
    ) as package:  # the signed package: records and events agree
        records = [
            json.loads(package.read(n))
            for n in package.namelist()
            if re.search(r"/data/evidence/EV-[^.]+\.json$", n)
        ]
        events = [json.loads(package.read(n)) for n in package.namelist() if "/data/events/" in n]
    assert [r["captured_at"] for r in records] == [INSTANT, INSTANT]
    assert [e["payload"]["captured_at"] for e in events if e["type"] == "evidence.registered"] == [
        INSTANT,
        INSTANT,
    ]


@pytest.mark.parametrize(
    "captured_at, words",
    [
        ("9999-12-31T23:59:59-23:59", "RFC 3339 time that can be"),
        ("0001-01-01T00:00:00Z", "before 2000"),
        ("2099-06-01T00:00:00+08:00", "later than this upload arrived"),
        ("2026-11-30T08:30:00", "time zone"),
    ],
)
def test_a_capture_time_out_of_reason_is_a_400_and_leaves_no_blob(
    deployment, media_dir, captured_at, words
):
    d = deployment
    case_no = d.open_case()
    before, leaves = _blobs(d), d.client.get("/api/v1/log/checkpoint").data.split(b"\n")[1]
    answer = _upload(d, case_no, captured_at, (media_dir / "photo.jpg").read_bytes())
    assert answer.status_code == 400 and words in answer.json["detail"]
    assert _blobs(d) == before
    assert d.client.get("/api/v1/log/checkpoint").data.split(b"\n")[1] == leaves  # no leaf either
    tus = d.client.post(
        "/api/v1/evidence/uploads",
        headers={
            **d.headers(),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "100",
            "Upload-Metadata": encode_upload_metadata(
                {"case_no": case_no, "captured_at": captured_at}
            ),
        },
    )
    assert tus.status_code == 400 and words in tus.json["detail"]
    uploads = d.services.settings.uploads_dir
    assert not uploads.exists() or list(Path(uploads).iterdir()) == []
