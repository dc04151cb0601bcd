"""Logs and witnesses for tests: an in-memory log that signs its checkpoints, and witness folders
served on ports the kernel picks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, witness
from ledger.checkpoint import Checkpoint, CheckpointSigner
from ledger.witness_http import make_server
from ledger.witness_protocol import request_body
from tests.support.http import in_thread
from tests.support.trust import ORIGIN


@dataclass
class MemoryLog:
    """A log held in memory: leaves, signed checkpoints and consistency proofs."""

    origin: str = ORIGIN
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    leaves: list[bytes] = field(default_factory=list)

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes_raw()

    def append(self, count: int, tag: str = "") -> int:
        start = len(self.leaves)
        self.leaves += [merkle.leaf_hash(f"{tag}{start + i}".encode()) for i in range(count)]
        return len(self.leaves)

    def root(self, size: int) -> bytes:
        return merkle.root_from_leaves(self.leaves[:size])

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return CheckpointSigner(self.origin, self.key).sign(size, self.root(size))

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.origin, size, self.root(size))

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0 or old >= new:
            return []
        ranges = merkle.consistency_ranges(old, new)
        return [merkle.root_from_leaves(self.leaves[s:e]) for s, e in ranges]

    def request(self, old: int, new: int | None = None) -> bytes:
        new = len(self.leaves) if new is None else new
        return request_body(old, self.proof(old, new), self.note(new))


def new_witness(folder: Path, name: str, *logs: MemoryLog) -> witness.Witness:
    """A witness made in `folder` that knows `logs`."""
    witness.init(folder, name)
    opened = witness.Witness.open(folder)
    for log in logs:
        opened.store.add_log(log.origin, log.public_key)
    return opened


@contextmanager
def serving(opened: witness.Witness) -> Iterator[str]:
    """The witness served over HTTP on 127.0.0.1 while the block runs; yields its base URL."""
    with in_thread(make_server(opened, "127.0.0.1", 0)) as port:
        yield f"http://127.0.0.1:{port}"
