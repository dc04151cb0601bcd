"""The docking station (lianzheng dock) against a running service: eight recorders at once, each
recording either confirmed by the log and wiped, or still on its recorder; never wiped unconfirmed.
"""

import base64
import hashlib
import json
import shutil

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from evidence import tus_client
from evidence.dock import Progress
from evidence.meta import UploadMeta, signed_message
from ledger.events import Event
from ledger.models import Leaf
from tests.conftest import bearer
from tests.media_fixtures import make_video
from tests.support.dock import (
    add_recorder,
    confirmed_records,
    left_on,
    server_record,
    staged_files,
    station,
    unique_photo,
)
from tests.support.http import in_thread
from tests.support.intake import issued_bodycam
from verify_portal.app.auditing import run_audit
from verify_portal.cli import main

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
DEAD_SERVER = "http://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Eight distinct short bodycam videos."""
    folder = tmp_path_factory.mktemp("dock-videos")
    return [
        make_video(folder / f"v{i}.mp4", seconds=1, size=f"{160 + 16 * i}x120").read_bytes()
        for i in range(8)
    ]


@pytest.fixture
def photo(media_dir):
    return (media_dir / "photo.jpg").read_bytes()


def _eight_recorders(client, tokens, watch, videos, photo, media_dir):
    """Eight issued recorders, each with a video and two photos; recorder 3 also holds a corrupt
    video. Their folders by serial."""
    folders = {}
    for i in range(8):
        serial = f"DSJ-{i}"
        issued_bodycam(client, tokens["admin"], serial)
        files = {
            f"{i}-a.mp4": videos[i],
            f"{i}-b.jpg": unique_photo(photo, f"{i}b"),
            f"{i}-c.jpg": unique_photo(photo, f"{i}c"),
        }
        if i == 3:
            files["3-d.mp4"] = (media_dir / "corrupt.mp4").read_bytes()
        folders[serial] = add_recorder(watch, f"usb{i}", serial, files)
    return folders


def test_eight_recorders_at_once_every_recording_confirmed_and_wiped_or_kept(
    client, tokens, services, live_url, tmp_path, videos, photo, media_dir, monkeypatch
):
    lines = []
    dock = station(live_url, tokens["system"], tmp_path, lines)
    folders = _eight_recorders(client, tokens, dock.watch, videos, photo, media_dir)
    growing = folders["DSJ-5"] / "DCIM" / "5-a.mp4"
    monkeypatch.setattr("evidence.dock_files.READ", 4096)
    real_add = Progress.add

    def grow_while_copied(progress, serial, what, count):
        # The recorder is still writing 5-a.mp4 when the station copies it.
        if serial == "DSJ-5" and what == "copied" and growing.stat().st_size < 1 << 20:
            with open(growing, "ab") as f:
                f.write(b"\0" * 4096)
        real_add(progress, serial, what, count)

    monkeypatch.setattr(Progress, "add", grow_while_copied)
    summary = dock.run_once()

    assert summary == {
        "recorders": 8,
        "files": 23,
        "bytes": summary["bytes"],
        "kept": 2,
        "refused": 0,
    }
    assert left_on(folders["DSJ-3"]) == ["3-d.mp4"]  # corrupt: the server refused it
    assert left_on(folders["DSJ-5"]) == ["5-a.mp4"]  # changed while it was copied
    for serial, folder in folders.items():
        if serial not in ("DSJ-3", "DSJ-5"):
            assert left_on(folder) == [], serial
    confirmed = confirmed_records(dock.reports)
    assert len(confirmed) == 23
    for record in confirmed:  # each wiped recording is in the log with exactly its bytes
        on_server = server_record(live_url, tokens["system"], record["evidence_id"])
        assert (on_server["sha256"], on_server["size"]) == (record["sha256"], record["size"])
        assert on_server["sm3"] == record["sm3"]  # the station's SM3 and the server's agree
        assert on_server["leaf_index"] == record["leaf_index"]
    assert staged_files(dock.staging) == []
    assert any("DSJ-0 (officer-1): done, 3/3 files confirmed" in line for line in lines)
    assert any("3-d.mp4: the server refused the upload (415)" in line for line in lines)
    assert any("5-a.mp4: the file changed while it was copied" in line for line in lines)
    assert run_audit(services).clean


