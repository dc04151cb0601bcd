"""Run every benchmark and write one JSON file and a short Markdown table, to compare one run with
the next.

    .venv/bin/python bench/report.py [--out bench/results] [--quick]

--quick runs each benchmark small (for a smoke run); the figures quoted in the README come from full
runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402

FULL = {
    "ledger": [],
    "anchor": [],
    "ingest": [],
    "verify": [],
    "load": [],
    "witness": [],
    "case_list": [],
    "scale": [],  # 10^7 leaves: long
}
QUICK = {
    "ledger": ["--sizes", "1000", "--backends", "sqlite", "--skip-http"],
    "anchor": ["--latency-samples", "0"],
    "ingest": ["--size-mib", "32"],
    "verify": ["--size-mib", "32"],
    "load": ["--duration", "10", "--chaos-duration", "15", "--users", "8"],
    "witness": ["--requests", "200", "--rounds", "50", "--seconds", "2"],
    "case_list": ["--cases", "10000", "--rounds", "5"],
    "scale": ["--quick"],
}


def headline(name: str, figures: dict) -> list[tuple[str, str]]:
    """The few figures that answer each benchmark's goal, as (what, value) rows."""
    if name == "anchor":
        goals = figures["gas"]["goals"]
        return [
            (
                "max gas per anchor up to 2^32 leaves (goal < 100,000)",
                f"{goals['max_anchor_gas_up_to_2^32']:,}",
            ),
            (
                "gas saving per record at 10,000 per anchor (goal >= 1,000x)",
                f"{goals['saving_at_10000_per_batch_x']:,}x",
            ),
        ]
    if name == "ingest":
        return [
            ("upload / openssl rate (goal >= 0.5)", str(figures["ratio_to_openssl"])),
            ("worker memory growth MiB (goal < 64)", str(figures["worker_memory_growth_mib"])),
            ("durable disk write MiB/s", str(figures["disk_write_fsync_mib_per_s"])),
        ]
    if name == "witness":
        appends = figures["appends"]
        return [
            (
                "witness add-checkpoint/s, one core, durable (goal >= 250)",
                str(figures["witness_add_checkpoint"]["per_second"]),
            ),
            (
                "2-of-3 quorum latency p50 ms (goal <= 100)",
                str(figures["quorum_latency_2_of_3"]["p50_ms"]),
            ),
            ("appends/s with / without witnesses (goal: no drop)", str(appends["ratio"])),
        ]
    if name == "case_list":
        pages = figures["postgresql"]["pages"]["all queries"]
        return [
            (
                f"filtered list page p95 ms, PostgreSQL, {figures['cases']:,} cases (goal < 200)",
                str(pages["p95_ms"]),
            )
        ]
    if name == "scale":
        audits = figures["audit"]
        return [
            (
                f"appends/s, first / last tenth of {figures['size']:,} (goal: end >= 0.8x start)",
                f"{figures['appends']['first_tenth_events_per_s']:,} / "
                f"{figures['appends']['last_tenth_events_per_s']:,}",
            ),
            ("proof p50, full size / 10^4 (goal <= 2)", str(figures["proof_p50_ratio"])),
            ("database bytes per leaf / event bytes (goal <= 2)", str(figures["storage"]["ratio"])),
            (
                "full audit leaves/s (goal >= 100,000), peak MiB",
                f"{audits['full']['leaves_per_s']:,}, {audits['full']['peak_rss_mib']}",
            ),
            ("incremental audit of 10^4 s (goal <= 1)", str(audits["incremental"]["seconds"])),
        ]
    if name == "verify":
        return [("verify / openssl time (goal <= 1.3)", str(figures["ratio_to_openssl"]))]
    if name == "load":
        load, checks = figures["load"], figures["checks"]
        return [
            (f"requests/s, {load['users']} users, PostgreSQL, gunicorn", str(load["per_second"])),
            ("p50 / p99 ms", f"{load['p50_ms']} / {load['p99_ms']}"),
            ("failures without kills", str(load["failures"])),
            (
                "kills during the second phase",
                ", ".join(f"{k} {v}" for k, v in figures["chaos"]["kills"].items()),
            ),
            (
                "acknowledged writes lost",
                f"{checks['acknowledged_lost']} of {checks['acknowledged_writes']:,}",
            ),
            (
                "anchor transactions / new anchors (equal: none twice)",
                f"{checks['anchor_transactions']} / {checks['new_anchors']}",
            ),
            ("audit afterwards", "clean" if checks["audit_clean"] else "FINDINGS"),
        ]
    rows = []
    for backend in ("sqlite", "postgresql"):
        if backend in figures:
            b = figures[backend]
            rows.append(
                (
                    f"{backend}: appends/s in batches of 1,000 (goal on PostgreSQL >= 10,000)",
                    f"{b['appends']['batched_1000_events_per_s']:,}",
                )
            )
            rows.append(
                (
                    f"{backend}: inclusion proof p50, largest / smallest log (goal <= 2)",
                    str(b["proof_p50_ratio_largest_to_smallest"]["inclusion"]),
                )
            )
            audit = b["audit"]
            rows.append(
                (
                    f"{backend}: audit leaves/s (goal >= 100,000); incremental 10^4 s (goal <= 1)",
                    f"{audit['leaves_per_s']:,}; {audit['incremental']['seconds']}",
                )
            )
            rows.append(
                (
                    f"{backend}: database bytes per leaf / event bytes (goal <= 2)",
                    str(b["storage"]["ratio"]),
                )
            )
            if "http" in b:
                http = b["http"]
                rows.append(
                    (
                        f"{backend}: HTTP appends/s, {http['clients']} clients, p99 ms, per commit "
                        "(goal PostgreSQL >= 1,000 with p99 <= 100; SQLite >= 500)",
                        f"{http['events_per_s']:,}, {http['p99_ms']}, {http['events_per_commit']}",
                    )
                )
    return rows


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    report, rows = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, []
    for name, extra in (QUICK if args.quick else FULL).items():
        target = out / f"{name}.json"
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / f"{name}.py"), *extra, "--out", str(target)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        report[name] = json.loads(target.read_text())
        rows += [(name, what, value) for what, value in headline(name, report[name])]
        rows.append((name, "seconds to run", f"{time.monotonic() - started:.0f}"))
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    table = "| benchmark | figure | value |\n|---|---|---|\n" + "".join(
        f"| {b} | {w} | {v} |\n" for b, w, v in rows
    )
    (out / "report.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
