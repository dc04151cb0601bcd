"""Zipped BagIt bags (RFC 8493): written streaming, read without extracting, hostile archives
refused.

Writing: payload files go under `<bag>/data/`, each hashed while it is copied
into the zip; `manifest-sha256.txt` and `manifest-sm3.txt` list them,
`tagmanifest-sha256.txt` the tag files. Reading never unpacks to disk: small
files are read into memory under a cap, payload files are hashed as they stream
out of the archive.
Paths with `..` or a leading `/`, symlinks, duplicate names, entries whose
expansion ratio betrays a zip bomb, and truncated archives are refused
before anything is trusted. No I/O but the zip file itself.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from evidence.digests import Digested, Digests
from ledger import jsontext
from ledger.errors import VerificationError

CHUNK = 4 << 20
LOCAL_HEADER_SIZE = 30  # APPNOTE 4.3.7, without the variable-length name and extra field
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MAX_SMALL_FILE = 64 << 20  # tag files read into memory
MAX_JSON_FILE = 16 << 20  # JSON files read into memory and parsed


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may declare, all checked from its directory before one byte is inflated."""

    max_entries: int = 20_000
    max_directory_bytes: int = 32 << 20  # zipfile reads the whole central directory into memory
    max_total_bytes: int = 1 << 40  # declared uncompressed content, all entries together
    max_ratio: int = 100  # how much an entry (or the whole archive) may expand
    ratio_from: int = 64 << 10  # entries smaller than this escape the per-entry ratio ...
    slack: int = 16 << 20  # ... but not the whole archive's: total <= ratio * archive + slack


class HostilePackage(VerificationError):
    """The archive itself is unsafe or broken; nothing in it is trusted."""

    code = "hostile-package"


# --- writing ----------------------------------------------------------------------------


