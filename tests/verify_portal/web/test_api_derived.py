"""Derived evidence (trimmed or blurred copies), poster frames, and a changed blob caught by the
audit."""

import hashlib

import pytest
from click.testing import CliRunner

from tests.conftest import bearer
from tests.support.api import open_case, upload_evidence
from verify_portal.cli import main


@pytest.fixture
def video_item(client, tokens, media_dir):
    case_no = open_case(client, tokens["officer"])
    r = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "bodycam.mp4").read_bytes()
    )
    return r.json["evidence"]


def _derive(client, token, evidence_id, operation):
    return client.post(
        f"/api/v1/evidence/{evidence_id}/derivations",
        json={"operation": operation},
        headers=bearer(token),
    )


def test_a_trimmed_clip_is_its_own_item_naming_its_original_and_the_operation(
    client, tokens, video_item, services
):
    r = _derive(
        client,
        tokens["officer"],
        video_item["evidence_id"],
        {"op": "trim", "start": 0.5, "duration": 1},
    )
    assert r.status_code == 201, r.json
    clip = r.json["evidence"]
    assert (
        clip["derived_from"] == video_item["evidence_id"] and clip["sha256"] != video_item["sha256"]
    )
    assert clip["media"]["duration_s"] == pytest.approx(1.0, abs=0.1)
    payload = r.json["event"]["payload"]
    assert payload["derived_from"] == {
        "evidence_id": video_item["evidence_id"],
        "sha256": video_item["sha256"],
    }
    assert payload["operation"] == {"op": "trim", "start": 0.5, "duration": 1}
    assert services.evidence.blobs.verify(video_item["sha256"]) is None  # the original is untouched


def test_a_blurred_copy_keeps_the_length_and_the_frame_size(client, tokens, video_item):
    r = _derive(
        client,
        tokens["officer"],
        video_item["evidence_id"],
        {"op": "blur", "x": 10, "y": 10, "w": 80, "h": 60},
    )
    assert r.status_code == 201, r.json
    media = r.json["evidence"]["media"]
    assert media["duration_s"] == pytest.approx(3.0, abs=0.1)
    assert any(s.get("width") == 320 and s.get("height") == 240 for s in media["streams"])


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "crop"},
        {"op": "trim", "start": -1, "duration": 1},
        {"op": "blur", "x": 0, "y": 0, "w": 1, "h": 1},
        "trim",
    ],
)
def test_a_malformed_operation_is_a_400(client, tokens, video_item, operation):
    assert (
        _derive(client, tokens["officer"], video_item["evidence_id"], operation).status_code == 400
    )


def test_only_video_is_derived_and_only_by_writers(client, tokens, media_dir, video_item):
    photo_bytes = (media_dir / "photo.jpg").read_bytes()
    photo = upload_evidence(client, tokens["officer"], video_item["case_no"], photo_bytes).json
    assert (
        _derive(
            client,
            tokens["officer"],
            photo["evidence"]["evidence_id"],
            {"op": "trim", "start": 0, "duration": 1},
        ).status_code
        == 415
    )
    assert (
        _derive(
            client,
            tokens["supervisor"],
            video_item["evidence_id"],
            {"op": "trim", "start": 0, "duration": 1},
        ).status_code
        == 403
    )


def test_the_poster_frame_is_a_jpeg_and_its_viewing_is_in_the_custody_trail(
    client, tokens, video_item
):
    r = client.get(
        f"/api/v1/evidence/{video_item['evidence_id']}/poster?reason=case-review",
        headers=bearer(tokens["supervisor"]),
    )
    assert (
        r.status_code == 200
        and r.content_type == "image/jpeg"
        and r.data.startswith(b"\xff\xd8\xff")
    )
    trail = client.get(
        f"/api/v1/evidence/{video_item['evidence_id']}/custody",
        headers=bearer(tokens["supervisor"]),
    ).json["custody"]
    assert trail[-1]["action"] == "view" and trail[-1]["reason"] == "case-review"


def test_a_blob_changed_on_disk_is_reported_as_tampered_by_the_audit(
    client, tokens, video_item, services
):
    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    clean = CliRunner().invoke(main, ["audit"], env=env)
    assert clean.exit_code == 0 and "evidence blobs verified" in clean.output
    path = services.evidence.blobs.path(video_item["sha256"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte of the footage
    path.write_bytes(bytes(data))
    audited = CliRunner().invoke(main, ["audit"], env=env)
    assert audited.exit_code == 2
    assert f"blob {video_item['sha256']} was changed on disk" in audited.output
    assert hashlib.sha256(bytes(data)).hexdigest() in audited.output


def test_a_download_of_a_blob_changed_on_disk_does_not_complete(
    client, tokens, video_item, services
):
    path = services.evidence.blobs.path(video_item["sha256"])
    path.write_bytes(path.read_bytes()[:-10])  # shortened: refused before a byte is sent
    r = client.get(
        f"/api/v1/evidence/{video_item['evidence_id']}/content?reason=hearing",
        headers=bearer(tokens["legal"]),
    )
    assert r.status_code == 500 and r.json["type"].endswith("tampered-blob")