def test_the_shift_report_is_a_file_whose_hash_the_log_holds(
    client, tokens, services, live_url, tmp_path, photo
):
    dock = station(live_url, tokens["system"], tmp_path, [])
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    add_recorder(dock.watch, "usb1", "DSJ-1", {"a.jpg": unique_photo(photo, "a")})
    dock.run_once()
    [report] = dock.reports.glob("ingest-*.json")
    logged = json.loads(report.with_suffix(".logged").read_text())
    event = _event_at(services, logged["leaf_index"])
    assert (event.type, event.case_no) == ("evidence.ingest-reported", "INTAKE")
    assert event.payload["report_sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    body = json.loads(report.read_bytes())
    assert body["format"] == "lianzheng-ingest/1"
    assert body["summary"] == {"recorders": 1, "files": 1, "bytes": len(photo) + 128, "kept": 0}
    [record] = body["recorders"]["DSJ-1"]["confirmed"]
    assert record["path"] == "DCIM/a.jpg"
    assert record["sha256"] == hashlib.sha256(unique_photo(photo, "a")).hexdigest()


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ("unregistered", "not in the device registry"),
        ("revoked", "revoked"),
        ("not-issued", "issued to nobody"),
        ("no-identity", "has no readable DEVICE.TXT"),
    ],
)
def test_a_recorder_not_registered_revoked_or_unissued_is_refused_and_nothing_copied(
    client, tokens, live_url, tmp_path, photo, setup, why
):
    lines = []
    dock = station(live_url, tokens["system"], tmp_path, lines)
    if setup == "revoked":
        issued_bodycam(client, tokens["admin"], "DSJ-1")
        client.post("/api/v1/devices/DSJ-1/revocation", headers=bearer(tokens["admin"]))
    elif setup == "not-issued":
        issued_bodycam(client, tokens["admin"], "DSJ-1", officer=None)
    folder = add_recorder(dock.watch, "usb1", "DSJ-1", {"a.jpg": unique_photo(photo, "a")})
    if setup == "no-identity":
        (folder / "DEVICE.TXT").unlink()
    size = client.get("/api/v1/log/checkpoint").data
    summary = dock.run_once()
    assert summary["refused"] == 1 and summary["files"] == 0
    assert left_on(folder) == ["a.jpg"]
    assert staged_files(dock.staging) == []
    assert any(why in line for line in lines), lines
    [report] = dock.reports.glob("ingest-*.json")
    assert why in json.loads(report.read_bytes())["refused"][0]["reason"]
    assert client.get("/api/v1/log/checkpoint").data != size  # only the report's event


