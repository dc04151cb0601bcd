"""The court page's verification: the deployment's own trust root plus other agencies' roots that an
admin registered (fingerprint confirmed), and the verifier run as a process of its own.

Verification runs `lianzheng verify` in a child process with a wall-clock and a
memory limit, so that a hostile package can cost a court-page worker nothing but
that child; the anchor is always checked on chain there (`--require-chain`):
with the chain down the verdict is INCOMPLETE, never VERIFIED.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from evidence import verify as verifier
from evidence.verify import PackageReport
from ledger import jsontext
from ledger.errors import InvalidInput, LianzhengError, NotFound, VerificationError
from ledger.trust import TrustRoot, TrustRoots
from ledger.users import Action, Actor
from verify_portal.app import anchoring
from verify_portal.app.models import CourtRoot
from verify_portal.app.settings import Settings
from verify_portal.app.trust import TrustService

MAX_REPORT_BYTES = 16 << 20


class Readable(Protocol):
    """What an upload is read through: the request's stream, or a wrapper that hashes it."""

    def read(self, size: int = -1, /) -> bytes: ...


class VerificationRefused(LianzhengError):
    """The package could not be verified at all: too slow, too large for memory, or the verifier
    died."""

    code = "verification-refused"


@dataclass
class CourtRoots:
    settings: Settings
    sessions: sessionmaker[Session]
    own: TrustService

    # --- registered roots of other agencies
    # ---------------------------------------------------------

    def register(
        self, actor: Actor, data: bytes, fingerprint: str, rpc_url: str | None = None
    ) -> TrustRoot:
        """Trust another agency's root on the court page, once its fingerprint is confirmed
        (admin)."""
        actor.require(Action.MANAGE_TRUST_ROOTS)
        root = TrustRoot.parse(data)
        given = "".join(fingerprint.split()).replace(":", "").lower()
        if given != root.fingerprint:
            raise VerificationError(
                f"refused: the root's fingerprint is {root.fingerprint}, not {given}"
            )
        if rpc_url is not None and not rpc_url.startswith(("http://", "https://")):
            raise InvalidInput("the RPC URL must be an http(s) URL")
        if root.log_origin == self.own.store.origin:
            raise InvalidInput(f"{root.log_origin!r} is this deployment's own log")
        with self.sessions.begin() as session:
            if session.scalar(select(CourtRoot).where(CourtRoot.log_origin == root.log_origin)):
                raise InvalidInput(
                    f"a root for {root.log_origin!r} is registered already; remove it first"
                )
            session.add(
                CourtRoot(
                    fingerprint=root.fingerprint,
                    log_origin=root.log_origin,
                    agency=root.agency[:255],
                    document=data.decode(),
                    rpc_url=rpc_url,
                    added_by=actor.username,
                    added_at=datetime.now(UTC),
                )
            )
        return root

    def remove(self, actor: Actor, fingerprint: str) -> None:
        actor.require(Action.MANAGE_TRUST_ROOTS)
        with self.sessions.begin() as session:
            row = session.get(CourtRoot, fingerprint)
            if row is None:
                raise NotFound(f"no registered root has fingerprint {fingerprint}")
            session.delete(row)

    def registered(self) -> list[CourtRoot]:
        with self.sessions() as session:
            return list(session.scalars(select(CourtRoot).order_by(CourtRoot.agency)))

    # --- verifying
    # ----------------------------------------------------------------------------------

    def verify(self, upload: Readable) -> PackageReport:
        """Verify an uploaded package in a child process against the own and registered roots."""
        with tempfile.TemporaryDirectory(prefix="court-", dir=self._scratch()) as folder:
            work = Path(folder)
            package = work / "package.zip"
            with open(package, "wb") as out:
                while chunk := upload.read(1 << 20):
                    out.write(chunk)
            if not zipfile.is_zipfile(
                package
            ):  # reads the end record only: refused here, no process
                return verifier.verify(
                    str(package), TrustRoots([self.own.latest()]), require_chain=True
                )
            return self._run(work, package)

    def _scratch(self) -> Path:
        scratch = self.settings.data_dir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        return scratch

    def _run(self, work: Path, package: Path) -> PackageReport:
        command = [
            sys.executable,
            "-m",
            "verify_portal",
            "verify",
            str(package),
            "--require-chain",
            "--json",
            str(work / "report.json"),
            "--memory-limit",
            str(max(64, self.settings.web.court_verify_memory >> 20)),
        ]
        for i, text in enumerate(
            [self.own.latest_text(), *(r.document for r in self.registered())]
        ):
            (work / f"root-{i}.json").write_text(text)
            command += ["--trust", str(work / f"root-{i}.json")]
        for url in self._rpc_urls():
            command += ["--rpc", url]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=self.settings.web.court_verify_seconds
            )
        except subprocess.TimeoutExpired:
            raise VerificationRefused(
                f"the package took longer than {self.settings.web.court_verify_seconds:.0f} s "
                "to verify; verify it offline with `lianzheng verify`"
            ) from None
        report = work / "report.json"
        if done.returncode not in (0, 1, 3) or not report.exists():
            raise VerificationRefused(
                "the verifier stopped before it finished (the package may need more "
                "memory than the court page allows); verify it offline with `lianzheng verify`"
            )
        if report.stat().st_size > MAX_REPORT_BYTES:
            raise VerificationRefused("the verification report is too large")
        return PackageReport.from_json(
            jsontext.loads(report.read_bytes(), "the verification report")
        )

    def _rpc_urls(self) -> list[str]:
        urls = [url for url in (anchoring.rpc_url(self.settings),) if url]
        return urls + [r.rpc_url for r in self.registered() if r.rpc_url]
