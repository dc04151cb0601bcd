"""Signing keys over time: the private keys in files, and in the database which key signs what.

A key file is never overwritten (ledger/keys.py). Rotation writes the new key
into the deployment's rotated-keys folder (`<data>/keys`, writable even where
the configured key is a read-only secret mount), named after the configured
file as `<stem>.<key id><suffix>`, and closes the old key's
period in `log_keys` where the new one begins: at the next tree size for
checkpoint keys, at the rotation's time for package keys. Every process signs
with the key whose period is open, read inside the transaction that signs, so
a rotation by another process takes effect at once; a rotated-out key keeps
verifying what it signed (DESIGN.md: Trust root).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ledger import db, keys, sm2
from ledger.errors import ConfigurationError
from ledger.events import as_utc
from ledger.models import LogKey
from ledger.trust import package_key_id

CHECKPOINT = "checkpoint"
PACKAGE = "package"
# The 国密 keys sign beside the Ed25519 ones, never instead (DESIGN.md: 国密 digests and
# signatures): each has periods of its own, rotated on its own.
CHECKPOINT_SM2 = "checkpoint-sm2"
PACKAGE_SM2 = "package-sm2"
BY_SIZE = (CHECKPOINT, CHECKPOINT_SM2)  # the kinds whose periods are tree sizes, not times

K = TypeVar("K")


@dataclass(frozen=True)
class KeyFormat(Generic[K]):
    """How the private keys of one algorithm are read, made, written and named."""

    algorithm: str
    load: Callable[[Path, bool], K]
    generate: Callable[[], K]
    pem: Callable[[K], bytes]
    public: Callable[[K], bytes]


ED25519 = KeyFormat[Ed25519PrivateKey](
    "ed25519",
    keys.ed25519_key,
    Ed25519PrivateKey.generate,
    keys.pem_of,
    lambda key: key.public_key().public_bytes_raw(),
)
SM2 = KeyFormat[sm2.PrivateKey]("sm2", keys.sm2_key, sm2.generate, sm2.pem_of, sm2.public_of)


class KeyRing(Generic[K]):
    """The private keys of one kind: the configured file, and the rotated ones in `rotated_dir`."""

    def __init__(
        self, configured: Path, create: bool, rotated_dir: Path, key_format: KeyFormat[K]
    ) -> None:
        self.configured = configured
        self.rotated_dir = rotated_dir
        self.format = key_format
        self.first = key_format.load(configured, create)
        self._keys: dict[bytes, K] = {}
        self.rescan()

    @property
    def algorithm(self) -> str:
        return self.format.algorithm

    def public(self, key: K) -> bytes:
        """The raw public key of one of this ring's private keys."""
        return self.format.public(key)

    def paths(self) -> list[Path]:
        """Every key file of the ring, the configured one first."""
        return [self.configured, *rotated_paths(self.configured, self.rotated_dir)]

    def rescan(self) -> None:
        for path in self.paths():
            key = self.format.load(path, False)
            self._keys[self.public(key)] = key

    def private(self, public_key: bytes) -> K:
        """The private half of `public_key`; ConfigurationError if no key file holds it."""
        if public_key not in self._keys:
            self.rescan()  # another process may have rotated a key in
        if public_key not in self._keys:
            raise ConfigurationError(
                f"no key file beside {self.configured} holds the key "
                f"{public_key.hex()[:16]}… that the key history names as current"
            )
        return self._keys[public_key]

    def add_new(self) -> K:
        """A fresh key, written beside the configured one (mode 0600, never over another file)."""
        key = self.format.generate()
        public = self.public(key)
        name = f"{self.configured.stem}.{package_key_id(public)}{self.configured.suffix}"
        keys.write_new(self.rotated_dir / name, self.format.pem(key))
        self._keys[public] = key
        return key


def rotated_paths(configured: Path, rotated_dir: Path) -> list[Path]:
    """The rotated key files of the key configured at `configured`, oldest name first."""
    pattern = f"{configured.stem}.*{configured.suffix}"
    return sorted(p for p in rotated_dir.glob(pattern) if p != configured)


@dataclass(frozen=True)
class Start:
    """Where a first key's period begins: a tree size for checkpoint keys, a time for package
    keys."""

    size: int | None = None
    time: datetime | None = None


def periods(session: Session, kind: str) -> list[LogKey]:
    """Every period of `kind`, oldest first."""
    return list(session.scalars(select(LogKey).where(LogKey.kind == kind).order_by(LogKey.id)))


def current(session: Session, kind: str) -> LogKey | None:
    """The open period of `kind`: the key that signs now."""
    query = select(LogKey).where(LogKey.kind == kind, _open(kind))
    return session.scalars(query).one_or_none()


def open_by_size(session: Session) -> dict[str, bytes]:
    """The public keys of the open checkpoint-key periods (Ed25519 and SM2), by kind, in one
    statement: what signs the next checkpoint. Every commit asks, so the text goes to the driver
    as it is (ledger/db.py `driver_rows`)."""
    rows = db.driver_rows(session, _OPEN_BY_SIZE, BY_SIZE)
    return {kind: bytes(public_key) for kind, public_key in rows}


_OPEN_BY_SIZE = (
    "SELECT kind, public_key FROM log_keys WHERE kind IN (?, ?) AND valid_until_size IS NULL"
)


def _open(kind: str) -> ColumnElement[bool]:
    return LogKey.valid_until_size.is_(None) if kind in BY_SIZE else LogKey.valid_until.is_(None)


def ensure(session: Session, kind: str, ring: KeyRing[K], start: Start) -> LogKey:
    """The open period of `kind`, recording the ring's first key from `start` if there is none yet.

    Call it holding the append lock, so two processes never record two first keys.
    """
    found = current(session, kind)
    if found is not None:
        return found
    row = LogKey(
        kind=kind,
        algorithm=ring.algorithm,
        public_key=ring.public(ring.first),
        valid_from_size=start.size,
        valid_from=start.time,
    )
    session.add(row)
    session.flush()
    return row


def rotate(session: Session, kind: str, ring: KeyRing[K], new_key: K, boundary: Start) -> LogKey:
    """Close the open period of `kind` at `boundary` and open the new key's there (append lock
    held)."""
    old = current(session, kind)
    if old is None:
        raise ConfigurationError(f"no {kind} key is in use yet; nothing to rotate")
    if _empty(old, boundary):
        raise ConfigurationError(
            f"the current {kind} key's period would be empty: it has not signed "
            "anything yet; rotate it after it has been used"
        )
    old.valid_until_size, old.valid_until = boundary.size, boundary.time
    row = LogKey(
        kind=kind,
        algorithm=ring.algorithm,
        public_key=ring.public(new_key),
        valid_from_size=boundary.size,
        valid_from=boundary.time,
    )
    session.add(row)
    session.flush()
    return row


def _empty(old: LogKey, boundary: Start) -> bool:
    """Whether closing `old` at `boundary` leaves it a period with nothing in it."""
    if boundary.size is not None:
        return (old.valid_from_size or 0) >= boundary.size
    return (
        old.valid_from is not None
        and boundary.time is not None
        and as_utc(old.valid_from) >= boundary.time
    )
