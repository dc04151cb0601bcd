"""What an evidence package holds (DESIGN.md: Formats, packages), as plain values: the format's
name, a file extension per media type, the custody trail, and the contents a package is written
from. Shared by the writer (package.py) and the offline verifier (verify.py), which must not load
the writer's PDF
renderer. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.events import Event

PACKAGE_FORMAT = "lianzheng-package/1"
SIGNED_FILE = "tagmanifest-sha256.txt"  # what the package signatures sign
SIGNATURE_FILE = "signature.json"  # Ed25519
SM2_SIGNATURE_FILE = "signature-sm2.json"  # SM2 with SM3 and the default user id, beside it
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
    "video/mp2t": "ts",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
}


def custody_of(events: Iterable[tuple[int, Event]]) -> list[dict[str, Any]]:
    """The custody trail of a package's events: one entry per evidence event, as custody.json holds
    it."""
    return [
        {"index": i, "type": e.type, "actor": e.actor, "time": e.time, **e.payload}
        for i, e in events
        if e.type.startswith("evidence.")
    ]


@dataclass(frozen=True)
class EvidenceFile:
    record: dict[str, Any]  # the item as the API shows it, media facts included
    chunks: Callable[[], Iterator[bytes]]  # opened only while the package is written


@dataclass(frozen=True)
class PackageContents:
    case_no: str
    # (leaf index, leaf bytes), every one below the checkpoint's size
    events: list[tuple[int, bytes]]
    proofs: dict[int, list[bytes]]
    size: int
    root: bytes
    checkpoint: str
    log_key: dict[str, str]
    trust_root: dict[str, Any]
    anchor: dict[str, Any]
    custody: list[dict[str, Any]]
    evidence: list[EvidenceFile] = field(default_factory=list)
    exported_at: str = ""
    exported_by: str = ""
    # The RFC 3161 token over the note as the log signed it, and that note (no cosignatures).
    timestamp: tuple[bytes, str] | None = None
    # The intake registrations of docked footage the case's `evidence.linked` events name,
    # (leaf index, leaf bytes); their inclusion proofs are in `proofs` with the events'.
    intake: list[tuple[int, bytes]] = field(default_factory=list)
