"""`lianzheng serve` as `make run` starts it, on a port of its own, for the end-to-end tests."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent / "lianzheng"


def request(url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=10
        ) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    """`lianzheng serve` on a port the kernel picks (read from gunicorn's "Listening at" line), so
    that two tests never race for one port and a test never talks to another test's server."""

    def __init__(self, env):
        self.env, self.port, self.proc = env, None, None

    def __enter__(self):
        env = {**self.env, "LIANZHENG_PORT": "0", "PYTHONFAULTHANDLER": "1"}
        data_dir = Path(env["LIANZHENG_DATA_DIR"])
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = Path(tempfile.mkstemp(dir=data_dir.parent, prefix="serve-", suffix=".log")[1])
        with open(self.log, "ab") as out:
            # Its own process group, so a test can kill the master and every worker at once.
            self.proc = subprocess.Popen(
                [BIN, "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            listening = re.search(
                rf"Listening at: http://127\.0\.0\.1:(\d+) \({self.proc.pid}\)",
                self.log.read_text(errors="replace"),
            )
            if listening:
                self.port = int(listening[1])
                try:
                    if request(f"{self.url}/api/v1/log/publickey")[0] == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.2)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        raise AssertionError(
            "serve did not start; its log ends:\n" + self.log.read_text(errors="replace")[-4000:]
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # Every Python process of the group prints its threads' stacks (PYTHONFAULTHANDLER)
                # and dies.
                os.killpg(self.proc.pid, signal.SIGABRT)
                time.sleep(2)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                raise AssertionError(
                    "serve did not stop within 30 s of SIGTERM; its log ends:\n"
                    + self.log.read_text(errors="replace")[-12000:]
                ) from None

    def kill_all(self):
        """kill -9 the master and its workers together, as a power cut would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def add_user(self, username: str, role: str) -> str:
        """A new user's bearer token, made with `lianzheng user add` beside the running server."""
        done = subprocess.run(
            [BIN, "user", "add", username, "--role", role],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def open_case(self, token: str) -> str:
        """A new case's number, opened through the API."""
        status, body = request(
            f"{self.url}/api/v1/cases",
            {"source": "patrol", "violation_type": "stall", "district": "xuhui"},
            token,
        )
        assert status == 201, body
        return json.loads(body)["case_no"]
