"""Evidence ingest benchmark: a 1 GiB upload through the HTTP API under gunicorn, printed as JSON.

    .venv/bin/python bench/ingest.py [--size-mib 1024] [--out FILE]

Measures, in one run on loopback: the end-to-end upload rate of `POST
/api/v1/evidence` (stream to disk, SHA-256, fsync, ffprobe, poster, log
event) against `openssl dgst -sha256` over the same file, and the growth of
the serving worker's resident memory during the upload. For context it also
times writing and fsyncing a new file of that size on the same file system.
Goals: at least 0.5x the openssl hashing rate, memory growth under 64 MiB.

The service hashes every file with SHA-256 and SM3 in the same pass (evidence/digests.py). In the
same run it times the blob store's writer over the file with both digests and with SHA-256 alone
(SM3 stood in for by a no-op): goal at least 0.9x. It also times SM2 signing and verifying
(ledger/sm2.py) beside `openssl speed sm2`.

The file is a real MP4 (made by ffmpeg) followed by one ISO-BMFF `free` box
of random bytes, which players and ffprobe skip: large, valid, quick to make.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "lianzheng"
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402
from bench.procs import rss, workers_of  # noqa: E402
from evidence.meta import encode_upload_metadata  # noqa: E402


def make_file(path: Path, size: int) -> None:
    clip = path.with_suffix(".clip.mp4")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=320x240:rate=25",
            "-c:v",
            "libx264",
            "-movflags",
            "+faststart",
            str(clip),
        ],
        check=True,
    )
    head = clip.read_bytes()
    payload = size - len(head) - 16
    with open(path, "wb") as f:
        f.write(head)
        f.write(
            struct.pack(">I4sQ", 1, b"free", payload + 16)
        )  # size 1: a 64-bit largesize follows
        block = os.urandom(8 << 20)
        while payload > 0:
            f.write(block[: min(payload, len(block))])
            payload -= len(block)
    clip.unlink()


class _NoHash:
    """Stands in for SM3 to time the blob writer with SHA-256 alone (the service always does
    both)."""

    def update(self, chunk: bytes) -> None:
        pass

    def hexdigest(self) -> str:
        return ""


def writer_rate(video: Path, folder: Path, with_sm3: bool) -> float:
    """Bytes per second through the blob store's writer (hash, write, fsync, rename), fed in the
    upload route's 4 MiB chunks, from the page cache."""
    from evidence import digests
    from evidence.blobstore import FileBlobStore

    real = digests.sm3
    if not with_sm3:
        digests.sm3 = _NoHash  # type: ignore[assignment]
    try:
        store = FileBlobStore(folder / ("both" if with_sm3 else "sha256"))
        started = time.perf_counter()
        writer = store.writer(video.stat().st_size)
        with open(video, "rb") as f:
            while chunk := f.read(4 << 20):
                writer.write(chunk)
        blob = writer.commit()
        seconds = time.perf_counter() - started
        store.delete(blob.sha256)
    finally:
        digests.sm3 = real
    return video.stat().st_size / seconds


