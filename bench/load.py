"""Load and crash test of the production topology, with JSON figures.

PostgreSQL, the service under gunicorn (`lianzheng serve`, anchor worker apart as in
docker-compose.yml), the anchor worker as its own process, a local anvil. Two phases of mixed
traffic driven by locust (bench/locustfile.py): a clean one whose throughput and latency are
reported, then one during which web workers, the whole server and the anchor worker are killed with
SIGKILL at random moments and restarted (as gunicorn's master and the compose restart policy would).
Afterwards it shows, from the database, the chain and `lianzheng audit`, that every acknowledged
write is in the log, that nothing was anchored twice and that the contract's anchors are the log's
roots.

    .venv/bin/python bench/load.py [--duration 120] [--chaos-duration 60] [--users 24] [--out FILE]
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from anchor.account import development_account  # noqa: E402
from anchor.chain import Chain  # noqa: E402
from anchor.contract import AnchorContract  # noqa: E402
from bench.figures import emit, parser  # noqa: E402
from bench.ingest import free_port, workers_of  # noqa: E402
from ledger.identity import resident_check_digit  # noqa: E402

BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "LIANZHENG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
OFFICERS = 4
CITIZEN_CASES = 12


def request(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict | str]:
    headers = {
        "Content-Type": "application/json",
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, headers), timeout=30
        ) as answer:
            raw, status, kind = (
                answer.read().decode(),
                answer.status,
                answer.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as exc:
        raw, status, kind = exc.read().decode(), exc.code, exc.headers.get("Content-Type", "")
    return status, json.loads(raw) if "json" in kind else raw


class Stack:
    """The service's processes on one machine, each startable and killable on its own."""

    def __init__(self, workdir: Path, database_url: str, workers: int = 2) -> None:
        self.workdir, self.database_url = workdir, database_url
        self.port = free_port()
        self.env = {
            **os.environ,
            "LIANZHENG_DATA_DIR": str(workdir / "var"),
            "DATABASE_URL": database_url,
            "LIANZHENG_ANCHOR_IN_SERVE": "0",
            "LIANZHENG_ANCHOR_INTERVAL": "3",
            "LIANZHENG_WORKERS": str(workers),
            "LIANZHENG_PORT": str(self.port),
        }
        self.serve: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [BIN / "lianzheng", *args], env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"lianzheng {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        return subprocess.Popen(
            [BIN / "lianzheng", *args],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_serve(self) -> None:
        self.serve = self._spawn("serve", "serve")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(f"{self.url}/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start; see {self.workdir / 'serve.log'}")

    def start_worker(self) -> None:
        self.worker = self._spawn("anchor-worker", "anchor", "run")

    def kill_web_worker(self, rng: random.Random) -> bool:
        """SIGKILL one gunicorn worker; its master starts another."""
        workers = workers_of(self.serve.pid) if self.serve else []
        if not workers:
            return False
        os.kill(rng.choice(workers), signal.SIGKILL)
        return True

    def kill_server(self) -> None:
        """SIGKILL the master and all its workers at once, then start the server again."""
        assert self.serve is not None
        os.killpg(self.serve.pid, signal.SIGKILL)
        self.serve.wait(10)
        self.start_serve()

    def kill_worker(self, rng: random.Random) -> None:
        """SIGKILL the anchor worker, then start it again after a moment (a restart policy)."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        time.sleep(rng.uniform(0.2, 2.0))
        self.start_worker()

    def stop(self) -> None:
        for process in (self.worker, self.serve):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(60)


def prepare(stack: Stack) -> dict:
    """Users, cases with verification codes for the citizens, photos to upload; the locust
    configuration."""
    stack.cli("db", "upgrade")
    stack.cli("chain", "up")
    tokens = [
        stack.cli("user", "add", f"officer-{n}", "--role", "officer", "--district", "xuhui").strip()
        for n in range(OFFICERS)
    ]
    stack.start_serve()
    stack.start_worker()
    codes = []
    for _ in range(CITIZEN_CASES):
        _, case = request(
            f"{stack.url}/api/v1/cases",
            {"source": "hotline-12345", "violation_type": "stall", "district": "xuhui"},
            tokens[0],
        )
        _, issued = request(
            f"{stack.url}/api/v1/cases/{case['case_no']}/verification-code", {}, tokens[0]
        )
        codes.append([case["case_no"], issued["code"]])
    photos = []
    for n in range(4):
        photo = stack.workdir / f"photo-{n}.jpg"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=1",
                "-ss",
                str(n),
                "-frames:v",
                "1",
                str(photo),
            ],
            check=True,
        )
        photos.append(str(photo))
    # Made-up resident numbers born 1990-01-01 that pass GB 11643's check; locust picks parties from
    # them.
    bodies = [f"31010119900101{n:03d}" for n in range(1000)]
    parties = [body + resident_check_digit(body) for body in bodies]
    config = {"officer_tokens": tokens, "codes": codes, "photos": photos, "party_numbers": parties}
    (stack.workdir / "load.json").write_text(json.dumps(config))
    return config


def drive(stack: Stack, users: int, seconds: float, label: str) -> dict:
    """Run locust headless for `seconds`; its aggregated figures and those of each request name."""
    prefix = stack.workdir / label
    done = subprocess.run(
        [
            BIN / "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{int(seconds)}s",
            "--host",
            stack.url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
        ],
        env={
            **stack.env,
            "LIANZHENG_LOAD_CONFIG": str(stack.workdir / "load.json"),
            "LIANZHENG_LOAD_ACKS": str(stack.workdir / "acks.jsonl"),
        },
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no figures: {done.stderr[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "per_second": round(float(row["Requests/s"]), 1),
            "p50_ms": _ms(row["50%"]),
            "p99_ms": _ms(row["99%"]),
        }

    return {
        **figures(rows.pop("Aggregated")),
        "seconds": seconds,
        "users": users,
        "endpoints": {name: figures(row) for name, row in sorted(rows.items())},
    }


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


class Chaos(threading.Thread):
    """Kills, at random moments, a web worker, the whole server or the anchor worker."""

    def __init__(self, stack: Stack, seed: int, every: tuple[float, float] = (2.0, 6.0)) -> None:
        super().__init__(daemon=True)
        self.stack, self.rng, self.every = stack, random.Random(seed), every
        self.stop = threading.Event()
        self.kills = {"web_worker": 0, "server": 0, "anchor_worker": 0}
        self.error: BaseException | None = None

    def run(self) -> None:
        kinds = list(self.kills)
        first = self.rng.sample(
            kinds, len(kinds)
        )  # each kind once, in random order, then at random
        try:
            while not self.stop.wait(self.rng.uniform(*self.every)):
                victim = first.pop() if first else self.rng.choice(kinds)
                if victim == "web_worker" and self.stack.kill_web_worker(self.rng):
                    self.kills[victim] += 1
                elif victim == "server":
                    self.stack.kill_server()
                    self.kills[victim] += 1
                elif victim == "anchor_worker":
                    self.stack.kill_worker(self.rng)
                    self.kills[victim] += 1
        except BaseException as exc:  # reported by the caller, not lost in a thread
            self.error = exc


def wait_for_anchor(stack: Stack, timeout: float = 240) -> int:
    """Wait until a final anchor covers the whole log; its size."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = int(request(f"{stack.url}/api/v1/log/checkpoint")[1].split("\n")[1])
        anchors = request(f"{stack.url}/api/v1/log/anchors")[1]["anchors"]
        if anchors and anchors[0]["final"] and anchors[0]["size"] == size:
            return size
        time.sleep(1)
    raise RuntimeError("no final anchor covered the log in time")