def test_a_network_cut_keeps_every_recording_and_the_next_run_finishes_the_shift(
    client, tokens, live_url, tmp_path, photo
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    cut = station(DEAD_SERVER, tokens["system"], tmp_path, [], retries=1)
    folder = add_recorder(
        cut.watch, "usb1", "DSJ-1", {f"{n}.jpg": unique_photo(photo, str(n)) for n in range(3)}
    )
    cut.run_once()
    assert left_on(folder) == ["0.jpg", "1.jpg", "2.jpg"]
    assert staged_files(cut.staging) == []
    [waiting] = cut.reports.glob("ingest-*.json")
    assert not waiting.with_suffix(".logged").exists()  # the report waits for the server

    restored = station(live_url, tokens["system"], tmp_path, [])
    summary = restored.run_once()
    assert summary["files"] == 3 and left_on(folder) == []
    assert all(p.with_suffix(".logged").exists() for p in restored.reports.glob("ingest-*.json"))


def test_an_upload_cut_mid_file_resumes_where_the_server_stands_and_wipes_only_after(
    client, tokens, live_url, tmp_path, photo, monkeypatch
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    big = unique_photo(photo, "big") + bytes(200_000)
    dock = station(live_url, tokens["system"], tmp_path, [])
    folder = add_recorder(dock.watch, "usb1", "DSJ-1", {"big.jpg": big})
    monkeypatch.setattr(tus_client, "CHUNK", 64 * 1024)
    real_send, offsets = tus_client.TusClient.send_chunk, []

    def cut_after_two(client_, url, offset, chunk, checksum=True):
        if len(offsets) == 2:
            raise KeyboardInterrupt  # the station loses power
        offsets.append(offset)
        return real_send(client_, url, offset, chunk, checksum)

    monkeypatch.setattr(tus_client.TusClient, "send_chunk", cut_after_two)
    with pytest.raises(KeyboardInterrupt):
        dock.run_once()
    assert left_on(folder) == ["big.jpg"]

    resumed = []
    monkeypatch.setattr(
        tus_client.TusClient,
        "send_chunk",
        lambda c, url, offset, chunk, checksum=True: (
            resumed.append(offset) or real_send(c, url, offset, chunk, checksum)
        ),
    )
    again = station(live_url, tokens["system"], tmp_path, [])
    assert again.run_once()["files"] == 1
    assert resumed[0] == 2 * 64 * 1024  # from the server's offset, not from the start
    assert left_on(folder) == [] and staged_files(again.staging) == []


def test_a_device_signed_recording_passes_its_signature_through(
    client, tokens, services, live_url, tmp_path, photo
):
    private = issued_bodycam(client, tokens["admin"], "DSJ-1")
    data = unique_photo(photo, "signed")
    captured = "2026-11-30T08:00:00Z"
    meta = UploadMeta.parse(
        {"intake": "1", "device": "DSJ-1", "captured_at": captured, "segment_seq": "0"}
    )
    signature = private.sign(signed_message(meta, hashlib.sha256(data).hexdigest()))
    dock = station(live_url, tokens["system"], tmp_path, [])
    folder = add_recorder(dock.watch, "usb1", "DSJ-1", {"seg0.jpg": data})
    sidecar = {
        "captured_at": captured,
        "signature": base64.b64encode(signature).decode(),
        "segment_seq": 0,
    }
    (folder / "DCIM" / "seg0.jpg.sig.json").write_text(json.dumps(sidecar))
    assert dock.run_once()["files"] == 1
    assert not (folder / "DCIM" / "seg0.jpg.sig.json").exists()
    [record] = confirmed_records(dock.reports)
    event = _event_at(services, record["leaf_index"])
    assert event.payload["device_signed"] is True
    assert event.payload["segment"] == {"seq": 0, "prev": None}


def _event_at(services, index):
    with services.sessions() as session:
        return Event.decode(session.get(Leaf, index).data)


def test_the_command_exits_non_zero_when_a_recording_was_kept(
    client, tokens, live_url, tmp_path, media_dir, photo
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    watch = tmp_path / "watch"
    watch.mkdir()
    folder = add_recorder(
        watch,
        "usb1",
        "DSJ-1",
        {"ok.jpg": unique_photo(photo, "ok"), "bad.mp4": (media_dir / "corrupt.mp4").read_bytes()},
    )
    env = {"LIANZHENG_SERVER": live_url, "LIANZHENG_TOKEN": tokens["system"]}
    args = ["dock", "--once", "--watch", str(watch)]
    args += ["--staging", str(tmp_path / "staging"), "--reports", str(tmp_path / "reports")]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output
    assert "1 recording(s) confirmed and wiped from 1 recorder(s)" in result.output
    assert "1 kept on their recorders" in result.output
    assert left_on(folder) == ["bad.mp4"]


def test_a_hostile_signature_file_or_identity_file_is_refused_without_harm(
    client, tokens, live_url, tmp_path, photo
):
    lines = []
    dock = station(live_url, tokens["system"], tmp_path, lines)
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    deep = add_recorder(dock.watch, "usb1", "DSJ-1", {"a.jpg": unique_photo(photo, "a")})
    (deep / "DCIM" / "a.jpg.sig.json").write_text("[" * 4000)
    huge = add_recorder(dock.watch, "usb2", "DSJ-1", {"b.jpg": unique_photo(photo, "b")})
    (huge / "DEVICE.TXT").write_bytes(b"DSJ-1" * 200_000)
    summary = dock.run_once()
    assert summary["files"] == 0 and summary["kept"] == 1 and summary["refused"] == 1
    assert left_on(deep) == ["a.jpg"] and left_on(huge) == ["b.jpg"]
    assert any("is not one flat JSON object" in line for line in lines), lines
    assert any("holds no serial number" in line for line in lines), lines


def test_a_server_stopped_mid_shift_keeps_the_rest_and_the_restarted_server_gets_them(
    app, client, tokens, tmp_path, photo, monkeypatch
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    first = make_server("127.0.0.1", 0, app, threaded=True)
    port = first.server_port
    lines = []
    dock = station(f"http://127.0.0.1:{port}", tokens["system"], tmp_path, lines, retries=1)
    folder = add_recorder(
        dock.watch, "usb1", "DSJ-1", {f"{n}.jpg": unique_photo(photo, str(n)) for n in range(4)}
    )
    real_add = Progress.add

    def stop_after_the_first(progress, serial, what, count):
        real_add(progress, serial, what, count)
        if what == "done" and progress.tallies[serial].done == 1:
            first.shutdown()  # the server goes down once the first recording is confirmed
            first.server_close()

    monkeypatch.setattr(Progress, "add", stop_after_the_first)
    with in_thread(first):
        summary = dock.run_once()
    assert summary["files"] == 1 and left_on(folder) == ["1.jpg", "2.jpg", "3.jpg"]
    assert any("the server could not be reached" in line for line in lines), lines
    assert staged_files(dock.staging) == []

    monkeypatch.setattr(Progress, "add", real_add)
    with in_thread(make_server("127.0.0.1", port, app, threaded=True)):
        again = station(f"http://127.0.0.1:{port}", tokens["system"], tmp_path, [])
        assert again.run_once()["files"] == 3
    assert left_on(folder) == []
    assert len(confirmed_records(dock.reports)) == 4
    assert all(p.with_suffix(".logged").exists() for p in dock.reports.glob("ingest-*.json"))


def test_a_recorder_pulled_out_mid_copy_keeps_its_recordings_until_it_comes_back(
    client, tokens, live_url, tmp_path, photo, monkeypatch
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    lines = []
    dock = station(live_url, tokens["system"], tmp_path, lines)
    files = {f"{n}.jpg": unique_photo(photo, str(n)) for n in range(3)}
    folder = add_recorder(dock.watch, "usb1", "DSJ-1", files)
    away = tmp_path / "in-the-officers-hand"
    monkeypatch.setattr("evidence.dock_files.READ", 1024)
    real_add = Progress.add

    def pull_out(progress, serial, what, count):
        real_add(progress, serial, what, count)
        if what == "copied" and folder.exists():
            shutil.move(folder, away)  # the officer takes the recorder mid-copy

    monkeypatch.setattr(Progress, "add", pull_out)
    summary = dock.run_once()
    assert summary["files"] == 0
    assert any("the recorder was pulled out" in line for line in lines), lines
    assert left_on(away) == ["0.jpg", "1.jpg", "2.jpg"] and staged_files(dock.staging) == []

    monkeypatch.setattr(Progress, "add", real_add)
    shutil.move(away, folder)  # put back into the station
    assert station(live_url, tokens["system"], tmp_path, []).run_once()["files"] == 3
    assert left_on(folder) == []
