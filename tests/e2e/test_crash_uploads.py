"""Killing the server during uploads: nothing acknowledged is lost, no partial blob, no record
without its blob."""

import hashlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

from evidence.meta import encode_upload_metadata
from tests.media_fixtures import make_video
from tests.support.serve import BIN, Server, request

NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _slow_upload(port, token, meta, data):
    """An upload that trickles in, to be cut by the kill."""
    head = (
        f"POST /api/v1/evidence HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
        f"Upload-Metadata: {meta}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(head)
            for start in range(0, len(data), 4096):
                conn.sendall(data[start : start + 4096])
                time.sleep(0.25)
    except OSError:
        pass


def _upload(url, token, meta, data):
    sent = urllib.request.Request(
        f"{url}/api/v1/evidence",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Upload-Metadata": meta},
    )
    with urllib.request.urlopen(sent, timeout=30) as answer:
        return json.loads(answer.read())


def test_a_server_killed_during_uploads_loses_nothing_acknowledged(tmp_path):
    env = {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(tmp_path / "var"),
        "LIANZHENG_ANCHOR_IN_SERVE": "0",
    }
    videos = [
        make_video(tmp_path / f"v{i}.mp4", seconds=2 + i, size="160x120").read_bytes()
        for i in range(4)
    ]
    with Server(env) as server:
        token = server.add_user("officer-1", "officer")
        case_no = server.open_case(token)
        meta = encode_upload_metadata({"case_no": case_no, "captured_at": NOW})
        acknowledged = [
            _upload(server.url, token, meta, v)["evidence"]["sha256"] for v in videos[:2]
        ]
        trickles = [
            threading.Thread(target=_slow_upload, args=(server.port, token, meta, v))
            for v in videos[2:]
        ]
        for t in trickles:
            t.start()
        time.sleep(0.5)  # the trickling uploads are half way
        server.kill_all()
        for t in trickles:
            t.join(30)

    blobs = tmp_path / "var" / "blobs"
    for path in (blobs / "sha256").rglob("*"):
        if path.is_file():  # nothing half-written sits under a blob name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name

    with Server(env) as server:
        status, body = request(f"{server.url}/api/v1/cases/{case_no}/evidence", token=token)
        listed = [e["sha256"] for e in json.loads(body)["evidence"]]
        assert listed == acknowledged
    assert (
        list((blobs / "tmp").iterdir()) == []
    )  # the killed uploads' temp files were swept at start
    audit = subprocess.run([BIN, "audit"], env=env, capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert (
        "4 evidence blobs verified" in audit.stdout
    )  # the two acknowledged videos and their poster frames
