"""Bodycams issued to officers, and intake footage as a docking station sends it."""

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from evidence.meta import encode_upload_metadata
from ledger.events import format_time
from tests.conftest import bearer
from tests.support.api import NOW


def device_pem(private: ed25519.Ed25519PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def issued_bodycam(client, admin_token, serial, officer="officer-1", kind="bodycam"):
    """Register a device (Ed25519) and, for a bodycam, issue it to `officer`; its private key."""
    private = ed25519.Ed25519PrivateKey.generate()
    body = {
        "serial": serial,
        "kind": kind,
        "unit": "xuhui-team-3",
        "public_key": device_pem(private),
    }
    registered = client.post("/api/v1/devices", json=body, headers=bearer(admin_token))
    assert registered.status_code == 201, registered.json
    if officer is not None and kind == "bodycam":
        issued = client.post(
            f"/api/v1/devices/{serial}/issue",
            json={"officer": officer},
            headers=bearer(admin_token),
        )
        assert issued.status_code == 201, issued.json
    return private


def intake_upload(client, token, device, data, **extra):
    """The answer to a direct upload of `data` as a docking station's footage from `device`."""
    pairs = {"intake": "1", "device": device, "captured_at": NOW, **extra}
    headers = {**bearer(token), "Upload-Metadata": encode_upload_metadata(pairs)}
    return client.post(
        "/api/v1/evidence", data=data, headers=headers, content_type="application/octet-stream"
    )


def docked_photo(client, tokens, photo, serial="DSJ-1", officer="officer-1", tag="a"):
    """The evidence id of a photo from a bodycam issued to `officer`, captured just after the
    issue (capture times are whole seconds), as a docking station's account ingests it."""
    issued_bodycam(client, tokens["admin"], serial, officer=officer)
    captured = format_time(datetime.now(UTC) + timedelta(seconds=2))
    answer = intake_upload(
        client, tokens["system"], serial, photo + tag.encode(), captured_at=captured
    )
    assert answer.status_code == 201, answer.json
    return answer.json["evidence"]["evidence_id"]
