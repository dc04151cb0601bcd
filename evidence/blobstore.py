"""Content-addressed, write-once blob storage (DESIGN.md: evidence blobs content-addressed and
write-once).

A blob is written to a temporary file while it is hashed, fsynced, then
renamed to `blobs/sha256/ab/cd/<hash>` and the folder fsynced: a crash at
any point leaves either no blob or the whole blob, never a partial one under
its name. An existing blob is never overwritten (the same name means the same
bytes) and the service never deletes one. Reading back verifies the hash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from evidence.digests import Digested, Digests
from evidence.errors import TamperedBlob, TooLarge
from evidence.write_behind import WriteBehind
from ledger.processes import running

CHUNK = 1 << 20


@dataclass(frozen=True)
class Blob:
    sha256: str  # lowercase hex
    size: int
    created: bool  # False when the same bytes were already stored
    sm3: str = ""  # lowercase hex SM3 of the same bytes (DESIGN.md: 国密 digests)


class BlobWriter(Protocol):
    size: int
    head: bytes  # the first bytes, for content sniffing

    def write(self, chunk: bytes) -> None: ...

    def take(self, source: Path) -> None:
        """Hold the whole of `source` as if written, without a second copy where possible."""

    def digest(self) -> str: ...

    def digested(self) -> Digested:
        """The SHA-256 and SM3 of everything written."""

    def staged(self) -> Path:
        """The bytes written so far as a local file, for checks before the commit."""

    def commit(self) -> Blob:
        """Store the bytes under their hash; idempotent for bytes already stored."""

    def abort(self) -> None:
        """Discard everything written."""


class BlobStore(Protocol):
    """What evidence needs of a blob store: `EvidenceService` and the audit take one, so an
    S3-compatible store is one more class with these methods."""

    def writer(self, max_size: int) -> BlobWriter: ...

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> Iterator[bytes]:
        """The blob's bytes in chunks; raises TamperedBlob at the end if they do not hash to the
        name."""

    def size(self, sha256: str) -> int: ...

    def verify(self, sha256: str) -> str | None:
        """None when the blob is there with its hash; otherwise what is wrong with it."""

    def local_file(self, sha256: str) -> AbstractContextManager[Path]:
        """The blob as a local file while the block runs, for tools that read files (ffmpeg)."""

    def scratch(self) -> AbstractContextManager[Path]:
        """An empty private folder for files made from blobs, removed after the block."""

    def health(self) -> str:
        """ "ok" when blobs can be stored now, else what stops it (for /readyz)."""

    def sweep_stale(self) -> int:
        """Remove what writers of processes killed mid-upload left behind; how many were removed."""

    def locked_until(self, sha256: str) -> datetime | None:
        """Until when the store refuses to delete the blob (S3 Object Lock); None if it may go."""

    def delete(self, sha256: str) -> None:
        """Remove the blob for good (a purge under a retention rule, evidence/retention.py); no
        error if it is already gone."""


def blob_name(sha256: str) -> str:
    """`sha256/ab/cd/<hash>`: where a blob lives under the store's root or prefix; refuses
    anything that is not a lowercase SHA-256 hex digest (no path tricks)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class StagedStore:
    """What every store does on local disk: writes are staged in `tmp` while they are hashed,
    scratch folders, and the sweep of what killed processes left there. A subclass says how a
    finished file is placed under its name (`place`) and how blobs are read."""

    tmp: Path

    def writer(self, max_size: int) -> _FileWriter:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return _FileWriter(self, max_size)

    def place(self, temp: Path, sha256: str) -> bool:
        """Store the finished file `temp` under its hash and remove it; False when already
        stored."""
        raise NotImplementedError

    def exists(self, sha256: str) -> bool:
        raise NotImplementedError

    def open(self, sha256: str) -> Iterator[bytes]:
        raise NotImplementedError

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.tmp, prefix=self.temp_prefix()) as folder:
            yield Path(folder)

    def verify(self, sha256: str) -> str | None:
        """None when the blob is there with its hash; otherwise what is wrong with it."""
        if not self.exists(sha256):
            return "is missing from the blob store"
        try:
            for _ in self.open(sha256):
                pass
        except TamperedBlob as exc:
            return exc.message
        return None

    @staticmethod
    def temp_prefix() -> str:
        """Names of temporary files and folders carry host and pid, for `sweep_stale`."""
        return f"upload-{socket.gethostname()}-{os.getpid()}-"

    def sweep_stale(self) -> int:
        """Remove temporary files and folders of this host's processes that no longer run (killed
        mid-upload)."""
        prefix, removed = f"upload-{socket.gethostname()}-", 0
        for temp in self.tmp.glob(prefix + "*") if self.tmp.exists() else ():
            pid = temp.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not running(int(pid)):
                shutil.rmtree(temp) if temp.is_dir() else temp.unlink(missing_ok=True)
                removed += 1
        return removed


