"""Uploads over real connections: a body cut short, and resumable uploads with a standard tus
client."""

import hashlib
import json

import pytest
from tusclient import client as tus

from evidence.meta import encode_upload_metadata
from tests.conftest import bearer
from tests.live_server import send_and_cut
from tests.support.api import NOW, log_size, open_case, stored_blobs


@pytest.fixture
def case_no(client, tokens):
    return open_case(client, tokens["officer"])


def _head(method, path, token, length, **headers):
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: test",
        f"Authorization: Bearer {token}",
        f"Content-Length: {length}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def test_a_body_cut_off_half_way_is_refused_and_leaves_nothing(
    live_url, client, tokens, case_no, media_dir, services
):
    video = (media_dir / "bodycam.mp4").read_bytes()
    before = log_size(client)
    meta = encode_upload_metadata({"case_no": case_no, "captured_at": NOW})
    send_and_cut(
        live_url,
        _head(
            "POST", "/api/v1/evidence", tokens["officer"], len(video), **{"Upload-Metadata": meta}
        ),
        video[: len(video) // 2],
    )
    assert log_size(client) == before and stored_blobs(services) == []
    assert list(services.evidence.blobs.tmp.iterdir()) == []  # no partial file either


def _tus_client(live_url, token):
    return tus.TusClient(f"{live_url}/api/v1/evidence/uploads", headers=bearer(token))


def test_a_tus_client_uploads_in_chunks_with_checksums(
    live_url, client, tokens, case_no, media_dir, services
):
    path = media_dir / "bodycam.mp4"
    uploader = _tus_client(live_url, tokens["officer"]).uploader(
        str(path),
        chunk_size=16 * 1024,
        upload_checksum=True,
        metadata={"case_no": case_no, "captured_at": NOW, "filename": "whatever.bin"},
    )
    uploader.upload()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])
    ).json["evidence"]
    assert [(e["sha256"], e["media_type"]) for e in listed] == [(digest, "video/mp4")]
    assert listed[0]["sm3"] == hashlib.new("sm3", path.read_bytes()).hexdigest()
    assert list(services.settings.uploads_dir.iterdir()) == []


def test_an_upload_cut_half_way_resumes_where_the_server_stands(
    live_url, client, tokens, case_no, media_dir
):
    video = (media_dir / "bodycam.mp4").read_bytes()
    uploader = _tus_client(live_url, tokens["officer"]).uploader(
        file_stream=__import__("io").BytesIO(video),
        chunk_size=len(video),
        metadata={"case_no": case_no, "captured_at": NOW},
    )
    location = uploader.create_url()
    path = location.removeprefix(live_url)
    half = len(video) // 2
    send_and_cut(
        live_url,
        _head(
            "PATCH",
            path,
            tokens["officer"],
            len(video),
            **{
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        ),
        video[:half],
    )
    head = client.head(path, headers={**bearer(tokens["officer"]), "Tus-Resumable": "1.0.0"})
    assert int(head.headers["Upload-Offset"]) == half  # what arrived before the cut is kept

    resumed = _tus_client(live_url, tokens["officer"]).uploader(
        file_stream=__import__("io").BytesIO(video), url=location, chunk_size=64 * 1024
    )
    assert resumed.offset == half
    resumed.upload()
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])
    ).json["evidence"]
    assert [e["sha256"] for e in listed] == [hashlib.sha256(video).hexdigest()]


def test_a_chunk_whose_checksum_does_not_match_is_refused_and_the_offset_stays(
    client, tokens, case_no
):
    created = client.post(
        "/api/v1/evidence/uploads",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            "Upload-Metadata": encode_upload_metadata({"case_no": case_no, "captured_at": NOW}),
        },
    )
    assert created.status_code == 201
    path = created.headers["Location"]
    r = client.patch(
        path,
        data=b"12345",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": "sha256 " + "A" * 43 + "=",
        },
    )
    assert r.status_code == 460
    head = client.head(path, headers={**bearer(tokens["officer"]), "Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == "0"


def test_another_users_upload_is_not_found_and_a_wrong_offset_conflicts(client, tokens, case_no):
    created = client.post(
        "/api/v1/evidence/uploads",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            "Upload-Metadata": encode_upload_metadata({"case_no": case_no, "captured_at": NOW}),
        },
    )
    path = created.headers["Location"]
    assert (
        client.head(
            path, headers={**bearer(tokens["system"]), "Tus-Resumable": "1.0.0"}
        ).status_code
        == 404
    )
    r = client.patch(
        path,
        data=b"12345",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "3",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 409 and r.json["offset"] == 0


def test_tus_discovery_and_version_checks(client, tokens):
    options = client.options("/api/v1/evidence/uploads")
    assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"
    assert (
        "checksum" in options.headers["Tus-Extension"]
        and options.headers["Tus-Checksum-Algorithm"] == "sha256,sha1"
    )
    r = client.post(
        "/api/v1/evidence/uploads", headers={**bearer(tokens["officer"]), "Upload-Length": "10"}
    )
    assert r.status_code == 412


def test_expired_uploads_are_swept_and_never_become_evidence(client, tokens, case_no, services):
    from datetime import UTC, datetime, timedelta

    created = client.post(
        "/api/v1/evidence/uploads",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            "Upload-Metadata": encode_upload_metadata({"case_no": case_no, "captured_at": NOW}),
        },
    )
    upload_id = created.headers["Location"].rsplit("/", 1)[1]
    assert (services.settings.uploads_dir / upload_id).exists()
    assert services.uploads.sweep(datetime.now(UTC) + timedelta(days=2)) == 1
    assert not (services.settings.uploads_dir / upload_id).exists()
    assert (
        client.head(
            created.headers["Location"],
            headers={**bearer(tokens["officer"]), "Tus-Resumable": "1.0.0"},
        ).status_code
        == 404
    )
    assert (
        json.loads(
            client.get(f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])).data
        )["evidence"]
        == []
    )


def test_an_upload_whose_registration_a_crash_cut_short_is_registered_once_on_the_next_head(
    client, tokens, case_no, media_dir, services, monkeypatch
):
    photo = (media_dir / "photo.jpg").read_bytes()
    auth = {**bearer(tokens["officer"]), "Tus-Resumable": "1.0.0"}
    path = client.post(
        "/api/v1/evidence/uploads",
        headers={
            **auth,
            "Upload-Length": str(len(photo)),
            "Upload-Metadata": encode_upload_metadata({"case_no": case_no, "captured_at": NOW}),
        },
    ).headers["Location"]

    def power_cut(actor, upload):
        raise RuntimeError("power cut after the last byte was stored")

    monkeypatch.setattr(services.uploads, "_finish", power_cut)
    cut = client.patch(
        path,
        data=photo,
        headers={**auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert cut.status_code == 500
    monkeypatch.undo()

    first = client.head(path, headers=auth)  # what a tus client does when it comes back
    assert first.status_code == 200 and first.headers["Upload-Offset"] == str(len(photo))
    second = client.head(path, headers=auth)
    assert first.headers["Lianzheng-Evidence-Id"] == second.headers["Lianzheng-Evidence-Id"]
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])
    ).json["evidence"]
    assert [e["evidence_id"] for e in listed] == [first.headers["Lianzheng-Evidence-Id"]]