def check(stack: Stack, nonce_before: int, anchors_before: int) -> dict:
    """What the crash test must show: nothing acknowledged lost, nothing anchored twice, chain =
    log."""
    acks = [json.loads(line) for line in (stack.workdir / "acks.jsonl").read_text().splitlines()]
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        leaves = {
            i: h.hex()
            for i, h in conn.execute(text("SELECT leaf_index, leaf_hash FROM log_leaves"))
        }
        evidence = {i for (i,) in conn.execute(text("SELECT id FROM evidence"))}
        records = list(
            conn.execute(text("SELECT size, status, tx_hash FROM anchors ORDER BY size"))
        )
    engine.dispose()
    lost = [
        a
        for a in acks
        if leaves.get(a["index"]) != a["leaf_hash"]
        or (a["evidence_id"] is not None and a["evidence_id"] not in evidence)
    ]
    deployment = json.loads((stack.workdir / "var" / "chain" / "deployment.json").read_text())
    rpc = json.loads((stack.workdir / "var" / "chain" / "anvil.json").read_text())["rpc_url"]
    chain = Chain(rpc)
    events = AnchorContract(chain, deployment["contract"]).all_anchored_events(
        deployment["block_number"]
    )
    sizes = [e.size for e in events]
    audit = subprocess.run(
        [BIN / "lianzheng", "audit", "--json"], env=stack.env, capture_output=True, text=True
    )
    report = json.loads(audit.stdout)
    return {
        "acknowledged_writes": len(acks),
        "acknowledged_lost": len(lost),
        "lost_examples": lost[:5],
        "anchors_on_chain": len(events),
        "sizes_strictly_increasing": sizes == sorted(set(sizes)),
        # every anchor transaction the worker's account sent landed as an anchor: none was a
        # duplicate
        "anchor_transactions": chain.nonce(development_account().address) - nonce_before,
        "new_anchors": len(events) - anchors_before,
        "records_match_chain": [(r.size, bytes(r.tx_hash)) for r in records]
        == [(e.size, e.tx_hash) for e in events],
        "records_final": all(r.status == "final" for r in records),
        "audit_clean": audit.returncode == 0 and report["clean"],
        "audit_findings": report["findings"][:5],
    }


