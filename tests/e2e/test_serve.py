"""`lianzheng serve` as `make run` starts it: a real process on a port, data kept across
restarts."""

import base64
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.serve import BIN, Server, request


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(tmp_path / "var"),
        "LIANZHENG_ANCHOR_INTERVAL": "1",
    }


def _anchor_worker_of(parent_pid):
    """The pid of the `anchor run` process that `serve` started."""
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == parent_pid and command[-3:-1] == [b"anchor", b"run"]:
            return int(entry.name)
    raise AssertionError("serve runs no anchor worker")


def _processes_of(data_dir):
    """{"anvil": [pids], "anchor": [pids]}: the local chain and anchor workers serving
    `data_dir`."""
    found = {"anvil": [], "anchor": []}
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z":
            continue
        if any(arg.startswith(str(data_dir).encode()) for arg in command) and b"--state" in command:
            found["anvil"].append(int(entry.name))
        elif (
            command[-3:-1] == [b"anchor", b"run"]
            and f"LIANZHENG_DATA_DIR={data_dir}".encode() in environ
        ):
            found["anchor"].append(int(entry.name))
    return found


def _wait_for_final_anchor(
    server, size, timeout=120
):  # generous: CI runs it beside the rest of the suite
    """The anchor list once it shows a final anchor of `size`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = json.loads(request(f"{server.url}/api/v1/log/anchors")[1])
        if any(a["size"] == size and a["final"] for a in body["anchors"]):
            return body
        time.sleep(0.5)
    log = server.log.read_text(errors="replace")[-3000:]
    raise AssertionError(
        f"no final anchor of size {size} within {timeout} s: {body}\n--- serve log ---\n{log}"
    )


def test_serve_starts_on_a_fresh_data_dir_and_keeps_the_log_across_a_restart(env, tmp_path):
    with Server(env) as server:
        token = server.add_user("officer-1", "officer")
        server.open_case(token)
        key_before = request(f"{server.url}/api/v1/log/publickey")[1]
        anchors_before = _wait_for_final_anchor(server, 1)  # the worker inside `serve` anchored it

        os.kill(
            _anchor_worker_of(server.proc.pid), signal.SIGKILL
        )  # a crashed worker is started again
        status, body = request(
            f"{server.url}/api/v1/cases",
            {"source": "hotline-12345", "violation_type": "stall", "district": "xuhui"},
            token,
        )
        assert status == 201, body
        anchors_before = _wait_for_final_anchor(server, 2)

    key_file = tmp_path / "var" / "keys" / "checkpoint-ed25519.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600

    with Server(env) as server:
        assert request(f"{server.url}/api/v1/log/publickey")[1] == key_before
        status, note = request(f"{server.url}/api/v1/log/checkpoint")
        assert status == 200 and note.split("\n")[1] == "2"
        status, body = request(
            f"{server.url}/api/v1/cases",
            {"source": "camera", "violation_type": "stall", "district": "xuhui"},
            token,
        )
        assert status == 201 and json.loads(body)["index"] == 2
        # The local chain came back with its state: the same contract and the earlier anchor, then a
        # new one.
        anchors = _wait_for_final_anchor(server, 3)
        assert anchors["contract"] == anchors_before["contract"]
        assert anchors_before["anchors"][0] in anchors["anchors"]
        status, receipt = request(f"{server.url}/api/v1/log/receipt?index=0")
        assert status == 200
        receipt_file = tmp_path / "receipt.json"
        receipt_file.write_text(receipt)
        rpc_url = json.loads((tmp_path / "var" / "chain" / "anvil.json").read_text())["rpc_url"]
        root_file = tmp_path / "root.json"
        subprocess.run([BIN, "trust", "export", "-o", str(root_file)], env=env, check=True)
        assert json.loads(request(f"{server.url}/api/v1/trust")[1]) == json.loads(
            root_file.read_text()
        )
        check = subprocess.run(
            [BIN, "verify-receipt", str(receipt_file), "--trust", str(root_file), "--rpc", rpc_url],
            env=env,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "receipt VERIFIED" in check.stdout

    # `serve` started the local chain, so it stopped it too.
    assert subprocess.run([BIN, "chain", "status"], env=env, capture_output=True).returncode == 1


def test_a_killed_server_leaves_no_chain_or_worker_behind_and_its_successor_runs_one_of_each(
    env, tmp_path
):
    data_dir = tmp_path / "var"
    with Server(env) as server:
        worker = _anchor_worker_of(server.proc.pid)
        anvil = json.loads((data_dir / "chain" / "anvil.json").read_text())["pid"]
        assert _processes_of(data_dir) == {"anvil": [anvil], "anchor": [worker]}
        os.kill(server.proc.pid, signal.SIGKILL)  # the master alone, as the OOM killer would
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 60
        while _processes_of(data_dir) != {"anvil": [], "anchor": []}:
            assert time.monotonic() < deadline, f"left behind: {_processes_of(data_dir)}"
            time.sleep(0.2)

    with Server(env) as server:
        token = server.add_user("officer-1", "officer")
        server.open_case(token)
        _wait_for_final_anchor(server, 1)
        running = _processes_of(data_dir)
        assert len(running["anvil"]) == 1 and len(running["anchor"]) == 1, running


def _unix_socket_paths():
    """The paths of the Unix sockets bound on this host (/proc/net/unix; unbound ones have none)."""
    rows = Path("/proc/net/unix").read_text().splitlines()[1:]
    return [fields[7] for fields in map(str.split, rows) if len(fields) > 7]


def test_no_data_file_or_control_socket_is_open_to_anyone_but_the_owner(env, tmp_path, media_dir):
    old_db = tmp_path / "var" / "lianzheng.db"
    old_db.parent.mkdir(parents=True)
    old_db.touch(mode=0o644)  # as an earlier version left it
    old_db.chmod(0o644)
    with Server(env) as server:
        token = server.add_user("officer-1", "officer")
        case_no = server.open_case(token)
        meta = (
            f"case_no {base64.b64encode(case_no.encode()).decode()},captured_at "
            + base64.b64encode(b"2026-11-30T08:00:00+08:00").decode()
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Tus-Resumable": "1.0.0",
            "Upload-Metadata": meta,
        }
        created = urllib.request.urlopen(
            urllib.request.Request(
                f"{server.url}/api/v1/evidence/uploads",
                method="POST",
                headers={**headers, "Upload-Length": "1000"},
            ),
            timeout=10,
        )
        urllib.request.urlopen(
            urllib.request.Request(
                server.url + created.headers["Location"].removeprefix(server.url),
                method="PATCH",
                data=(media_dir / "photo.jpg").read_bytes()[:100],
                headers={
                    **headers,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            ),
            timeout=10,
        )  # a partial upload stays on disk
        _wait_for_final_anchor(server, 1)
        # gunicorn's control socket would let whoever reaches its path (shared by every gunicorn
        # of the host) stop or scale the service; nothing here uses it.
        assert [path for path in _unix_socket_paths() if path.endswith("gunicorn.ctl")] == []
    loose = [
        f"{p.relative_to(tmp_path)} {oct(p.stat().st_mode & 0o777)}"
        for p in (tmp_path / "var").rglob("*")
        if not p.is_symlink() and p.stat().st_mode & 0o077
    ]
    assert loose == []
    assert any((tmp_path / "var" / "uploads").iterdir())