class BagWriter:
    """Writes one zipped bag named `name`; call `add_*` for payload, then `close`."""

    def __init__(self, out: IO[bytes], name: str) -> None:
        self.zip = zipfile.ZipFile(out, "w", allowZip64=True)
        self.name = name
        self.payload: list[tuple[Digested, str]] = []  # (digests, path in bag)
        self.octets = 0

    def add_bytes(self, path: str, data: bytes, compress: bool = True) -> str:
        """A payload file at data/`path`; returns its SHA-256."""
        digests = Digests()
        digests.update(data)
        info = zipfile.ZipInfo(f"{self.name}/data/{path}", date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.zip.writestr(info, data)
        return self._listed(digests.result(), path, len(data))

    def add_stream(
        self, path: str, chunks: Iterator[bytes], on_progress: Callable[[int], None] | None = None
    ) -> str:
        """A payload file copied from `chunks` (stored, not compressed: media is compressed
        already)."""
        digests, size = Digests(), 0
        info = zipfile.ZipInfo(f"{self.name}/data/{path}", date_time=(2026, 1, 1, 0, 0, 0))
        with self.zip.open(info, "w", force_zip64=True) as entry:
            for chunk in chunks:
                digests.update(chunk)
                entry.write(chunk)
                size += len(chunk)
                if on_progress:
                    on_progress(len(chunk))
        return self._listed(digests.result(), path, size)

    def _listed(self, digested: Digested, path: str, size: int) -> str:
        self.payload.append((digested, f"data/{path}"))
        self.octets += size
        return digested.sha256

    def close(self, bag_info: dict[str, str]) -> bytes:
        """Write bagit.txt, bag-info.txt and both manifests; returns the tag manifest's bytes."""
        info = {**bag_info, "Payload-Oxum": f"{self.octets}.{len(self.payload)}"}
        tags = {
            "bagit.txt": BAGIT_TXT,
            "bag-info.txt": "".join(f"{k}: {v}\n" for k, v in info.items()).encode(),
            "manifest-sha256.txt": self._manifest(lambda d: d.sha256),
            "manifest-sm3.txt": self._manifest(lambda d: d.sm3),  # DESIGN.md: 国密 digests
        }
        tagmanifest = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(tags.items())
        ).encode()
        for name, data in {**tags, "tagmanifest-sha256.txt": tagmanifest}.items():
            self.zip.writestr(
                zipfile.ZipInfo(f"{self.name}/{name}", date_time=(2026, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
        return tagmanifest

    def _manifest(self, digest: Callable[[Digested], str]) -> bytes:
        listed = sorted(self.payload, key=lambda x: x[1])
        return "".join(f"{digest(d)}  {p}\n" for d, p in listed).encode()

    def add_root_file(self, name: str, data: bytes) -> None:
        """A file beside the tag manifest that the tag manifest cannot list (its own signature)."""
        self.zip.writestr(
            zipfile.ZipInfo(f"{self.name}/{name}", date_time=(2026, 1, 1, 0, 0, 0)), data
        )

    def finish(self) -> None:
        self.zip.close()


# --- reading ----------------------------------------------------------------------------


@dataclass
class Bag:
    """A checked-safe zipped bag: its entries by path inside the bag (no base folder)."""

    zip: zipfile.ZipFile
    base: str
    entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    def read(self, path: str, limit: int = MAX_SMALL_FILE) -> bytes:
        info = self.entries.get(path)
        if info is None:
            raise VerificationError(f"the package has no {path}")
        if info.file_size > limit:
            raise VerificationError(
                f"{path} is {info.file_size:,} bytes, more than a tag file may be"
            )
        return b"".join(self.stream(path))

    def json(self, path: str) -> Any:
        """A JSON file of the package, parsed with size and depth limits (ledger/jsontext.py)."""
        return jsontext.loads(self.read(path, MAX_JSON_FILE), path)

    def stream(self, path: str) -> Iterator[bytes]:
        """An entry's bytes; a CRC or length mismatch (a damaged archive) raises HostilePackage."""
        info = self.entries[path]
        if info.compress_type == zipfile.ZIP_STORED and info.file_size >= CHUNK:
            yield from self._stored(path, info)
            return
        read = 0
        try:
            with self.zip.open(info) as f:
                while chunk := f.read(CHUNK):
                    read += len(chunk)
                    if read > info.file_size:  # a header that lies about the size
                        raise HostilePackage(f"{path} expands beyond its declared size")
                    yield chunk
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise HostilePackage(f"the archive is damaged at {path}: {exc}") from None

    def _stored(self, path: str, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """A large stored entry (media) read straight from the file: no CRC pass on top of the
        SHA-256 that is checked against the manifest anyway, so verifying costs little more than
        hashing."""
        f = self.zip.fp
        if f is None:
            raise HostilePackage("the archive is closed")
        f.seek(info.header_offset)
        header = f.read(LOCAL_HEADER_SIZE)
        if len(header) != LOCAL_HEADER_SIZE or header[:4] != b"PK\x03\x04":
            raise HostilePackage(f"the archive is damaged at {path}: no local header")
        # APPNOTE 4.3.7: the name and extra-field lengths sit at offsets 26 and 28; the data follows
        # them.
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        f.seek(info.header_offset + LOCAL_HEADER_SIZE + name_length + extra_length)
        remaining = info.file_size
        while remaining:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                raise HostilePackage(f"the archive is truncated inside {path}")
            remaining -= len(chunk)
            yield chunk

    def digests(self, path: str) -> tuple[Digested, int]:
        """The SHA-256 and SM3 of a payload file as it streams out of the archive, and its size."""
        digests, size = Digests(), 0
        for chunk in self.stream(path):
            digests.update(chunk)
            size += len(chunk)
        return digests.result(), size


DEFAULT_LIMITS = ArchiveLimits()


def open_bag(path: str | IO[bytes], limits: ArchiveLimits = DEFAULT_LIMITS) -> Bag:
    """Open a zipped bag, refusing unsafe or damaged archives before anything in them is used."""
    archive_size = _check_directory(path, limits)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise HostilePackage(
            f"not a readable zip archive (truncated or not a zip): {exc}"
        ) from None
    infos = archive.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise HostilePackage(f"the archive holds {duplicate!r} twice")
    for info in infos:
        _check_entry(info, limits)
    _check_totals(infos, archive_size, limits)
    bases = {PurePosixPath(n).parts[0] for n in names}
    if len(bases) != 1:
        raise HostilePackage("a zipped bag has exactly one top-level folder")
    base = bases.pop()
    entries = {n[len(base) + 1 :]: i for n, i in zip(names, infos, strict=True) if not i.is_dir()}
    return Bag(archive, base, entries)


def _check_entry(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or ".." in parts or (parts and parts[0].endswith(":")):
        raise HostilePackage(f"unsafe path in the archive: {name!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise HostilePackage(f"the archive holds a symbolic link: {name!r}")
    ratio = info.file_size // max(info.compress_size, 1)
    if info.file_size > limits.ratio_from and ratio > limits.max_ratio:
        raise HostilePackage(f"{name!r} expands {ratio:,} times: a zip bomb")


def _check_totals(infos: list[zipfile.ZipInfo], archive_size: int, limits: ArchiveLimits) -> None:
    """Many small entries must not add up to a bomb either; compressed sizes cannot exceed the
    file."""
    packed = sum(i.compress_size for i in infos)
    unpacked = sum(i.file_size for i in infos)
    if packed > archive_size:
        raise HostilePackage(
            f"the archive's entries claim {packed:,} compressed bytes in a file of {archive_size:,}"
        )
    if unpacked > limits.max_total_bytes:
        raise HostilePackage(
            f"the archive declares {unpacked:,} bytes of content, more than "
            f"{limits.max_total_bytes:,}"
        )
    if unpacked > limits.max_ratio * archive_size + limits.slack:
        raise HostilePackage(
            f"the archive expands from {archive_size:,} to {unpacked:,} bytes: a zip bomb"
        )


# APPNOTE 4.3.16: end of central directory record, at most 65,535 bytes of comment after it.
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # APPNOTE 4.3.15
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # APPNOTE 4.3.14
_ENTRY = struct.Struct(
    "<4s6H3L5H2L"
)  # APPNOTE 4.3.12, a central directory header without its names


def _check_directory(path: str | IO[bytes], limits: ArchiveLimits) -> int:
    """Walk the archive's central directory, located from its end records, counting entries without
    building them, before zipfile parses (and holds in memory) all of it; returns the archive's
    size.

    zipfile parses as many headers as the directory's byte size holds, whatever count the end record
    claims, so the headers themselves are what is counted here.
    """
    f = open(path, "rb") if isinstance(path, str) else path  # noqa: SIM115 - closed below
    try:
        size = f.seek(0, 2)
        end, length = _directory_span(f, size)
        if length > limits.max_directory_bytes:
            raise HostilePackage(
                f"the archive's directory is {length:,} bytes, more than "
                f"{limits.max_directory_bytes:,}"
            )
        if not 0 <= end - length:
            raise HostilePackage("the archive's directory lies outside the file")
        f.seek(end - length)
        entries = _count_entries(f.read(length), limits)
    finally:
        if isinstance(path, str):
            f.close()
        else:
            f.seek(0)
    if entries > limits.max_entries:
        raise HostilePackage(f"the archive has more than {limits.max_entries:,} entries")
    return size


def _directory_span(f: IO[bytes], size: int) -> tuple[int, int]:
    """Where the central directory ends and how long it is, as zipfile itself will read it."""
    tail_start = max(0, size - _EOCD.size - 0xFFFF)
    f.seek(tail_start)
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise HostilePackage("not a readable zip archive (truncated or not a zip): no end record")
    _, _, _, _, entries, length, offset, _ = _EOCD.unpack_from(tail, at)
    eocd_at = tail_start + at
    if entries != 0xFFFF and length != 0xFFFFFFFF and offset != 0xFFFFFFFF:
        return eocd_at, length
    # zip64: its end record sits right before its locator, which sits right before the end record.
    record_at = eocd_at - _EOCD64_LOCATOR.size - _EOCD64.size
    if record_at < 0:
        raise HostilePackage("the archive's zip64 end records are missing")
    f.seek(record_at)
    record = f.read(_EOCD64.size)
    if record[:4] != b"PK\x06\x06":
        raise HostilePackage("the archive's zip64 end records are damaged")
    return record_at, _EOCD64.unpack(record)[8]  # the size of the central directory


def _count_entries(directory: bytes, limits: ArchiveLimits) -> int:
    """How many headers the directory holds, read one after another as zipfile will."""
    count, at = 0, 0
    while at < len(directory):
        if len(directory) - at < _ENTRY.size or directory[at : at + 4] != b"PK\x01\x02":
            raise HostilePackage("the archive's central directory is damaged")
        fields = _ENTRY.unpack_from(directory, at)
        at += (
            _ENTRY.size + fields[10] + fields[11] + fields[12]
        )  # name, extra field, comment lengths
        count += 1
        if count > limits.max_entries:
            break  # enough to refuse: no need to walk the rest
    return count