def run(workdir: Path, duration: float, chaos_duration: float, users: int, seed: int = 7) -> dict:
    """Both phases and the checks on a fresh PostgreSQL database of their own; the figures."""
    name = f"lz_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    stack = Stack(workdir, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        prepare(stack)
        wait_for_anchor(stack)
        chain_info = json.loads((workdir / "var" / "chain" / "anvil.json").read_text())
        nonce_before = Chain(chain_info["rpc_url"]).nonce(development_account().address)
        anchors_before = len(request(f"{stack.url}/api/v1/log/anchors")[1]["anchors"])
        load = drive(stack, users, duration, "load")
        chaos = Chaos(stack, seed)
        chaos.start()
        during = drive(stack, users, chaos_duration, "chaos")
        chaos.stop.set()
        chaos.join(120)
        if chaos.error is not None:
            raise chaos.error
        for process, start in (
            (stack.serve, stack.start_serve),
            (stack.worker, stack.start_worker),
        ):
            if process is None or process.poll() is not None:
                start()
        size = wait_for_anchor(stack)
        stack.stop()
        checks = check(stack, nonce_before, anchors_before)
        return {
            "database": "postgresql",
            "workers": 2,
            "log_size": size,
            "load": load,
            "chaos": {**during, "kills": chaos.kills},
            "checks": checks,
        }
    finally:
        stack.stop()
        subprocess.run([BIN / "lianzheng", "chain", "down"], env=stack.env, capture_output=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--duration", type=float, default=120, help="Seconds of clean load (figures).")
    p.add_argument("--chaos-duration", type=float, default=60, help="Seconds of load with kills.")
    p.add_argument("--users", type=int, default=24)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lz-load-") as workdir:
        figures = run(Path(workdir), args.duration, args.chaos_duration, args.users, args.seed)
    emit(figures, args.out)


if __name__ == "__main__":
    main()
