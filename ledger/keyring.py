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

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ledger import keys
from ledger.errors import ConfigurationError
from ledger.events import as_utc
from ledger.models import LogKey
from ledger.trust import package_key_id

CHECKPOINT = "checkpoint"
PACKAGE = "package"


class KeyRing:
    """The private keys of one kind: the configured file, and the rotated ones in `rotated_dir`."""

    def __init__(self, configured: Path, create: bool, rotated_dir: Path) -> None:
        self.configured = configured
        self.rotated_dir = rotated_dir
        self.first = keys.ed25519_key(configured, create=create)
        self._keys: dict[bytes, Ed25519PrivateKey] = {}
        self.rescan()

    def paths(self) -> list[Path]:
        """Every key file of the ring, the configured one first."""
        return [self.configured, *rotated_paths(self.configured, self.rotated_dir)]

    def rescan(self) -> None:
        for path in self.paths():
            key = keys.ed25519_key(path, create=False)
            self._keys[key.public_key().public_bytes_raw()] = key

    def private(self, public_key: bytes) -> Ed25519PrivateKey:
        """The private half of `public_key`; ConfigurationError if no key file holds it."""
        if public_key not in self._keys:
            self.rescan()  # another process may have rotated a key in
        if public_key not in self._keys:
            raise ConfigurationError(
                f"no key file beside {self.configured} holds the key "
                f"{public_key.hex()[:16]}… that the key history names as current"
            )
        return self._keys[public_key]

    def add_new(self) -> Ed25519PrivateKey:
        """A fresh key, written beside the configured one (mode 0600, never over another file)."""
        key = Ed25519PrivateKey.generate()
        key_id = package_key_id(key.public_key().public_bytes_raw())
        path = self.rotated_dir / f"{self.configured.stem}.{key_id}{self.configured.suffix}"
        keys.write_new(path, keys.pem_of(key))
        self._keys[key.public_key().public_bytes_raw()] = key
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


def _open(kind: str) -> ColumnElement[bool]:
    return LogKey.valid_until_size.is_(None) if kind == CHECKPOINT else LogKey.valid_until.is_(None)


def ensure(session: Session, kind: str, ring: KeyRing, start: Start) -> LogKey:
    """The open period of `kind`, recording the ring's first key from `start` if there is none yet.

    Call it holding the append lock, so two processes never record two first keys.
    """
    found = current(session, kind)
    if found is not None:
        return found
    row = LogKey(
        kind=kind,
        algorithm="ed25519",
        public_key=ring.first.public_key().public_bytes_raw(),
        valid_from_size=start.size,
        valid_from=start.time,
    )
    session.add(row)
    session.flush()
    return row


def rotate(session: Session, kind: str, new_key: Ed25519PrivateKey, boundary: Start) -> LogKey:
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
        algorithm="ed25519",
        public_key=new_key.public_key().public_bytes_raw(),
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
