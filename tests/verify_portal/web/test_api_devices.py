"""Devices (非现场执法): signed captures, refused devices, segment continuity in the case and the
audit."""

import base64
import hashlib
import json
import subprocess

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from tongsuopy.crypto import serialization as tserialization

from evidence.devices import registry
from evidence.meta import UploadMeta, encode_upload_metadata, signed_message
from evidence.models import Device
from ledger import sm2
from ledger.users import Role, add_user
from tests.conftest import bearer
from tests.media_fixtures import make_video
from tests.support.api import NOW, log_size, open_case, stored_blobs, tamper
from verify_portal.app.auditing import run_audit
from verify_portal.cli import main


def _pem(private):
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _register(client, tokens, serial, private):
    r = client.post(
        "/api/v1/devices",
        json={
            "serial": serial,
            "kind": "bodycam",
            "unit": "xuhui-team-3",
            "public_key": _pem(private),
        },
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 201, r.json
    return r.json


def _sign(private, pairs, data):
    meta = UploadMeta.parse(pairs)
    message = signed_message(meta, hashlib.sha256(data).hexdigest())
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return base64.b64encode(private.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
    return base64.b64encode(private.sign(message)).decode()


def _upload_signed(client, token, private, data, **pairs):
    pairs = {"captured_at": NOW, **pairs}
    if private is not None:
        pairs["signature"] = _sign(private, pairs, data)
    return client.post(
        "/api/v1/evidence",
        data=data,
        headers={**bearer(token), "Upload-Metadata": encode_upload_metadata(pairs)},
    )


@pytest.fixture
def case_no(client, tokens):
    return open_case(client, tokens["officer"])


@pytest.mark.parametrize(
    "make_key",
    [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1())],
    ids=["ed25519", "p256"],
)
def test_a_capture_signed_by_a_registered_device_is_recorded_as_device_signed(
    client, tokens, case_no, media_dir, make_key
):
    key = make_key()
    assert _register(client, tokens, "DSJ-0001", key)["algorithm"] in ("ed25519", "p256")
    photo = (media_dir / "photo.jpg").read_bytes()
    r = _upload_signed(client, tokens["system"], key, photo, case_no=case_no, device="DSJ-0001")
    assert r.status_code == 201, r.json
    assert (
        r.json["event"]["payload"]["device"] == "DSJ-0001"
        and r.json["event"]["payload"]["device_signed"]
    )


def test_a_named_device_without_signature_is_recorded_as_not_signed(
    client, tokens, case_no, media_dir
):
    _register(client, tokens, "DSJ-0002", ed25519.Ed25519PrivateKey.generate())
    r = _upload_signed(
        client,
        tokens["officer"],
        None,
        (media_dir / "photo.jpg").read_bytes(),
        case_no=case_no,
        device="DSJ-0002",
    )
    assert r.status_code == 201 and r.json["event"]["payload"]["device_signed"] is False


def test_a_bad_signature_an_unknown_or_a_revoked_device_is_refused_and_leaves_nothing(
    client, tokens, case_no, media_dir, services
):
    key, stranger = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _register(client, tokens, "DSJ-0003", key)
    photo = (media_dir / "photo.jpg").read_bytes()
    before = log_size(client)
    bad = _upload_signed(
        client, tokens["system"], stranger, photo, case_no=case_no, device="DSJ-0003"
    )
    unknown = _upload_signed(
        client, tokens["system"], key, photo, case_no=case_no, device="DSJ-9999"
    )
    assert log_size(client) == before
    assert (
        client.post(
            "/api/v1/devices/DSJ-0003/revocation", headers=bearer(tokens["admin"])
        ).status_code
        == 200
    )
    assert log_size(client) == before + 1  # the revocation is an event of the log's registry chain
    revoked = _upload_signed(
        client, tokens["system"], key, photo, case_no=case_no, device="DSJ-0003"
    )
    for r, words in ((bad, "does not verify"), (unknown, "not registered"), (revoked, "revoked")):
        assert (
            r.status_code == 422
            and r.json["type"].endswith("device-refused")
            and words in r.json["detail"]
        )
    assert log_size(client) == before + 1 and stored_blobs(services) == []


def test_only_admins_register_devices(client, tokens):
    r = client.post(
        "/api/v1/devices",
        json={
            "serial": "X",
            "kind": "bodycam",
            "unit": "u",
            "public_key": _pem(ed25519.Ed25519PrivateKey.generate()),
        },
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 403


def test_a_dropped_segment_of_five_is_flagged_on_the_case_and_in_the_audit(
    client, tokens, case_no, services, tmp_path
):
    key = ed25519.Ed25519PrivateKey.generate()
    _register(client, tokens, "DSJ-0005", key)
    segments = [
        make_video(tmp_path / f"seg{i}.mp4", seconds=1, size="64x48", audio=False).read_bytes()
        for i in range(5)
    ]
    hashes_ = [hashlib.sha256(s).hexdigest() for s in segments]
    for seq in (0, 1, 3, 4):  # segment 2 never arrives
        extra = {"segment_seq": str(seq)} | ({"segment_prev": hashes_[seq - 1]} if seq else {})
        r = _upload_signed(
            client,
            tokens["system"],
            key,
            segments[seq],
            case_no=case_no,
            device="DSJ-0005",
            **extra,
        )
        assert r.status_code == 201, r.json
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["supervisor"])
    ).json["evidence"]
    assert [e["continuity"] for e in listed] == [
        None,
        None,
        "segment 3 follows segment 1: segment 2 missing",
        None,
    ]
    assert all(e["media"]["duration_s"] == pytest.approx(1.0, abs=0.1) for e in listed)

    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    audited = CliRunner().invoke(main, ["audit"], env=env)
    assert audited.exit_code == 2
    assert "device DSJ-0005" in audited.output and "segment 2 missing" in audited.output


