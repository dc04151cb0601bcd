"""Ledger benchmarks: append throughput and proof latency, printed as JSON.

    .venv/bin/python bench/ledger.py [--sizes 10000,100000,1000000] [--skip-http] [--out FILE]

- appends/s in-process on SQLite and PostgreSQL, one event per transaction and
  batches of 1,000, and through the HTTP API under gunicorn (`lianzheng serve`), with the CPU
  time each event cost the service, PostgreSQL and the client (a figure that depends less on
  how busy the machine's neighbours are than events/s);
- inclusion and consistency proof latency (p50, p99) at each log size;
- the same for pymerkle's in-memory tree in the same run, as a reference.
Goals: proof latency at 10^6 within 2x of 10^4; batched appends on
PostgreSQL at least 10,000 events/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import procs  # noqa: E402
from ledger import audit  # noqa: E402
from ledger.events import Event, utc_now  # noqa: E402
from verify_portal.app.services import build, migrate  # noqa: E402
from verify_portal.app.settings import Settings  # noqa: E402

PG_ADMIN = os.environ.get(
    "LIANZHENG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BATCH = 1000
PROOFS = 400


def events(start: int, count: int) -> list[tuple[bytes, str]]:
    """Realistic leaves (about 250 bytes): case openings, each the first event of its own case,
    so that the log they build passes `audit`."""
    out = []
    for i in range(start, start + count):
        case_no = f"CG-2026-{i:07d}"
        event = Event(
            type="case.reported",
            case_no=case_no,
            seq=0,
            actor="officer-0001",
            time=utc_now(),
            prev=None,
            payload={"source": "patrol", "district": "xuhui", "violation_type": "occupy-road"},
        )
        # orjson's sorted compact bytes are RFC 8785's for these ASCII, integer-free events
        # (ledger/jsontext.py), ten times faster than Event.encode; the audit checks them
        out.append((orjson.dumps(event.to_json(), option=orjson.OPT_SORT_KEYS), case_no))
    return out


class Backend:
    """A fresh database of one kind with the service wired on it."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind, self.pg_name = kind, None
        if kind == "sqlite":
            url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        else:
            self.pg_name = f"lz_bench_{uuid.uuid4().hex[:10]}"
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
        self.url = url
        self.services = build(
            Settings.from_env({"LIANZHENG_DATA_DIR": str(workdir / "data"), "DATABASE_URL": url})
        )
        migrate(self.services.engine)

    def append(self, entries: list[tuple[bytes, str]]) -> None:
        with self.services.store.transaction(self.services.sessions) as tx:
            tx.append(entries)

    def size(self) -> int:
        with self.services.sessions() as session:
            return self.services.store.latest_size(session)

    def close(self) -> None:
        self.services.engine.dispose()
        if self.pg_name:
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


def bench_appends(backend: Backend) -> dict:
    single, batches = 500, 20
    singles, batched = events(0, single), events(single, batches * BATCH)
    start = time.perf_counter()
    for entry in singles:
        backend.append([entry])
    single_rate = rate(single, time.perf_counter() - start)
    start = time.perf_counter()
    for b in range(batches):
        backend.append(batched[b * BATCH : (b + 1) * BATCH])
    batched_rate = rate(batches * BATCH, time.perf_counter() - start)
    return {"single_events_per_s": single_rate, "batched_1000_events_per_s": batched_rate}


def grow_to(backend: Backend, size: int) -> None:
    current = backend.size()
    while current < size:
        n = min(BATCH, size - current)
        backend.append(events(current, n))
        current += n


