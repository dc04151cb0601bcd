"""The docking station's files: recorders as they are mounted, the staging copy made while hashing,
and the journal that lets an interrupted ingest resume (`evidence/dock.py` drives them).

A recorder is a folder under the station's watch folder, as a USB mass-storage recorder mounts:
its serial in `DEVICE.TXT` at its root, its recordings anywhere below, a device's signature of a
recording beside it as `<name>.sig.json` ({"captured_at", "signature", "segment_seq",
"segment_prev"}, the fields of the upload metadata, evidence/meta.py).

Every record written here is fsynced and replaced atomically: a station killed at any moment
finds either the old record or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence.blobstore import fsync_folder
from evidence.digests import Digests
from evidence.write_behind import WriteBehind
from ledger import jsontext

IDENTITY_FILE = "DEVICE.TXT"
SIDECAR = ".sig.json"
SIDECAR_FIELDS = ("captured_at", "signature", "segment_seq", "segment_prev")
MAX_SIDECAR = 4096
MAX_IDENTITY = 128  # a serial is 64 characters at most
READ = 1 << 20
_SERIAL = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class RecorderError(Exception):
    """A recorder that cannot be read as one: no identity, or pulled out."""


@dataclass(frozen=True)
class Recording:
    """One file on a recorder, as it stood when the station first looked."""

    path: Path
    relative: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, root: Path, path: Path) -> Recording:
        stat = path.stat()
        return cls(path, path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns)

    def unchanged(self) -> bool:
        """The file still has the size and modification time it had when first looked at."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns)

    def captured_at(self) -> str:
        """The capture time a recording without a signed sidecar claims: its modification time."""
        moment = datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def sidecar(self) -> dict[str, str]:
        """The device's signature and capture facts, as upload metadata pairs (empty without)."""
        path = self.path.with_name(self.path.name + SIDECAR)
        if not path.is_file():
            return {}
        with open(path, "rb") as f:
            data = f.read(MAX_SIDECAR + 1)
        if len(data) > MAX_SIDECAR:
            raise ValueError(f"{path.name} is larger than {MAX_SIDECAR} bytes")
        if not jsontext.nests_at_most(data, 1):
            raise ValueError(f"{path.name} is not one flat JSON object")
        found = json.loads(data)
        if not isinstance(found, dict) or not set(found) <= set(SIDECAR_FIELDS):
            raise ValueError(f"{path.name} holds other fields than {', '.join(SIDECAR_FIELDS)}")
        return {k: str(v) for k, v in found.items() if v is not None}


def serial_of(recorder: Path) -> str:
    """The recorder's serial from its identity file; RecorderError without one."""
    try:
        with open(recorder / IDENTITY_FILE, "rb") as f:
            text = f.read(MAX_IDENTITY).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise RecorderError(f"{recorder.name} has no readable {IDENTITY_FILE}") from None
    if not _SERIAL.fullmatch(text):
        raise RecorderError(f"{recorder.name}'s {IDENTITY_FILE} holds no serial number")
    return text


def recordings(recorder: Path) -> list[Recording]:
    """Every recording on the recorder, oldest first (a recorder numbers its files in time)."""
    try:
        found = [
            Recording.of(recorder, p)
            for p in sorted(recorder.rglob("*"))
            if p.is_file() and p.name != IDENTITY_FILE and not p.name.endswith(SIDECAR)
        ]
    except OSError as exc:
        raise RecorderError(f"{recorder.name} could not be read: {exc.strerror}") from None
    return sorted(found, key=lambda r: (r.mtime_ns, r.relative))


@dataclass(frozen=True)
class Staged:
    """A recording's copy in the staging folder, hashed as it was written."""

    path: Path
    sha256: str
    sm3: str
    size: int


def stage(
    recording: Recording, folder: Path, progress: Callable[[int], None] = lambda _: None
) -> Staged | None:
    """Copy a recording into `folder` while hashing it (SHA-256 and SM3), durably; None when it
    changed meanwhile (grew, shrank or was rewritten), and then nothing is left in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (hashlib.sha256(recording.relative.encode()).hexdigest()[:32] + ".part")
    digests, size = Digests(), 0
    try:
        with open(recording.path, "rb") as source, open(target, "wb") as out:
            written = WriteBehind(out)  # on the disk while the rest is read
            while chunk := source.read(READ):
                digests.update(chunk)
                written.write(chunk)
                size += len(chunk)
                progress(len(chunk))
            written.sync()
    except BaseException:
        digests.close()
        target.unlink(missing_ok=True)
        raise
    digested = digests.result()
    if not recording.path.exists():  # the recorder was pulled out while it was read
        target.unlink()
        raise FileNotFoundError(recording.path)
    if size != recording.size or not recording.unchanged():
        target.unlink()
        return None
    final = target.with_suffix("")
    os.replace(target, final)
    return Staged(final, digested.sha256, digested.sm3, size)


def same_bytes(path: Path, sha256: str) -> bool:
    """Whether the file still holds exactly the bytes of that hash (read again before a wipe)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(READ):
            digest.update(chunk)
    return digest.hexdigest() == sha256


def wipe(recording: Recording) -> None:
    """Delete a confirmed recording (and its sidecar) from the recorder, durably."""
    recording.path.unlink()
    recording.path.with_name(recording.path.name + SIDECAR).unlink(missing_ok=True)
    fsync_folder(recording.path.parent)


@dataclass
class Entry:
    """What the journal knows of one recording in flight."""

    serial: str
    relative: str
    size: int
    mtime_ns: int
    sha256: str
    sm3: str = ""
    url: str | None = None  # the tus upload, once created
    evidence_id: str | None = None  # once the server registered it
    leaf_index: int | None = None


class Journal:
    """Recordings in flight, one small JSON file each under `<staging>/journal/`: the tus upload
    of a recording survives a killed station, so the next run resumes it instead of sending the
    file again."""

    def __init__(self, staging: Path) -> None:
        self.folder = staging / "journal"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, serial: str, relative: str) -> Path:
        key = hashlib.sha256(f"{serial}\n{relative}".encode()).hexdigest()[:40]
        return self.folder / f"{key}.json"

    def get(self, serial: str, recording: Recording) -> Entry | None:
        """The entry of this recording, if it is the same file (size, modification time)."""
        try:
            entry = Entry(**json.loads(self._path(serial, recording.relative).read_bytes()))
        except (OSError, ValueError, TypeError):
            return None
        same = (entry.size, entry.mtime_ns) == (recording.size, recording.mtime_ns)
        return entry if same else None

    def put(self, entry: Entry) -> None:
        write_durably(self._path(entry.serial, entry.relative), asdict(entry))

    def drop(self, entry: Entry) -> None:
        self._path(entry.serial, entry.relative).unlink(missing_ok=True)


class ShiftLog:
    """What this shift has confirmed and kept so far, one JSON line each, fsynced: a station killed
    mid-shift still reports every file it wiped."""

    def __init__(self, staging: Path) -> None:
        self.path = staging / "shift.jsonl"

    def add(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.endswith("}"):  # a line torn by a crash is not a record
                yield json.loads(line)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def write_durably(path: Path, value: Any) -> bytes:
    """Write `value` as JSON to `path`, atomically and fsynced; the bytes written."""
    data = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    fsync_folder(path.parent)
    return data
