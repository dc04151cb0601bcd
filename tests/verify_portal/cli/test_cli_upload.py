"""`lianzheng upload` against a running service: progress, a clear refusal, resume after
interruption."""

import hashlib
import json

import pytest
from click.testing import CliRunner

from evidence import tus_client
from tests.conftest import bearer
from tests.support.api import open_case
from verify_portal.cli import main


@pytest.fixture
def run(live_url, tokens, tmp_path):
    env = {
        "LIANZHENG_SERVER": live_url,
        "LIANZHENG_TOKEN": tokens["officer"],
        "LIANZHENG_CLIENT_STATE": str(tmp_path / "client"),
        "LIANZHENG_DATA_DIR": str(tmp_path / "client-data"),
    }

    def invoke(*args):
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def test_a_file_is_uploaded_and_registered(run, client, tokens, media_dir):
    case_no = open_case(client, tokens["officer"])
    result = run("upload", str(media_dir / "bodycam.mp4"), "--case", case_no, "--gps", "31.2,121.4")
    assert result.exit_code == 0, result.output
    assert "uploading" in result.output  # the progress bar
    registered = json.loads(result.output.strip().splitlines()[-1])
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])
    ).json["evidence"]
    assert [e["evidence_id"] for e in listed] == [registered["evidence_id"]]
    assert (
        listed[0]["sha256"] == hashlib.sha256((media_dir / "bodycam.mp4").read_bytes()).hexdigest()
    )


def test_an_interrupted_upload_resumes_where_the_server_stands(
    run, client, tokens, media_dir, monkeypatch
):
    case_no = open_case(client, tokens["officer"])
    monkeypatch.setattr(tus_client, "CHUNK", 16 * 1024)
    real_send, sent = tus_client.TusClient.send_chunk, []

    def interrupted(client, url, offset, chunk, checksum=True):
        if len(sent) == 2:
            raise KeyboardInterrupt  # the officer's laptop leaves the docking station
        sent.append(offset)
        return real_send(client, url, offset, chunk, checksum)

    monkeypatch.setattr(tus_client.TusClient, "send_chunk", interrupted)
    assert run("upload", str(media_dir / "bodycam.mp4"), "--case", case_no).exit_code != 0
    monkeypatch.setattr(tus_client.TusClient, "send_chunk", real_send)
    resumed = run("upload", str(media_dir / "bodycam.mp4"), "--case", case_no)
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming at byte {2 * 16 * 1024:,}" in resumed.output
    listed = client.get(
        f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"])
    ).json["evidence"]
    assert len(listed) == 1


def test_a_refused_upload_is_one_clear_line(run, client, tokens, media_dir):
    case_no = open_case(client, tokens["officer"])
    result = run("upload", str(media_dir / "program.exe"), "--case", case_no)
    assert result.exit_code == 1
    assert "upload-failed" in result.output and "415" in result.output


def test_an_operator_registers_a_device_and_derives_a_clip_from_the_command_line(
    tmp_path, services, tokens, client, media_dir
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tests.support.api import upload_evidence

    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    key = tmp_path / "device.pem"
    key.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    added = CliRunner().invoke(
        main,
        [
            "device",
            "add",
            "--as",
            "admin-1",
            "DSJ-7",
            "--kind",
            "bodycam",
            "--unit",
            "xuhui-3",
            "--key",
            str(key),
        ],
        env=env,
    )
    assert added.exit_code == 0 and json.loads(added.output)["algorithm"] == "ed25519"
    case_no = open_case(client, tokens["officer"])
    original = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "bodycam.mp4").read_bytes()
    ).json
    derived = CliRunner().invoke(
        main,
        [
            "evidence",
            "derive",
            "--as",
            "officer-1",
            original["evidence"]["evidence_id"],
            "--trim",
            "0",
            "1",
        ],
        env=env,
    )
    assert derived.exit_code == 0, derived.output
    assert (
        json.loads(derived.output)["evidence"]["derived_from"]
        == original["evidence"]["evidence_id"]
    )
    listed = CliRunner().invoke(
        main, ["evidence", "list", "--as", "supervisor-1", case_no], env=env
    )
    assert len(json.loads(listed.output)) == 2
    assert (
        CliRunner()
        .invoke(main, ["device", "revoke", "--as", "officer-1", "DSJ-7"], env=env)
        .exit_code
        == 1
    )