def bytes_per_leaf(backend: Backend) -> dict:
    """The database's size (indexes, checkpoints and all) per leaf, beside the average event's
    canonical bytes (goal: at most 2x)."""
    with backend.services.engine.connect() as conn:
        if backend.kind == "sqlite":
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            pages = conn.execute(text("PRAGMA page_count")).scalar_one()
            database = pages * conn.execute(text("PRAGMA page_size")).scalar_one()
        else:
            conn.execute(text("CHECKPOINT"))
            database = conn.execute(
                text("SELECT pg_database_size(current_database())")
            ).scalar_one()
        leaves, event = conn.execute(
            text("SELECT count(*), avg(length(data)) FROM log_leaves")
        ).one()
        checkpoints = conn.execute(text("SELECT count(*) FROM log_checkpoints")).scalar_one()
    return {
        "database_bytes_per_leaf": round(database / leaves, 1),
        "event_bytes": round(float(event), 1),
        "ratio": round(database / leaves / float(event), 2),
        "leaves_per_checkpoint": round(leaves / max(checkpoints, 1), 1),
    }


def bench_proofs(backend: Backend, size: int) -> dict:
    store, rng = backend.services.store, random.Random(size)
    inclusion, consistency = [], []
    with backend.services.sessions() as session:
        for _ in range(PROOFS):
            t = time.perf_counter()
            store.inclusion_proof(session, rng.randrange(size), size)
            inclusion.append(time.perf_counter() - t)
            t = time.perf_counter()
            store.consistency_proof(session, rng.randrange(1, size), size)
            consistency.append(time.perf_counter() - t)
    return {"inclusion": percentiles(inclusion), "consistency": percentiles(consistency)}


INCREMENT = 10_000


def bench_audit(backend: Backend) -> dict:
    """A full audit of the log as it stands (the largest size), then an incremental one after
    INCREMENT more leaves, both as `lianzheng audit` runs them (ledger/audit.py)."""
    services = backend.services
    full = _timed_audit(services, None)
    grow_to(backend, full["report"].size + INCREMENT)
    since = audit.Since(full["report"].size, full["report"].root)
    incremental = _timed_audit(services, since)
    return {
        **{k: v for k, v in full.items() if k != "report"},
        "incremental": {k: v for k, v in incremental.items() if k != "report"},
    }


def _timed_audit(services, since: audit.Since | None) -> dict:  # noqa: ANN001
    with services.sessions() as session:
        start = time.perf_counter()
        report = audit.run(session, services.trust.latest(), since=since)
        elapsed = time.perf_counter() - start
    assert report.clean, report.findings[:5]
    return {
        "report": report,
        "log_size": report.size,
        "leaves": report.leaves,
        "seconds": round(elapsed, 2),
        "leaves_per_s": rate(report.leaves, elapsed),
    }


def bench_pymerkle(sizes: list[int]) -> dict:
    from pymerkle import InmemoryTree

    tree, rng, out = InmemoryTree(algorithm="sha256"), random.Random(1), {}
    entries = [data for data, _ in events(0, BATCH)]
    start = time.perf_counter()
    for i in range(sizes[0]):
        tree.append_entry(entries[i % BATCH])
    out["appends_per_s"] = rate(sizes[0], time.perf_counter() - start)
    for size in sizes:
        while tree.get_size() < size:
            tree.append_entry(entries[tree.get_size() % BATCH])
        inclusion, consistency = [], []
        for _ in range(PROOFS):
            t = time.perf_counter()
            tree.prove_inclusion(rng.randrange(1, size + 1), size)
            inclusion.append(time.perf_counter() - t)
            t = time.perf_counter()
            tree.prove_consistency(rng.randrange(1, size), size)
            consistency.append(time.perf_counter() - t)
        out[str(size)] = {
            "inclusion": percentiles(inclusion),
            "consistency": percentiles(consistency),
        }
    return out