def test_an_unsigned_upload_may_not_claim_a_place_in_a_devices_sequence(
    client, tokens, case_no, media_dir, tmp_path
):
    key = ed25519.Ed25519PrivateKey.generate()
    _register(client, tokens, "DSJ-0006", key)
    photo = (media_dir / "photo.jpg").read_bytes()
    before = log_size(client)
    claimed = _upload_signed(
        client, tokens["officer"], None, photo, case_no=case_no, device="DSJ-0006", segment_seq="1"
    )
    assert claimed.status_code == 422 and "signed by the device" in claimed.json["detail"]
    assert log_size(client) == before
    segments = [
        make_video(tmp_path / f"s{i}.mp4", seconds=1, size="64x48", audio=False).read_bytes()
        for i in range(3)
    ]
    for seq, data in enumerate(segments):  # the camera's own segments follow one another, unflagged
        extra = {"segment_seq": str(seq)} | (
            {"segment_prev": hashlib.sha256(segments[seq - 1]).hexdigest()} if seq else {}
        )
        r = _upload_signed(
            client, tokens["system"], key, data, case_no=case_no, device="DSJ-0006", **extra
        )
        assert r.status_code == 201 and r.json["evidence"]["continuity"] is None, r.json


def test_an_acknowledged_gap_is_reported_as_such_and_the_audit_is_clean(
    client, tokens, case_no, services, tmp_path
):
    key = ed25519.Ed25519PrivateKey.generate()
    _register(client, tokens, "DSJ-0007", key)
    segments = [
        make_video(tmp_path / f"g{i}.mp4", seconds=1, size="64x48", audio=False).read_bytes()
        for i in range(3)
    ]
    ids = []
    for seq in (0, 2):  # segment 1 was lost on the device
        extra = {"segment_seq": str(seq)} | (
            {"segment_prev": hashlib.sha256(segments[1]).hexdigest()} if seq else {}
        )
        ids.append(
            _upload_signed(
                client,
                tokens["system"],
                key,
                segments[seq],
                case_no=case_no,
                device="DSJ-0007",
                **extra,
            ).json["evidence"]["evidence_id"]
        )
    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    assert CliRunner().invoke(main, ["audit"], env=env).exit_code == 2
    url = f"/api/v1/evidence/{ids[1]}/gap-acknowledgements"
    assert (
        client.post(
            url, json={"reason": "device-fault"}, headers=bearer(tokens["officer"])
        ).status_code
        == 403
    )
    assert (
        client.post(
            url, json={"reason": "the dog ate it"}, headers=bearer(tokens["supervisor"])
        ).status_code
        == 400
    )
    no_gap = client.post(
        f"/api/v1/evidence/{ids[0]}/gap-acknowledgements",
        json={"reason": "device-fault"},
        headers=bearer(tokens["supervisor"]),
    )
    assert no_gap.status_code == 400 and "no gap" in no_gap.json["detail"]
    acknowledged = client.post(
        url, json={"reason": "device-fault"}, headers=bearer(tokens["supervisor"])
    )
    assert acknowledged.status_code == 201
    audited = CliRunner().invoke(main, ["audit"], env=env)
    assert audited.exit_code == 0, audited.output
    assert (
        "acknowledged: device DSJ-0007" in audited.output
        and "(acknowledged: device-fault)" in audited.output
    )
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "lianzheng_audit_clean 1" in metrics and "lianzheng_audit_open_findings 0" in metrics


def test_a_devices_key_swapped_in_the_database_does_not_let_its_holder_sign(
    client, tokens, case_no, media_dir, services
):
    from sqlalchemy import text

    key, attacker = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _register(client, tokens, "DSJ-0008", key)
    with services.engine.begin() as conn:
        conn.execute(
            text("UPDATE devices SET public_key = :k WHERE serial = 'DSJ-0008'"),
            {"k": attacker.public_key().public_bytes_raw()},
        )
    forged = _upload_signed(
        client,
        tokens["system"],
        attacker,
        (media_dir / "photo.jpg").read_bytes(),
        case_no=case_no,
        device="DSJ-0008",
    )
    assert (
        forged.status_code == 422 and "does not verify" in forged.json["detail"]
    )  # the log's key decides


def _issue(client, tokens, serial, officer, who="admin"):
    return client.post(
        f"/api/v1/devices/{serial}/issue", json={"officer": officer}, headers=bearer(tokens[who])
    )


