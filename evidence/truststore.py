"""A verifier's trust store: the roots a court or a lawyer decided to trust, one file each.

`<store>/<fingerprint>.json` holds a root exactly as it was received; a root
is added only after its fingerprint was confirmed against a copy obtained out
of band (on paper, say), or moved forward from a trusted root by a successor
that root's package key signed (ledger/trust.py). Lookups go by log origin;
one root per origin. No database, no network: the CLI fetches, this stores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InvalidInput
from ledger.trust import TrustRoot, TrustRoots


@dataclass(frozen=True)
class Stored:
    root: TrustRoot
    path: Path
    source: str | None  # where it was fetched from: `update` asks there again


class TrustStore:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def stored(self) -> list[Stored]:
        """Every trusted root; a damaged file is an error, never silently skipped."""
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("*.json")):
            root = TrustRoot.parse(path.read_bytes(), str(path))
            if root.fingerprint != path.stem:
                raise InvalidInput(
                    f"{path} holds root {root.fingerprint}, not the one its name says"
                )
            source = path.with_suffix(".source")
            found.append(
                Stored(root, path, source.read_text().strip() if source.exists() else None)
            )
        return found

    def roots(self) -> TrustRoots:
        return TrustRoots(s.root for s in self.stored())

    def for_origin(self, origin: str) -> Stored | None:
        return next((s for s in self.stored() if s.root.log_origin == origin), None)

    def find(self, ident: str) -> Stored | None:
        """A stored root by fingerprint (or a prefix of at least 8 hex digits) or by log origin."""
        ident = ident.strip().lower()
        for s in self.stored():
            if s.root.log_origin.lower() == ident or (
                len(ident) >= 8 and s.root.fingerprint.startswith(ident)
            ):
                return s
        return None

    def save(self, data: bytes, root: TrustRoot, source: str | None) -> Path:
        """Keep `data` (the root's exact bytes) under its fingerprint, written whole or not at
        all."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.dir / f"{root.fingerprint}.json"
        _write_atomically(path, data)
        if source:
            _write_atomically(path.with_suffix(".source"), source.encode() + b"\n")
        return path

    def remove(self, stored: Stored) -> None:
        stored.path.unlink()
        stored.path.with_suffix(".source").unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)