def check_digest(sha256: str, digest: hashlib._Hash, where: str) -> None:
    """Raise TamperedBlob when the bytes read (hashed into `digest`) are not the named ones."""
    if digest.hexdigest() != sha256:
        raise TamperedBlob(
            f"blob {sha256} was changed {where}: its bytes hash to {digest.hexdigest()}"
        )


class FileBlobStore(StagedStore):
    """Blobs as files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        return self.root / blob_name(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def open(self, sha256: str) -> Iterator[bytes]:
        digest = hashlib.sha256()
        with open(self.path(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                yield chunk
        check_digest(sha256, digest, "on disk")

    @contextmanager
    def local_file(self, sha256: str) -> Iterator[Path]:
        yield self.path(sha256)  # already a file: no copy

    def locked_until(self, sha256: str) -> datetime | None:
        return None  # a file system has no retention lock

    def delete(self, sha256: str) -> None:
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_folder(path.parent)  # the removal survives a crash

    def health(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        return "ok" if os.access(self.root, os.W_OK) else f"{self.root} is not writable"

    def place(self, temp: Path, sha256: str) -> bool:
        """Move a finished temp file under its name; False (and discard it) when already stored."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(temp, final)  # fails if the name exists: never overwrite a blob
        except FileExistsError:
            return False
        finally:
            temp.unlink(missing_ok=True)
        fsync_folder(final.parent)
        return True


class _FileWriter:
    """Writes and hashes a stream. Each chunk is hashed (SHA-256 and SM3, evidence/digests.py) on
    helper threads while it is written to the file and the next one is received (hashlib and file
    writes release the GIL on large buffers), so an upload costs about the slowest of hashing and
    writing, not their sum."""

    def __init__(self, store: StagedStore, max_size: int) -> None:
        self.store = store
        self.max_size = max_size
        # The host and pid in the name let a restarted service remove what a killed one left
        # (sweep_stale).
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix=store.temp_prefix())
        self.temp = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.written = WriteBehind(self.file)  # on the disk while the rest arrives
        self.digests = Digests()
        self._digested: Digested | None = None  # once asked for: no more bytes after that
        self.size = 0
        self.head = b""

    def write(self, chunk: bytes) -> None:
        self._account(chunk)
        self.digests.update(chunk)
        self.written.write(chunk)

    def take(self, source: Path) -> None:
        """Hold a complete local file (a finished resumable upload) as the bytes written:
        hard-linked into staging, so a large upload is not written a second time, then hashed by
        one read. Copied instead where the two folders are on different file systems."""
        try:
            os.link(source, self.temp.with_name(self.temp.name + ".taken"))
        except OSError:
            with open(source, "rb") as f:
                while chunk := f.read(1 << 20):
                    self.write(chunk)
            return
        self.file.close()
        os.replace(self.temp.with_name(self.temp.name + ".taken"), self.temp)
        self.file = open(self.temp, "ab")  # noqa: SIM115  (closed by commit or abort)
        with open(self.temp, "rb") as f:
            while chunk := f.read(CHUNK):
                self._account(chunk)
                self.digests.update(chunk)
        self.written = WriteBehind(self.file, self.size)  # nothing more to write: commit syncs

    def _account(self, chunk: bytes) -> None:
        """Count a chunk against the limit and keep the first bytes for sniffing."""
        self.size += len(chunk)
        if self.size > self.max_size:
            self.abort()
            raise TooLarge(f"the upload exceeds the limit of {self.max_size:,} bytes")
        if len(self.head) < 512:
            self.head += chunk[: 512 - len(self.head)]

    def digested(self) -> Digested:
        """The SHA-256 and SM3 of everything written."""
        if self._digested is None:
            self._digested = self.digests.result()
        return self._digested

    def digest(self) -> str:
        return self.digested().sha256

    def staged(self) -> Path:
        """The bytes written so far as a complete file, for checks (ffprobe) before the commit."""
        self.file.flush()
        return self.temp

    def commit(self) -> Blob:
        self.written.sync()  # the bytes are on disk before the name points at them
        self.file.close()
        digested = self.digested()
        try:
            created = self.store.place(self.temp, digested.sha256)
            return Blob(digested.sha256, self.size, created, digested.sm3)
        finally:
            self.temp.unlink(missing_ok=True)

    def abort(self) -> None:
        self.digests.close()
        if not self.file.closed:
            self.file.close()
        self.temp.unlink(missing_ok=True)


def fsync_folder(path: Path) -> None:
    """Make a folder's entries (a new, renamed or removed name) survive a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