def test_a_bodycam_is_issued_to_an_officer_and_reissued_each_a_registry_event(
    client, tokens, services
):
    _register(client, tokens, "DSJ-7", ed25519.Ed25519PrivateKey.generate())
    size = log_size(client)
    issued = _issue(client, tokens, "DSJ-7", "officer-1")
    assert issued.status_code == 201 and issued.json == {
        "serial": "DSJ-7",
        "issued_to": "officer-1",
    }
    assert _issue(client, tokens, "DSJ-7", "officer-1").status_code == 201  # again: no new event
    assert log_size(client) == size + 1
    with services.sessions.begin() as session:
        add_user(session, "officer-2", Role.OFFICER)
    assert _issue(client, tokens, "DSJ-7", "officer-2").status_code == 201
    assert log_size(client) == size + 2
    with services.sessions() as session:
        assert registry(session).devices["DSJ-7"].issued_to == "officer-2"
        assert session.get(Device, "DSJ-7").issued_to == "officer-2"
    assert run_audit(services).clean
    tamper(services, "UPDATE devices SET issued_to = 'officer-1' WHERE serial = 'DSJ-7'")
    findings = [str(f) for f in run_audit(services).findings]
    assert any("devices DSJ-7" in f and "issued_to" in f for f in findings), findings


def test_only_a_certified_bodycam_goes_to_an_active_officer_and_only_an_admin_hands_it_over(
    client, tokens
):
    _register(client, tokens, "DSJ-8", ed25519.Ed25519PrivateKey.generate())
    size = log_size(client)
    assert _issue(client, tokens, "DSJ-8", "officer-1", who="supervisor").status_code == 403
    assert _issue(client, tokens, "DSJ-8", "supervisor-1").status_code == 400  # not an officer
    assert _issue(client, tokens, "DSJ-8", "张三").status_code == 400  # a name, not a code
    assert _issue(client, tokens, "NO-SUCH", "officer-1").status_code == 404
    client.post("/api/v1/devices/DSJ-8/revocation", headers=bearer(tokens["admin"]))
    refused = _issue(client, tokens, "DSJ-8", "officer-1")
    assert refused.status_code == 400 and "revoked" in refused.json["detail"]
    assert log_size(client) == size + 1  # the revocation only


def test_an_admin_issues_a_bodycam_from_the_command_line(client, tokens, services):
    _register(client, tokens, "DSJ-9", ed25519.Ed25519PrivateKey.generate())
    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    args = ["device", "issue", "--as", "admin-1", "DSJ-9", "--to", "officer-1"]
    issued = CliRunner().invoke(main, args, env=env)
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.stdout) == {"serial": "DSJ-9", "issued_to": "officer-1"}
    refused = CliRunner().invoke(main, [*args[:-1], "no-such-officer"], env=env)
    assert refused.exit_code == 1 and "not the account code of an active officer" in refused.stderr


def _openssl_sm2_sign(private, message, tmp_path):
    """Sign as a GB 35114 recorder does: SM2 over SM3 with the default user id, by OpenSSL."""
    key = tmp_path / "recorder-sm2.pem"
    key.write_bytes(
        private.private_bytes(
            tserialization.Encoding.PEM,
            tserialization.PrivateFormat.PKCS8,
            tserialization.NoEncryption(),
        )
    )
    (tmp_path / "message").write_bytes(message)
    subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3"]
        + ["-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "message")]
        + ["-out", str(tmp_path / "signature")],
        check=True,
    )
    return base64.b64encode((tmp_path / "signature").read_bytes()).decode()


def test_an_sm2_recorders_signed_upload_is_accepted_and_a_tampered_one_refused(
    client, tokens, case_no, media_dir, tmp_path
):
    private = sm2.generate()
    pem = private.public_key().public_bytes(
        tserialization.Encoding.PEM, tserialization.PublicFormat.SubjectPublicKeyInfo
    )
    registered = client.post(
        "/api/v1/devices",
        json={
            "serial": "GB-1",
            "kind": "camera",
            "unit": "xuhui-team-3",
            "public_key": pem.decode(),
        },
        headers=bearer(tokens["admin"]),
    )
    assert registered.status_code == 201 and registered.json["algorithm"] == "sm2"
    data = (media_dir / "photo.jpg").read_bytes()
    pairs = {"case_no": case_no, "captured_at": NOW, "device": "GB-1", "segment_seq": "0"}
    message = signed_message(UploadMeta.parse(pairs), hashlib.sha256(data).hexdigest())
    pairs["signature"] = _openssl_sm2_sign(private, message, tmp_path)
    headers = {**bearer(tokens["system"]), "Upload-Metadata": encode_upload_metadata(pairs)}
    accepted = client.post("/api/v1/evidence", data=data, headers=headers)
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["evidence"]["device_signed"] is True
    size = log_size(client)
    tampered = client.post("/api/v1/evidence", data=data + b"\0", headers=headers)
    assert tampered.status_code == 422 and "does not verify" in tampered.json["detail"]
    assert log_size(client) == size
