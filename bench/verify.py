"""Package verification benchmark: a package holding 1 GiB of video, printed as JSON.

    .venv/bin/python bench/verify.py [--size-mib 1024] [--out FILE]

Builds a real case (embedded anvil, anchored), exports its package, then times
`lianzheng verify`'s checks (without --rpc, against the deployment's trust
root) against `openssl dgst -sha256` over the same package bytes, in the same
run, both from the page cache. Goal: within 1.3x of openssl.

It also times the refusal of the same package re-signed by a stranger's key:
that must fail before any evidence file is hashed, so it costs milliseconds,
not a pass over the gigabyte.
"""

from __future__ import annotations

import base64
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import figures as figures_io  # noqa: E402
from bench.ingest import make_file  # noqa: E402
from evidence import verify as verifier  # noqa: E402
from evidence.meta import UploadMeta  # noqa: E402
from ledger.trust import TrustRoot, TrustRoots  # noqa: E402
from ledger.users import Role, add_user, authenticate  # noqa: E402
from ledger.verdict import Status  # noqa: E402
from verify_portal.app import anchor_target, anchored  # noqa: E402
from verify_portal.app.export import export_case  # noqa: E402
from verify_portal.app.services import build, migrate  # noqa: E402
from verify_portal.app.settings import Settings  # noqa: E402


def build_package(work: Path, size: int) -> tuple[Path, TrustRoot]:
    settings = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(work / "var"),
            "LIANZHENG_MAX_EVIDENCE_BYTES": str(size + (64 << 20)),
        }
    )
    services = build(settings)
    migrate(services.engine)
    with services.sessions.begin() as session:
        officer, supervisor = (
            add_user(session, "officer-1", Role.OFFICER),
            add_user(session, "sup-1", Role.SUPERVISOR),
        )
    officer, supervisor = (
        authenticate(services.engine, officer),
        authenticate(services.engine, supervisor),
    )
    case_no = services.cases.create(
        officer, {"source": "patrol", "violation_type": "stall", "district": "xuhui"}
    )["case_no"]
    video = work / "bodycam.mp4"
    make_file(video, size)
    services.evidence.ingest_file(
        officer,
        UploadMeta.parse({"case_no": case_no, "captured_at": "2026-11-22T08:00:00Z"}),
        video,
    )
    video.unlink()
    target, stop_chain = anchor_target.connect(settings)
    try:
        anchored.worker(services, target).run_once()
        package = work / "case.zip"
        with open(package, "w+b") as out:
            export_case(services, supervisor, case_no, out)
    finally:
        if stop_chain:
            stop_chain()
    return package, services.trust.latest()


def re_signed(package: Path, out: Path) -> Path:
    """The package with its tag manifest re-signed by a stranger's key (the 1 GiB entry copied as
    is)."""
    stranger = Ed25519PrivateKey.generate()
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(out, "w", allowZip64=True) as target:
        for info in source.infolist():
            entry_info = zipfile.ZipInfo(
                info.filename, info.date_time
            )  # the source's own stays untouched
            entry_info.compress_type = info.compress_type
            if info.filename.endswith("/signature.json"):
                signature = json.loads(source.read(info))
                tagmanifest = source.read(
                    info.filename.replace("signature.json", "tagmanifest-sha256.txt")
                )
                signature["public_key"] = stranger.public_key().public_bytes_raw().hex()
                signature["signature"] = base64.b64encode(stranger.sign(tagmanifest)).decode()
                target.writestr(entry_info, json.dumps(signature))
                continue
            with source.open(info) as entry, target.open(entry_info, "w", force_zip64=True) as copy:
                shutil.copyfileobj(entry, copy, 4 << 20)
    return out


def timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package, root = build_package(Path(tmp), args.size_mib << 20)
        roots = TrustRoots([root])

        def openssl() -> None:
            subprocess.run(
                ["openssl", "dgst", "-sha256", str(package)], check=True, capture_output=True
            )

        openssl()  # both read from the page cache
        reference = min(timed(openssl) for _ in range(2))
        reports = []
        verify_seconds = min(
            timed(lambda: reports.append(verifier.verify(str(package), roots))) for _ in range(2)
        )
        assert reports[-1].passed, reports[-1].to_json()
        forged = re_signed(package, Path(tmp) / "forged.zip")
        refusals: list[verifier.PackageReport] = []
        refused_seconds = min(
            timed(lambda: refusals.append(verifier.verify(str(forged), roots))) for _ in range(3)
        )
        assert refusals[-1].check("signature").status == Status.FAIL, refusals[-1].to_json()
        figures = {
            "benchmark": "verify",
            "package_bytes": package.stat().st_size,
            "verify_seconds": round(verify_seconds, 2),
            "openssl_seconds": round(reference, 2),
            "ratio_to_openssl": round(verify_seconds / reference, 2),
            "forged_signature_refused_seconds": round(refused_seconds, 3),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "goals": {"ratio_to_openssl": 1.3},
        }
    figures_io.emit(figures, args.out)


if __name__ == "__main__":
    main()
