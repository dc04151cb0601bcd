"""Load and crash test of the production topology, with JSON figures.

PostgreSQL, two nodes behind Debian's nginx (`--nodes`), each running the service under gunicorn
(`lianzheng serve`) and an anchor worker of its own as in docker-compose.yml (one of the two
workers leads: a PostgreSQL advisory lock), one data folder and blob store, a local anvil. Two
phases of mixed traffic driven by locust (bench/locustfile.py): a clean one whose throughput and
latency are reported, then one during which web workers, whole nodes (kill -9 of a node's server
and anchor worker together) and anchor workers are killed with SIGKILL at random moments and
restarted (as gunicorn's master and the compose restart policy would). Afterwards it shows, from
the database, the chain and `lianzheng audit`, that every acknowledged write is in the log, that
nothing was anchored twice and that the contract's anchors are the log's roots.

    .venv/bin/python bench/load.py [--duration 120] [--chaos-duration 60] [--users 24]
        [--nodes 2] [--out FILE]
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
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
from bench.ingest import free_port  # noqa: E402
from bench.procs import workers_of  # noqa: E402
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


class Node:
    """One node of the deployment: `serve` on a port of its own and its anchor worker, killable on
    their own or together (kill -9 of the node)."""

    def __init__(self, stack: Stack, name: str) -> None:
        self.stack, self.name = stack, name
        self.port = free_port()
        self.env = {**stack.env, "LIANZHENG_PORT": str(self.port)}
        self.serve: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, what: str, *args: str) -> subprocess.Popen:
        out = open(self.stack.workdir / f"{self.name}-{what}.log", "ab")  # noqa: SIM115 - the child keeps it
        return subprocess.Popen(
            [BIN / "lianzheng", *args],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_serve(self) -> None:
        self.spawn_serve()
        self.wait_serve()

    def spawn_serve(self) -> None:
        self.serve = self._spawn("serve", "serve")

    def wait_serve(self) -> None:
        wait_healthy(self.url, self.stack.workdir / f"{self.name}-serve.log")

    def start_worker(self) -> None:
        self.worker = self._spawn("anchor-worker", "anchor", "run")

    def ensure_running(self) -> None:
        if self.serve is None or self.serve.poll() is not None:
            self.start_serve()
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()

    def kill_web_worker(self, rng: random.Random) -> bool:
        """SIGKILL one gunicorn worker; its master starts another."""
        workers = workers_of(self.serve.pid) if self.serve else []
        if not workers:
            return False
        os.kill(rng.choice(workers), signal.SIGKILL)
        return True

    def kill(self) -> None:
        """SIGKILL the whole node, its server (master and workers) and its anchor worker at once,
        then start it again (a restart policy)."""
        for process in (self.serve, self.worker):
            if process is not None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self.start_serve()
        self.start_worker()

    def kill_worker(self, rng: random.Random) -> None:
        """SIGKILL the anchor worker, then start it again after a moment."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        time.sleep(rng.uniform(0.2, 2.0))
        self.start_worker()

    def signal_stop(self) -> None:
        for process in (self.worker, self.serve):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)

    def wait_stopped(self) -> None:
        for process in (self.worker, self.serve):
            if process is not None:
                process.wait(60)


class Nginx:
    """Debian's nginx in front of the nodes, as a production proxy: it spreads requests over them
    and sends a GET on to the other node when one is down; a POST is never sent twice."""

    def __init__(self, workdir: Path, nodes: list[Node]) -> None:
        self.folder = workdir / "nginx"
        self.folder.mkdir(mode=0o777)
        self.port = free_port()
        upstreams = "".join(
            f"    server 127.0.0.1:{n.port} max_fails=1 fail_timeout=2s;\n" for n in nodes
        )
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (self.folder / "nginx.conf").write_text(
            NGINX_CONF.format(user=user, folder=self.folder, port=self.port, upstreams=upstreams)
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = str(self.folder / "nginx.conf")
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", conf, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "stderr.log", "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
        )
        wait_healthy(self.url, self.folder / "error.log")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)


NGINX_CONF = """{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_max_body_size 64m;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  upstream lianzheng {{
{upstreams}    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://lianzheng;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502;
      proxy_read_timeout 120s;
    }}
  }}
}}
"""


