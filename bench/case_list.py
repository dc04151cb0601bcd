"""Staff case list benchmark, printed as JSON.

    .venv/bin/python bench/case_list.py [--cases 100000] [--rounds 20] [--backends postgresql]

Fills a fresh database with `--cases` case rows (spread over 9 states, 9 violation types, 16
districts, 50 officers and two years) and one evidence row per ten cases, then asks the list page
(/staff/cases, rendered by the real app for a signed-in supervisor) for a set of filtered pages,
each `--rounds` times. Goal: p95 under 200 ms for a filtered page on PostgreSQL with 10^5 cases.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402
from bench.ledger import Backend  # noqa: E402
from evidence.models import EvidenceItem  # noqa: E402
from ledger.lifecycle import State  # noqa: E402
from ledger.models import Case  # noqa: E402
from ledger.users import Role, add_user  # noqa: E402
from verify_portal.web import create_app  # noqa: E402

PASSWORD = "a long benchmark password"
TYPES = ["occupy-road", "stall", "illegal-construction", "outdoor-ad", "littering", "noise"]
QUERIES = {
    "first page, no filter": "",
    "state": "state=NOTIFIED",
    "state and type": "state=DECIDED&violation_type=stall",
    "district, sorted by state": "district=district-07&sort=state",
    "date range": "from=2025-06-01&to=2025-06-30",
    "overdue": "overdue=1",
    "case-number prefix": "q=CG-2025-00012",
    "officer": "officer=officer-17",
    "device": "device=device-0042",
    "page 200 of a district": "district=district-03&page=20&per_page=25",
}


def fill(backend: Backend, cases: int) -> None:
    """`cases` case rows and an evidence row for every tenth, inserted in batches."""
    states = [s.value for s in State]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with backend.services.sessions.begin() as session:
        for first in range(0, cases, 5000):
            rows, items = [], []
            for i in range(first, min(cases, first + 5000)):
                created = start + timedelta(minutes=7 * i)
                rows.append(
                    {
                        "case_no": f"CG-{created.year}-{i:06d}",
                        "serial": i + 1,
                        "state": states[i % len(states)],
                        "violation_type": TYPES[i % len(TYPES)],
                        "district": f"district-{i % 16:02d}",
                        "source": "patrol",
                        "officer": f"officer-{i % 50:02d}",
                        "seq": 1,
                        "last_leaf_hash": bytes(32),
                        "created_at": created,
                        "updated_at": created + timedelta(days=i % 30),
                    }
                )
                if i % 10 == 0:
                    items.append(_item(i, created))
            session.execute(insert(Case), rows)
            session.execute(insert(EvidenceItem), items)


def _item(i: int, created: datetime) -> dict[str, object]:
    return {
        "id": f"ev-{i:08d}",
        "case_no": f"CG-{created.year}-{i:06d}",
        "sha256": f"{i:064x}",
        "size": 1,
        "media_type": "video/mp4",
        "officer": f"officer-{(i + 3) % 50:02d}",
        "device": f"device-{i % 500:04d}",
        "device_signed": 0,
        "captured_at": created,
        "registered_at": created,
        "late": 0,
        "media": "original",
        "media_sha256": f"{i:064x}",
        "leaf_index": i,
    }


def measure(backend: Backend, rounds: int) -> dict[str, dict[str, float]]:
    """Milliseconds per page for each query: p50, p95 and max over `rounds` requests."""
    with backend.services.sessions.begin() as session:
        add_user(session, "bench-supervisor", Role.SUPERVISOR)
    backend.services.logins.set_password("bench-supervisor", PASSWORD)
    client = create_app(services=backend.services).test_client()
    form = client.get("/staff/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]  # type: ignore[index]
    client.post(
        "/staff/login", data={"csrf": csrf, "username": "bench-supervisor", "password": PASSWORD}
    )
    out, every = {}, []
    for name, query in QUERIES.items():
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            r = client.get(f"/staff/cases?{query}")
            times.append((time.perf_counter() - began) * 1000)
            assert r.status_code == 200, (name, r.status_code)
        every += times
        out[name] = _summary(times)
    out["all queries"] = _summary(every)
    return out


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    p = figures_io.parser(__doc__)
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--backends", default="postgresql")
    args = p.parse_args()
    figures: dict[str, object] = {"cases": args.cases, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.backends.split(","):
            backend = Backend(kind, Path(workdir) / kind)
            try:
                began = time.perf_counter()
                fill(backend, args.cases)
                filled = round(time.perf_counter() - began, 1)
                pages = measure(backend, args.rounds)
                figures[kind] = {
                    "fill_seconds": filled,
                    "pages": pages,
                    "goal_p95_under_200_ms": pages["all queries"]["p95_ms"] < 200,
                }
            finally:
                backend.close()
    figures_io.emit(figures, args.out)


if __name__ == "__main__":
    main()
