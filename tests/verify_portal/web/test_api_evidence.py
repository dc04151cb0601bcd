"""The evidence API as officers and supervisors use it: upload, refusals that leave nothing,
custody."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785

from evidence.meta import encode_upload_metadata
from tests.conftest import bearer
from tests.support.api import log_size, open_case, stored_blobs, upload_evidence


@pytest.fixture
def case_no(client, tokens):
    return open_case(client, tokens["officer"])


def test_an_officer_uploads_bodycam_footage_and_it_is_registered_in_the_case(
    client, tokens, case_no, media_dir, services
):
    video = (media_dir / "bodycam.mp4").read_bytes()
    r = upload_evidence(client, tokens["officer"], case_no, video, gps="31.2304,121.4737")
    assert r.status_code == 201, r.json
    evidence = r.json["evidence"]
    assert evidence["sha256"] == hashlib.sha256(video).hexdigest() and evidence["size"] == len(
        video
    )
    assert evidence["media_type"] == "video/mp4" and evidence["late"] is False
    media = evidence["media"]
    assert media["duration_s"] == pytest.approx(3.0, abs=0.1)
    assert media["creation_time"].startswith("2026-11-20T08:00:00")
    assert {
        "type": "video",
        "codec": "h264",
        "width": 320,
        "height": 240,
        "frame_rate": 25.0,
    } in media["streams"]
    assert any(s["type"] == "audio" and s["codec"] == "aac" for s in media["streams"])
    assert media["device_tags"]["model"] == "DSJ-A9" and media["gps"] == {
        "lat": 31.2304,
        "lon": 121.4737,
    }
    event = r.json["event"]
    assert (
        event["type"] == "evidence.registered" and event["payload"]["sha256"] == evidence["sha256"]
    )
    assert event["payload"]["media_sha256"] == hashlib.sha256(rfc8785.dumps(media)).hexdigest()
    assert "gps" not in str(event)  # the location stays in the row, out of the leaf
    assert evidence["poster"] is True


def test_photos_and_pdfs_are_accepted_with_their_type(client, tokens, case_no, media_dir):
    for name, kind in (("photo.jpg", "image/jpeg"), ("notice.pdf", "application/pdf")):
        r = upload_evidence(client, tokens["officer"], case_no, (media_dir / name).read_bytes())
        assert r.status_code == 201 and r.json["evidence"]["media_type"] == kind


@pytest.mark.parametrize("name", ["program.exe", "corrupt.mp4"])
def test_content_that_is_not_allowed_media_is_refused_and_leaves_nothing(
    client, tokens, case_no, media_dir, services, name
):
    before = log_size(client)
    r = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / name).read_bytes(), filename="video.mp4"
    )
    assert r.status_code == 415 and r.json["type"].endswith("unsupported-media")
    assert log_size(client) == before and stored_blobs(services) == []


def test_a_declared_hash_that_does_not_match_is_refused_and_leaves_nothing(
    client, tokens, case_no, media_dir, services
):
    before = log_size(client)
    r = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes(), sha256="ab" * 32
    )
    assert r.status_code == 460 and r.json["type"].endswith("checksum-mismatch")
    assert log_size(client) == before and stored_blobs(services) == []


def test_every_file_gets_its_sm3_beside_its_sha256_in_the_event_and_the_record(
    client, tokens, case_no, media_dir
):
    data = (media_dir / "bodycam.mp4").read_bytes()
    registered = upload_evidence(client, tokens["officer"], case_no, data).json
    expected = hashlib.new("sm3", data).hexdigest()
    assert registered["event"]["payload"]["sm3"] == expected
    assert registered["evidence"]["sm3"] == expected


def test_a_declared_sm3_that_does_not_match_is_refused_and_leaves_nothing(
    client, tokens, case_no, media_dir, services
):
    before = log_size(client)
    r = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes(), sm3="ab" * 32
    )
    assert r.status_code == 460 and "SM3" in r.json["detail"]
    assert log_size(client) == before and stored_blobs(services) == []


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(
    client, tokens, case_no, media_dir, services
):
    services.evidence.limits = services.evidence.limits.__class__(max_bytes=1000)
    before = log_size(client)
    r = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "bodycam.mp4").read_bytes()
    )
    assert r.status_code == 413 and r.json["type"].endswith("too-large")
    assert log_size(client) == before and stored_blobs(services) == []


def test_the_same_bytes_in_two_cases_are_stored_once_and_registered_twice(
    client, tokens, case_no, media_dir, services
):
    other = open_case(client, tokens["officer"])
    photo = (media_dir / "photo.jpg").read_bytes()
    first = upload_evidence(client, tokens["officer"], case_no, photo).json
    second = upload_evidence(client, tokens["officer"], other, photo).json
    assert first["evidence"]["sha256"] == second["evidence"]["sha256"]
    assert first["evidence"]["evidence_id"] != second["evidence"]["evidence_id"]
    assert second["event"]["case_no"] == other and stored_blobs(services) == [
        first["evidence"]["sha256"]
    ]


def test_evidence_uploaded_a_day_after_capture_is_accepted_and_flagged_late(
    client, tokens, case_no, media_dir
):
    captured = (datetime.now(UTC) - timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        **bearer(tokens["officer"]),
        "Upload-Metadata": encode_upload_metadata({"case_no": case_no, "captured_at": captured}),
    }
    r = client.post(
        "/api/v1/evidence", data=(media_dir / "photo.jpg").read_bytes(), headers=headers
    )
    assert r.status_code == 201 and r.json["evidence"]["late"] is True
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["supervisor"])
    ).json
    assert listed["evidence"][0]["late"] is True


def test_missing_or_malformed_metadata_is_a_clear_400(client, tokens, case_no, media_dir):
    photo = (media_dir / "photo.jpg").read_bytes()
    r = client.post(
        "/api/v1/evidence",
        data=photo,
        headers={**bearer(tokens["officer"]), "Upload-Metadata": "case_no !!!"},
    )
    assert r.status_code == 400
    r = client.post(
        "/api/v1/evidence",
        data=photo,
        headers={
            **bearer(tokens["officer"]),
            "Upload-Metadata": encode_upload_metadata({"case_no": case_no}),
        },
    )
    assert r.status_code == 400 and "captured_at" in r.json["detail"]


def test_only_writers_upload(client, tokens, case_no, media_dir):
    photo = (media_dir / "photo.jpg").read_bytes()
    assert upload_evidence(client, tokens["supervisor"], case_no, photo).status_code == 403
    assert client.post("/api/v1/evidence", data=photo).status_code == 401


def test_every_view_and_download_is_a_custody_event_in_the_trail(
    client, tokens, case_no, media_dir
):
    video = (media_dir / "bodycam.mp4").read_bytes()
    evidence_id = upload_evidence(client, tokens["officer"], case_no, video).json["evidence"][
        "evidence_id"
    ]
    assert (
        client.get(
            f"/api/v1/evidence/{evidence_id}?reason=supervision",
            headers=bearer(tokens["supervisor"]),
        ).status_code
        == 200
    )
    download = client.get(
        f"/api/v1/evidence/{evidence_id}/content?reason=hearing", headers=bearer(tokens["legal"])
    )
    assert download.status_code == 200 and download.data == video
    trail = client.get(
        f"/api/v1/evidence/{evidence_id}/custody", headers=bearer(tokens["supervisor"])
    ).json
    assert [
        (e["type"], e.get("action"), e["actor"], e.get("reason")) for e in trail["custody"]
    ] == [
        ("evidence.registered", None, "officer-1", None),
        ("evidence.custody", "view", "supervisor-1", "supervision"),
        ("evidence.custody", "download", "legal-1", "hearing"),
    ]


def test_a_user_without_the_right_to_evidence_gets_403_and_no_bytes(
    client, tokens, case_no, media_dir
):
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    r = client.get(
        f"/api/v1/evidence/{evidence_id}/content?reason=hearing", headers=bearer(tokens["court"])
    )
    assert r.status_code == 403 and r.content_type == "application/problem+json"
    trail = client.get(
        f"/api/v1/evidence/{evidence_id}/custody", headers=bearer(tokens["supervisor"])
    ).json
    assert [e["type"] for e in trail["custody"]] == [
        "evidence.registered"
    ]  # the refused read left no event
    assert (
        client.get(
            f"/api/v1/evidence/{evidence_id}/custody", headers=bearer(tokens["officer"])
        ).status_code
        == 403
    )


def test_a_read_without_a_reason_is_refused(client, tokens, case_no, media_dir):
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    assert (
        client.get(
            f"/api/v1/evidence/{evidence_id}/content", headers=bearer(tokens["legal"])
        ).status_code
        == 400
    )
    # Free text could put a person's name into the log: reasons come from a fixed list.
    free_text = client.get(
        f"/api/v1/evidence/{evidence_id}/content?reason=张三的案子", headers=bearer(tokens["legal"])
    )
    assert free_text.status_code == 400 and "hearing" in free_text.json["detail"]


def test_a_share_with_a_registered_body_is_a_custody_event_naming_its_code(
    client, tokens, case_no, media_dir
):
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    registered = client.post(
        "/api/v1/recipients",
        json={"id": "xuhui-review-office", "name": "徐汇区人民政府复议办"},
        headers=bearer(tokens["admin"]),
    )
    assert registered.status_code == 201
    listed = client.get("/api/v1/recipients", headers=bearer(tokens["officer"])).json["recipients"]
    assert listed == [{"id": "xuhui-review-office", "name": "徐汇区人民政府复议办"}]
    r = client.post(
        f"/api/v1/evidence/{evidence_id}/shares",
        json={"recipient": "xuhui-review-office", "reason": "reconsideration"},
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 201
    trail = client.get(
        f"/api/v1/evidence/{evidence_id}/custody", headers=bearer(tokens["supervisor"])
    ).json
    assert (trail["custody"][-1]["action"], trail["custody"][-1]["recipient"]) == (
        "share",
        "xuhui-review-office",
    )


@pytest.mark.parametrize(
    "recipient", ["张三 身份证310101199001011234 手机13800138000", "", "not-registered"]
)
def test_a_share_names_a_registered_body_or_is_refused_leaving_no_leaf(
    client, tokens, case_no, media_dir, recipient
):
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    size = client.get("/api/v1/log/checkpoint").data.split(b"\n")[1]
    refused = client.post(
        f"/api/v1/evidence/{evidence_id}/shares",
        json={"recipient": recipient, "reason": "reconsideration"},
        headers=bearer(tokens["officer"]),
    )
    assert refused.status_code == 400
    assert client.get("/api/v1/log/checkpoint").data.split(b"\n")[1] == size


@pytest.mark.parametrize("name", [r"复议办\u0000", r"office\u0091", r"\ud94c-lone"])
def test_a_recipient_name_with_a_control_character_is_refused_and_writes_nothing(
    client, tokens, name
):
    size = client.get("/api/v1/log/checkpoint").data.split(b"\n")[1]
    refused = client.post(  # JSON escapes, as a client sends them
        "/api/v1/recipients",
        data='{"id": "office-1", "name": "' + name + '"}',
        content_type="application/json",
        headers=bearer(tokens["admin"]),
    )
    assert refused.status_code == 400, refused.json
    assert "control characters" in refused.json["detail"]
    assert client.get("/api/v1/log/checkpoint").data.split(b"\n")[1] == size
    assert client.get("/api/v1/recipients", headers=bearer(tokens["admin"])).json == {
        "recipients": []
    }


@pytest.mark.parametrize("role", ["supervisor", "legal", "court", "system"])
def test_only_case_officers_and_admins_hand_evidence_over(client, tokens, case_no, media_dir, role):
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    client.post(
        "/api/v1/recipients",
        json={"id": "court-1", "name": "法院"},
        headers=bearer(tokens["admin"]),
    )
    r = client.post(
        f"/api/v1/evidence/{evidence_id}/shares",
        json={"recipient": "court-1", "reason": "litigation"},
        headers=bearer(tokens[role]),
    )
    assert r.status_code == 403