def bench_http(kind: str, workdir: Path, seconds: float = 15, clients: int = 32) -> dict:
    """Case creations through `lianzheng serve` (gunicorn) from concurrent clients on loopback,
    each on its own kept-alive connection as a terminal or the dock would hold one."""
    backend = Backend(kind, workdir / f"http-{kind}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(workdir / f"http-{kind}" / "data"),
        "DATABASE_URL": backend.url,
        "LIANZHENG_PORT": str(port),
    }
    lianzheng = Path(sys.executable).parent / "lianzheng"
    token = subprocess.run(
        [lianzheng, "user", "add", "bench", "--role", "system"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [lianzheng, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    body = json.dumps({"source": "camera", "violation_type": "stall", "district": "xuhui"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v1/log/publickey")
        procs.settle(server.pid)  # its start is not what is measured
        latencies: list[float] = []
        deadline = time.monotonic() + seconds

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < deadline:
                t = time.perf_counter()
                connection.request("POST", "/api/v1/cases", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                assert response.status == 201, response.status
                latencies.append(time.perf_counter() - t)
            connection.close()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        # the processes are listed again at the end: PostgreSQL starts a backend for each new
        # connection of the service's pools, as the load begins
        roots = {"service": server.pid, "database": _postmaster(backend)}
        watched = {name: root for name, root in roots.items() if root is not None}
        cpu_before = {name: procs.cpu_seconds(procs.tree(root)) for name, root in watched.items()}
        client_before, start = _own_cpu(), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed, client_cpu = time.perf_counter() - start, _own_cpu() - client_before
        cpu = {
            name: procs.cpu_used(cpu_before[name], procs.cpu_seconds(procs.tree(root)))
            for name, root in watched.items()
        }
        cpu["client"] = client_cpu
        with backend.services.sessions() as session:
            commits = session.scalar(text("SELECT count(*) FROM log_checkpoints"))
        return {
            "clients": clients,
            "requests": len(latencies),
            "events_per_s": rate(len(latencies), elapsed),
            **percentiles(latencies),
            # one signed checkpoint per commit (ledger/group_commit.py)
            "events_per_commit": round(backend.size() / max(commits, 1), 1),
            # the service: gunicorn's master and workers, the anchor worker and the local chain
            "cpu_ms_per_event": {
                name: round(1000 * seconds / max(len(latencies), 1), 2)
                for name, seconds in cpu.items()
            },
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        backend.close()


def _postmaster(backend: Backend) -> int | None:
    """PostgreSQL's first process, whose children are its backends, when it runs on this machine;
    None for SQLite, which runs inside the service's processes."""
    if backend.kind != "postgresql":
        return None
    with backend.services.engine.connect() as connection:
        backend_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    try:
        # a server on another machine has its own process numbers: this one may be anything here
        if procs.command_of(backend_pid) != "postgres":
            return None
        return procs.parent_of(backend_pid)
    except OSError:  # no such process here, or another user's we may not read
        return None


def _own_cpu() -> float:
    """The CPU time this process has used (the clients' threads, while the load runs)."""
    times = os.times()
    return times.user + times.system


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="Also write the JSON here.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict = {"sizes": sizes, "pymerkle": bench_pymerkle(sizes)}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for kind in args.backends.split(","):
            backend = Backend(kind, workdir / kind)
            try:
                entry = {"appends": bench_appends(backend), "proofs": {}}
                for size in sizes:
                    grow_to(backend, size)
                    entry["proofs"][str(size)] = bench_proofs(backend, size)
                entry["storage"] = bytes_per_leaf(backend)
                entry["audit"] = bench_audit(backend)
                small, large = entry["proofs"][str(sizes[0])], entry["proofs"][str(sizes[-1])]
                entry["proof_p50_ratio_largest_to_smallest"] = {
                    k: round(large[k]["p50_ms"] / small[k]["p50_ms"], 2)
                    for k in ("inclusion", "consistency")
                }
                if not args.skip_http:
                    entry["http"] = bench_http(kind, workdir)
                results[kind] = entry
            finally:
                backend.close()
            print(json.dumps({kind: results[kind]}), file=sys.stderr)
    text_out = json.dumps(results, indent=2)
    print(text_out)
    if args.out:
        args.out.write_text(text_out)


if __name__ == "__main__":
    main()
