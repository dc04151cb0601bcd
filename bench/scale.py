"""The log at province scale on PostgreSQL, printed as JSON.

    .venv/bin/python bench/scale.py [--size 10000000] [--quick] [--out FILE]

Builds a log of `--size` leaves (case openings of about 220 bytes, as bench/ledger.py) with batched
appends, then reports:
- the append rate over the first and the last tenth of the build (goal: the end at most 20% slower);
- inclusion and consistency proof latency p50/p99 at 10^4 leaves and at the full size (goal: the
  full size within 2x of 10^4);
- database bytes per leaf, indexes included, beside the average event's canonical bytes (goal: at
  most 2x);
- the full audit, and the incremental audit of 10^4 more leaves, each in a process of its own
  whose peak memory is reported (goals: 100,000 leaves/s, the incremental one within 1 s).
`--quick` builds 10^5 leaves: CI's smoke test of this script.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench.figures import emit, parser  # noqa: E402
from bench.ledger import (  # noqa: E402
    BATCH,
    INCREMENT,
    Backend,
    bench_proofs,
    bytes_per_leaf,
    events,
    grow_to,
    rate,
)
from ledger import audit  # noqa: E402
from verify_portal.app.services import build  # noqa: E402
from verify_portal.app.settings import Settings  # noqa: E402

SMALL = 10_000  # the size proofs are compared with


def build_log(backend: Backend, size: int) -> dict:
    """Append `size` leaves in batches; the rates of the first and last tenth, proofs at SMALL.
    Only the appends are timed: making the events (RFC 8785 encoding) is the bench's own work."""
    marks, figures = [(0, 0.0)], {}  # (leaves so far, seconds spent appending), after each batch
    while marks[-1][0] < size:
        done, spent = marks[-1]
        batch = events(done, min(BATCH, size - done))
        started = time.perf_counter()
        backend.append(batch)
        marks.append((done + len(batch), spent + time.perf_counter() - started))
        if marks[-1][0] == SMALL:
            figures["proofs_at_10000"] = bench_proofs(backend, SMALL)
    tenth = size // 10
    first = next(m for m in marks if m[0] >= tenth)
    last = next(m for m in marks if m[0] >= size - tenth)
    figures["first_tenth_events_per_s"] = rate(first[0], first[1])
    figures["last_tenth_events_per_s"] = rate(size - last[0], marks[-1][1] - last[1])
    figures["end_to_start_rate_ratio"] = round(
        figures["last_tenth_events_per_s"] / figures["first_tenth_events_per_s"], 2
    )
    return figures


def _audit(env: dict[str, str], since: tuple[int, str] | None) -> dict:
    """One audit in this (child) process: its figures, its root and its peak memory."""
    services = build(Settings.from_env(env))
    start_from = None if since is None else audit.Since(since[0], bytes.fromhex(since[1]))
    with services.sessions() as session:
        started = time.perf_counter()
        report = audit.run(session, services.trust.latest(), since=start_from)
        seconds = time.perf_counter() - started
    services.engine.dispose()
    return {
        "clean": report.clean,
        "log_size": report.size,
        "leaves": report.leaves,
        "seconds": round(seconds, 2),
        "leaves_per_s": rate(report.leaves, seconds),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "root": None if report.root is None else report.root.hex(),
    }


def audits(backend: Backend, env: dict[str, str]) -> dict:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1) as pool:
        full = pool.submit(_audit, env, None).result()
    grow_to(backend, full["log_size"] + INCREMENT)
    with ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1) as pool:
        incremental = pool.submit(_audit, env, (full["log_size"], full["root"])).result()
    return {"full": full, "incremental": incremental}


def run(size: int, workdir: Path) -> dict:
    backend = Backend("postgresql", workdir)
    env = {"LIANZHENG_DATA_DIR": str(workdir / "data"), "DATABASE_URL": backend.url}
    try:
        built = build_log(backend, size)
        large = bench_proofs(backend, size)
        small = built.pop("proofs_at_10000")
        figures = {
            "size": size,
            "appends": built,
            "proofs": {"10000": small, str(size): large},
            "proof_p50_ratio": {
                k: round(large[k]["p50_ms"] / small[k]["p50_ms"], 2)
                for k in ("inclusion", "consistency")
            },
            "storage": bytes_per_leaf(backend),
            "audit": audits(backend, env),
        }
        return figures
    finally:
        backend.close()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--size", type=int, default=10_000_000, help="Leaves to build.")
    p.add_argument("--quick", action="store_true", help="10^5 leaves: the smoke test.")
    args = p.parse_args()
    size = 100_000 if args.quick else args.size
    if size < SMALL:
        p.error(f"--size must be at least {SMALL:,}")
    with tempfile.TemporaryDirectory() as tmp:
        emit(run(size, Path(tmp)), args.out)


if __name__ == "__main__":
    main()