def sm2_rates(seconds: float = 2.0) -> dict:
    """Signatures and verifications per second by ledger/sm2.py (tongsuopy) over a tag manifest's
    worth of bytes, beside `openssl speed sm2` in the same run."""
    from ledger import sm2

    key, message = sm2.generate(), os.urandom(2048)
    public = sm2.raw_public_key(key.public_key())
    signature = sm2.sign(key, message)
    rates = {}
    for name, work in (
        ("sign", lambda: sm2.sign(key, message)),
        ("verify", lambda: sm2.verify(public, signature, message)),
    ):
        started, count = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            work()
            count += 1
        rates[f"tongsuopy_{name}_per_s"] = round(count / (time.perf_counter() - started))
    speed = subprocess.run(
        ["openssl", "speed", "-seconds", str(int(seconds)), "sm2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(row for row in speed.splitlines() if "SM2" in row and "bits" in row)
    sign_rate, verify_rate = line.split()[-2:]
    rates["openssl_speed_sign_per_s"] = round(float(sign_rate))
    rates["openssl_speed_verify_per_s"] = round(float(verify_rate))
    return rates


def openssl_rate(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True)
    return path.stat().st_size / (time.perf_counter() - started)


def disk_rate(folder: Path, size: int) -> float:
    """Writing and fsyncing a new file of `size` bytes on the blob store's file system: the floor
    under any durable upload, which openssl's hashing from the page cache never pays."""
    block, path = os.urandom(4 << 20), folder / "disk-probe.bin"
    started = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - started
    path.unlink()
    return size / seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MemoryWatch(threading.Thread):
    """The peak RSS of each worker while the upload runs."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.baseline = {p: rss(p) for p in pids}
        self.peak = dict(self.baseline)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], rss(pid))
            time.sleep(0.05)

    def growth(self) -> int:
        return max(self.peak[p] - self.baseline[p] for p in self.peak)


# Started as the sitecustomize of the server's interpreter to time the service with SHA-256 alone:
# SM3 is stood in for by a no-op, and nothing else changes.
SHA256_ONLY = """
import evidence.digests as digests


class _NoHash:
    def update(self, chunk):
        pass

    def hexdigest(self):
        return ""


digests.sm3 = _NoHash
"""


def serve_and_upload(work: Path, video: Path, reference: float, sha256_only: bool) -> dict:
    """Start `lianzheng serve` on a fresh data folder and upload the file once through it."""
    name = "sha256-only" if sha256_only else "both"
    port = free_port()
    env = {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(work / f"var-{name}"),
        "LIANZHENG_PORT": str(port),
        "LIANZHENG_ANCHOR_IN_SERVE": "0",
        "LIANZHENG_MAX_EVIDENCE_BYTES": str(4 << 30),
    }
    if sha256_only:
        site = work / "sha256-only-site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(SHA256_ONLY)
        env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), env.get("PYTHONPATH", "")])
    token = subprocess.run(
        [BIN, "user", "add", "officer-1", "--role", "officer"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return run_upload(port, token, video, server.pid, reference)
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "bodycam.mp4"
        make_file(video, args.size_mib << 20)
        # the file sits on disk as a docking station's would: its writing is not the upload's cost
        os.sync()
        openssl_rate(video)  # warm the page cache, as the upload will find it
        reference = openssl_rate(video)
        disk = disk_rate(work, args.size_mib << 20)
        writer_rate(video, work, True)  # warm up: a first write pays for the file system
        both, alone = writer_rate(video, work, True), writer_rate(video, work, False)
        figures = serve_and_upload(work, video, reference, sha256_only=False)
        sha256_only = serve_and_upload(work, video, reference, sha256_only=True)
    figures["disk_write_fsync_mib_per_s"] = round(disk / (1 << 20), 1)
    figures["sm2"] = sm2_rates()
    figures["sm3"] = {
        "upload_sha256_alone_mib_per_s": sha256_only["upload_mib_per_s"],
        "upload_ratio": round(figures["upload_mib_per_s"] / sha256_only["upload_mib_per_s"], 2),
        "blob_writer_both_mib_per_s": round(both / (1 << 20), 1),
        "blob_writer_sha256_alone_mib_per_s": round(alone / (1 << 20), 1),
        "blob_writer_ratio": round(both / alone, 2),
        "goal_upload_ratio": 0.9,
    }
    figures_io.emit({"benchmark": "ingest", **figures}, args.out)


def wait_for(url: str) -> None:
    """Return once the service at `url` answers; RuntimeError after 30 s."""
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/api/v1/log/publickey", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def run_upload(port: int, token: str, video: Path, master: int, reference: float) -> dict:
    url = f"http://127.0.0.1:{port}"
    wait_for(url)
    auth = {"Authorization": f"Bearer {token}"}
    report = json.dumps(
        {"source": "patrol", "violation_type": "stall", "district": "xuhui"}
    ).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/cases",
        method="POST",
        data=report,
        headers={**auth, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        case = json.loads(answer.read())["case_no"]
    meta = encode_upload_metadata(
        {"case_no": case, "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    watch = MemoryWatch(workers_of(master))
    watch.start()
    started = time.perf_counter()
    # curl streams the file (-T) with large writes; Python's http.client would send 8 KiB at a time
    # and
    # measure the client instead of the service.
    answer = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            "-T",
            str(video),
            "-H",
            "Expect:",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            f"Upload-Metadata: {meta}",
            "-H",
            "Content-Type: application/octet-stream",
            f"{url}/api/v1/evidence",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds = time.perf_counter() - started
    watch.stop.set()
    watch.join()
    assert answer.rsplit("\n", 1)[1] == "201", answer
    size = video.stat().st_size
    upload_rate = size / seconds
    return {
        "file_bytes": size,
        "upload_seconds": round(seconds, 2),
        "upload_mib_per_s": round(upload_rate / (1 << 20), 1),
        "openssl_sha256_mib_per_s": round(reference / (1 << 20), 1),
        "ratio_to_openssl": round(upload_rate / reference, 2),
        "worker_memory_growth_mib": round(watch.growth() / (1 << 20), 1),
        "goals": {"ratio_to_openssl": 0.5, "memory_growth_mib": 64},
    }


if __name__ == "__main__":
    main()