def wait_healthy(url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(f"{url}/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up; see {log}")


class Stack:
    """The deployment on one machine: one PostgreSQL database, one data folder (keys, blobs),
    `nodes` nodes and, with more than one, nginx in front of them."""

    def __init__(self, workdir: Path, database_url: str, nodes: int = 2, workers: int = 2) -> None:
        self.workdir, self.database_url = workdir, database_url
        self.env = {
            **os.environ,
            "LIANZHENG_DATA_DIR": str(workdir / "var"),
            "DATABASE_URL": database_url,
            "LIANZHENG_ANCHOR_IN_SERVE": "0",
            "LIANZHENG_ANCHOR_INTERVAL": "3",
            "LIANZHENG_WORKERS": str(workers),
            "LIANZHENG_TRUSTED_PROXIES": "1" if nodes > 1 else "0",
        }
        self.nodes = [Node(self, f"node{n + 1}") for n in range(nodes)]
        self.proxy = Nginx(workdir, self.nodes) if nodes > 1 else None

    @property
    def url(self) -> str:
        return self.proxy.url if self.proxy else self.nodes[0].url

    def cli(self, *args: str) -> str:
        return self.cli_at_once([args])[0]

    def cli_at_once(self, commands: list[tuple[str, ...]]) -> list[str]:
        """Run `lianzheng` commands side by side (each start is mostly imports); their outputs."""
        running = [
            (
                args,
                subprocess.Popen(
                    [BIN / "lianzheng", *args],
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
            for args in commands
        ]
        outputs = []
        for args, process in running:
            stdout, stderr = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"lianzheng {' '.join(args)} failed: {stderr[-2000:]}")
            outputs.append(stdout)
        return outputs

    def start(self) -> None:
        """Every node at once (each start is mostly imports), then the proxy."""
        for node in self.nodes:
            node.spawn_serve()
        for node in self.nodes:
            node.wait_serve()
            node.start_worker()
        if self.proxy:
            self.proxy.start()

    def ensure_running(self) -> None:
        for node in self.nodes:
            node.ensure_running()

    def stop(self) -> None:
        if self.proxy:
            self.proxy.stop()
        for node in self.nodes:  # every node told first, so that their shutdowns overlap
            node.signal_stop()
        for node in self.nodes:
            node.wait_stopped()


def prepare(stack: Stack) -> dict:
    """Users, cases with verification codes for the citizens, photos to upload; the locust
    configuration."""
    stack.cli("db", "upgrade")  # first and alone: it makes the keys every later command reads
    stack.cli("chain", "up")
    added = stack.cli_at_once(
        [
            ("user", "add", f"officer-{n}", "--role", "officer", "--district", "xuhui")
            for n in range(OFFICERS)
        ]
    )
    tokens = [out.strip() for out in added]
    stack.start()
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
    """Kills, at random moments, a web worker, a whole node (kill -9 of its server and anchor
    worker) or an anchor worker, each on a node picked at random."""

    def __init__(self, stack: Stack, seed: int, every: tuple[float, float] = (2.0, 6.0)) -> None:
        super().__init__(daemon=True)
        self.stack, self.rng, self.every = stack, random.Random(seed), every
        self.stop = threading.Event()
        self.kills = {"web_worker": 0, "node": 0, "anchor_worker": 0}
        self.error: BaseException | None = None

    def run(self) -> None:
        kinds = list(self.kills)
        first = self.rng.sample(
            kinds, len(kinds)
        )  # each kind once, in random order, then at random
        try:
            while not self.stop.wait(self.rng.uniform(*self.every)):
                victim = first.pop() if first else self.rng.choice(kinds)
                node = self.rng.choice(self.stack.nodes)
                if victim == "web_worker":
                    if node.kill_web_worker(self.rng):
                        self.kills[victim] += 1
                    elif self.kills[victim] == 0:
                        first.append(victim)  # no worker up yet: the next round tries again
                elif victim == "node":
                    node.kill()
                    self.kills[victim] += 1
                elif victim == "anchor_worker":
                    node.kill_worker(self.rng)
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


def run(
    workdir: Path,
    duration: float,
    chaos_duration: float,
    users: int,
    seed: int = 7,
    nodes: int = 2,
    kill_every: tuple[float, float] = (2.0, 6.0),
) -> dict:
    """Both phases and the checks on a fresh PostgreSQL database of their own; the figures.
    `kill_every`: the range of seconds between two kills of the second phase."""
    name = f"lz_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    stack = Stack(workdir, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, nodes)
    try:
        prepare(stack)
        wait_for_anchor(stack)
        chain_info = json.loads((workdir / "var" / "chain" / "anvil.json").read_text())
        nonce_before = Chain(chain_info["rpc_url"]).nonce(development_account().address)
        anchors_before = len(request(f"{stack.url}/api/v1/log/anchors")[1]["anchors"])
        load = drive(stack, users, duration, "load")
        chaos = Chaos(stack, seed, kill_every)
        chaos.start()
        during = drive(stack, users, chaos_duration, "chaos")
        chaos.stop.set()
        chaos.join(120)
        if chaos.error is not None:
            raise chaos.error
        stack.ensure_running()
        size = wait_for_anchor(stack)
        stack.stop()
        checks = check(stack, nonce_before, anchors_before)
        return {
            "database": "postgresql",
            "nodes": nodes,
            "proxy": "nginx" if stack.proxy else None,
            "workers_per_node": 2,
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
    p.add_argument("--nodes", type=int, default=2, help="Nodes behind nginx (1: no proxy).")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lz-load-") as workdir:
        figures = run(
            Path(workdir), args.duration, args.chaos_duration, args.users, args.seed, args.nodes
        )
    emit(figures, args.out)


if __name__ == "__main__":
    main()
