"""`bench/scale.py --quick`, as CI runs it: a 10^5-leaf log on PostgreSQL, its figures printed as
JSON, both audits clean. Speed is not asserted here (the figures are quoted in the notes); that
the script runs end to end, and that what it measured is a sound log, is."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_scale_run_builds_proves_sizes_and_audits_a_log_of_100000_leaves(tmp_path):
    out = tmp_path / "scale.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["size"] == 100_000
    assert set(figures["proofs"]) == {"10000", "100000"}
    assert figures["appends"]["first_tenth_events_per_s"] > 0
    assert 1 < figures["storage"]["ratio"] < 20
    full, incremental = figures["audit"]["full"], figures["audit"]["incremental"]
    assert full["clean"] and (full["log_size"], full["leaves"]) == (100_000, 100_000)
    assert incremental["clean"] and incremental["log_size"] == 110_000
    assert 10_000 <= incremental["leaves"] < 10_000 + 4096, "only the new spans were read"
    assert full["root"] != incremental["root"]
