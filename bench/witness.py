"""Witness benchmark (C2SP tlog-witness), printed as JSON.

    .venv/bin/python bench/witness.py [--requests 1000] [--seconds 10] [--out FILE]

1. add-checkpoint requests per second that one `lianzheng witness serve` process handles, pinned
   to one core, each request advancing the log by one leaf with a consistency proof, each
   answered only after its fsynced commit (goal: at least 250/s, Sigsum's soft-key figure);
2. the latency from a checkpoint's signing to its quorum (2 of 3 local witnesses, asked at once),
   p50 and p99 (goal: p50 at most 100 ms);
3. appends per second on the log (SQLite, one durable commit each) with no witnesses configured
   and with three local witnesses cosigning at the default interval (2 s) beside it, in the same
   run (goal: no drop).
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402
from ledger import merkle, witness  # noqa: E402
from ledger.checkpoint import CheckpointSigner  # noqa: E402
from ledger.witness_client import Collector, WitnessEndpoint  # noqa: E402
from ledger.witness_protocol import request_body  # noqa: E402
from verify_portal.app.services import build, migrate  # noqa: E402
from verify_portal.app.settings import Settings, WitnessSettings  # noqa: E402

ORIGIN = "bench.lianzheng.example/log"


class _Log:
    """A log in memory: leaf hashes, signed notes and consistency proofs by stored subtrees."""

    def __init__(self, leaves: int) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.signer = CheckpointSigner(ORIGIN, self.key)
        compact, self.nodes, self.roots = merkle.CompactRange(), {}, {}
        for i in range(leaves):
            for node, value in compact.append(merkle.leaf_hash(b"%d" % i)):
                self.nodes[node] = value
            self.roots[compact.size] = compact.root()

    def request(self, old: int, new: int) -> bytes:
        proof = []
        if 0 < old < new:
            proof = merkle.hash_ranges(merkle.consistency_ranges(old, new), self.nodes)
        return request_body(old, proof, self.signer.sign(new, self.roots[new]))


def _start_witness(
    folder: Path, name: str, origin: str, public_key: bytes, cpu: int | None = None
) -> tuple[subprocess.Popen[str], str, witness.Identity]:
    """`lianzheng witness serve` for a new witness of `origin`: its process, URL and identity."""
    witness.init(folder, name)
    opened = witness.Witness.open(folder)
    opened.store.add_log(origin, public_key)
    opened.store.close()
    command = [sys.executable, "-m", "verify_portal", "witness", "serve", "--dir", str(folder)]
    command += ["--port", "0"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    found = re.search(r"listening on (http://\S+)", process.stderr.readline())
    if not found:
        raise SystemExit("the witness did not start")
    # Its request log must keep flowing, or a full pipe stops the witness mid-benchmark.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return process, found[1], opened.identity


def _post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", "/add-checkpoint", body, {"Content-Length": str(len(body))})
    answer = connection.getresponse()
    return answer.status, answer.read()


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def throughput(work: Path, requests: int) -> dict[str, float]:
    log = _Log(requests + 1)
    bodies = [log.request(size - 1 if size > 1 else 0, size) for size in range(1, requests + 1)]
    public = log.key.public_key().public_bytes_raw()
    process, url, _ = _start_witness(work / "one", "bench.example/w1", ORIGIN, public, cpu=0)
    try:
        connection = _connect(url)
        started = time.perf_counter()
        for body in bodies:
            status, text = _post(connection, body)
            if status != 200:
                raise SystemExit(f"the witness refused: {status} {text!r}")
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()
    return {
        "requests": requests,
        "seconds": round(elapsed, 3),
        "per_second": round(requests / elapsed, 1),
    }


def quorum_latency(work: Path, rounds: int) -> dict[str, float]:
    log = _Log(rounds + 1)
    public = log.key.public_key().public_bytes_raw()
    started = [
        _start_witness(work / f"q{i}", f"bench.example/q{i}", ORIGIN, public) for i in range(3)
    ]
    connections = [_connect(url) for _, url, _ in started]
    waits = []
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            for size in range(1, rounds + 1):
                signed = time.perf_counter()
                body = log.request(size - 1 if size > 1 else 0, size)
                futures = [pool.submit(_post, c, body) for c in connections]
                answered = 0
                for future in as_completed(futures):
                    answered += future.result()[0] == 200
                    if answered == 2:
                        waits.append(time.perf_counter() - signed)
                for future in futures:
                    future.result()
    finally:
        for process, _, _ in started:
            process.terminate()
            process.wait()
    waits.sort()
    return {
        "rounds": rounds,
        "p50_ms": round(statistics.median(waits) * 1000, 2),
        "p99_ms": round(waits[int(len(waits) * 0.99) - 1] * 1000, 2),
    }


def appends(work: Path, seconds: float) -> dict[str, float]:
    services = build(Settings.from_env({"LIANZHENG_DATA_DIR": str(work / "var")}))
    migrate(services.engine)
    with services.sessions() as session:
        public = services.store.current_key(session)
    endpoints, processes = [], []
    for i in range(3):
        process, url, identity = _start_witness(
            work / f"a{i}", f"bench.example/a{i}", services.store.origin, public
        )
        processes.append(process)
        endpoints.append(WitnessEndpoint(identity.name, url, identity.public_key))

    def rate() -> float:
        count, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            with services.store.transaction(services.sessions) as tx:
                tx.append([(b'{"bench":%d}' % count, None)])
            count += 1
        return count / seconds

    seconds /= 2

    try:
        # Alternated, so that the log's growth weighs on both alike.
        without_runs, with_runs = [], []
        collector = Collector(services.sessions, services.store, endpoints, timeout=5.0)
        for _ in range(2):
            without_runs.append(rate())
            stop = threading.Event()

            def cosign(stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    collector.collect()
                    stop.wait(WitnessSettings().interval)

            thread = threading.Thread(target=cosign, daemon=True)
            thread.start()
            with_runs.append(rate())
            stop.set()
            thread.join()
        collector.close()
        without, with_witnesses = statistics.mean(without_runs), statistics.mean(with_runs)
        with services.sessions() as session:
            cosigned = services.store.cosigned_sizes(session)
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    return {
        "seconds_each": seconds,
        "runs_without": [round(r, 1) for r in without_runs],
        "runs_with": [round(r, 1) for r in with_runs],
        "without_witnesses_per_second": round(without, 1),
        "with_three_witnesses_per_second": round(with_witnesses, 1),
        "ratio": round(with_witnesses / without, 3),
        "checkpoints_cosigned_by_each": sorted(cosigned.values()),
    }


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        figures = {
            "witness_add_checkpoint": throughput(work, args.requests),
            "quorum_latency_2_of_3": quorum_latency(work, args.rounds),
            "appends": appends(work, args.seconds),
            "cpus": os.cpu_count(),
        }
    figures_io.emit(figures, args.out)


if __name__ == "__main__":
    main()
