"""Docking station benchmark: 8 recorders with 4 GiB in all through `lianzheng dock` to a local
`lianzheng serve`, printed as JSON.

    .venv/bin/python bench/dock.py [--gib 4] [--recorders 8] [--out FILE]

Measures, in one run: the aggregate ingest rate (bytes wiped from the recorders, each confirmed by
the log, per second of the whole shift) against writing and fsyncing a new file on the same file
system (both the station's staging copy and the server's blob are durable writes), and the agent's
peak resident memory per recorder. Goals: at least 0.7x the durable write rate, at most 64 MiB of
agent memory per recorder.

Recordings are real MP4 clips followed by one ISO-BMFF `free` box of random bytes (bench/ingest.py),
so the server probes them and makes posters as it would for footage. The page cache is dropped
after they are written, so the station reads them from the disk as it would from the recorders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "lianzheng"
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402
from bench.ingest import MemoryWatch, disk_rate, free_port, make_file, wait_for  # noqa: E402

FILES_PER_RECORDER = 4


def user(env: dict[str, str], name: str, role: str) -> str:
    return subprocess.run(
        [BIN, "user", "add", name, "--role", role],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def issue_recorders(env: dict[str, str], work: Path, count: int) -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = work / "device.pem"
    pem.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for i in range(count):
        serial = f"DSJ-{i:04d}"
        add = ["device", "add", serial, "--kind", "bodycam", "--unit", "xuhui-team-3"]
        add += ["--key", str(pem), "--as", "admin-1"]
        subprocess.run([BIN, *add], env=env, check=True, capture_output=True)
        issue = ["device", "issue", serial, "--to", "officer-1", "--as", "admin-1"]
        subprocess.run([BIN, *issue], env=env, check=True, capture_output=True)


def fill_recorders(watch: Path, count: int, total: int) -> None:
    size = total // (count * FILES_PER_RECORDER)
    for i in range(count):
        folder = watch / f"usb{i}"
        (folder / "DCIM").mkdir(parents=True)
        (folder / "DEVICE.TXT").write_text(f"DSJ-{i:04d}\n")
        for n in range(FILES_PER_RECORDER):
            make_file(folder / "DCIM" / f"{n:04d}.mp4", size)


def drop_page_cache() -> bool:
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def run_station(env: dict[str, str], work: Path, count: int) -> tuple[float, int, str]:
    """The shift's seconds, the agent's peak RSS and its last line."""
    command = [BIN, "dock", "--once", "--watch", str(work / "watch")]
    command += ["--staging", str(work / "staging"), "--reports", str(work / "reports")]
    started = time.perf_counter()
    agent = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    watch = MemoryWatch([agent.pid])
    watch.start()
    output = agent.communicate()[0]
    seconds = time.perf_counter() - started
    watch.stop.set()
    watch.join()
    if agent.returncode != 0:
        raise RuntimeError(f"the station kept recordings: {output}")
    return seconds, max(watch.peak.values()), output.strip().splitlines()[-1]


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--recorders", type=int, default=8)
    args = parser.parse_args()
    total = int(args.gib * (1 << 30))
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        work = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LIANZHENG_DATA_DIR": str(work / "var"),
            "LIANZHENG_PORT": str(port),
            "LIANZHENG_ANCHOR_IN_SERVE": "0",
            "LIANZHENG_MAX_EVIDENCE_BYTES": str(4 << 30),
            "LIANZHENG_SERVER": url,
        }
        for name, role in (("admin-1", "admin"), ("officer-1", "officer")):
            user(env, name, role)
        env["LIANZHENG_TOKEN"] = user(env, "dock-1", "system")
        issue_recorders(env, work, args.recorders)
        fill_recorders(work / "watch", args.recorders, total)
        disk = disk_rate(work, min(total, 1 << 30))
        dropped = drop_page_cache()
        server = subprocess.Popen(
            [BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(url)
            seconds, peak, last = run_station(env, work, args.recorders)
        finally:
            server.terminate()
            server.wait(30)
        report = json.loads(next((work / "reports").glob("ingest-*.json")).read_bytes())
    ingested = report["summary"]["bytes"]
    rate = ingested / seconds
    figures = {
        "benchmark": "dock",
        "recorders": args.recorders,
        "files": report["summary"]["files"],
        "bytes": ingested,
        "seconds": round(seconds, 1),
        "aggregate_mib_per_s": round(rate / (1 << 20), 1),
        "disk_write_fsync_mib_per_s": round(disk / (1 << 20), 1),
        "ratio_to_disk": round(rate / disk, 2),
        "agent_peak_rss_mib": round(peak / (1 << 20), 1),
        "agent_mib_per_recorder": round(peak / (1 << 20) / args.recorders, 1),
        "page_cache_dropped": dropped,
        "station_said": last,
        "goals": {"ratio_to_disk": 0.7, "agent_mib_per_recorder": 64},
    }
    figures_io.emit(figures, args.out)


if __name__ == "__main__":
    main()
