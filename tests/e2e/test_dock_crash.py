"""The docking station killed with kill -9 in the middle of an upload: the recording stays on its
recorder, and the next run resumes the upload where the server stands, then wipes it."""

import hashlib
import os
import signal
import subprocess
import sys
import threading

import pytest
from flask import request

from tests.support.dock import add_recorder, confirmed_records, left_on, server_record
from tests.support.intake import issued_bodycam

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MIB = 1 << 20


def _dock(live_url, token, base):
    command = [sys.executable, "-m", "verify_portal", "dock", "--once", "--watch"]
    command += [str(base / "watch"), "--staging", str(base / "staging")]
    command += ["--reports", str(base / "reports")]
    env = {**os.environ, "LIANZHENG_SERVER": live_url, "LIANZHENG_TOKEN": token}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_station_killed_mid_upload_keeps_the_recording_and_resumes_it(
    app, request_fixture, tmp_path, media_dir
):
    offsets, held, release = [], threading.Event(), threading.Event()

    @app.before_request
    def hold_the_second_chunk():
        # The first 8 MiB chunk arrives; the second is held until the station has been killed
        # (it may still arrive whole from the socket buffers: the third cannot have been sent).
        if request.method == "PATCH":
            offsets.append(int(request.headers.get("Upload-Offset", "-1")))
            if offsets[-1] > 0 and not release.is_set():
                held.set()
                release.wait(120)

    client, tokens = request_fixture("client"), request_fixture("tokens")
    live_url = request_fixture("live_url")
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    data = (media_dir / "photo.jpg").read_bytes() + os.urandom(20 * MIB)
    folder = add_recorder(tmp_path / "watch", "usb1", "DSJ-1", {"big.jpg": data})

    station = _dock(live_url, tokens["system"], tmp_path)
    assert held.wait(120), "the station never sent its second chunk"
    os.kill(station.pid, signal.SIGKILL)
    station.wait(60)
    release.set()
    assert left_on(folder) == ["big.jpg"]  # killed before the server confirmed: still there

    offsets.clear()
    again = _dock(live_url, tokens["system"], tmp_path)
    output = again.communicate(timeout=300)[0].decode()
    assert again.returncode == 0, output
    assert offsets and offsets[0] > 0, offsets  # resumed from the server's offset
    assert left_on(folder) == []
    [record] = confirmed_records(tmp_path / "reports")
    on_server = server_record(live_url, tokens["system"], record["evidence_id"])
    assert on_server["sha256"] == hashlib.sha256(data).hexdigest()
    assert not [p for p in (tmp_path / "staging" / "files").rglob("*") if p.is_file()]


@pytest.fixture
def request_fixture(request):
    """Fixtures fetched by name, after the test has added its hooks to the app."""
    return request.getfixturevalue
