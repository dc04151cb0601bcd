"""A witness (DESIGN.md: Witnesses): the service a court, a notary office (公证处) or a 司法局 runs
so that the agency's log cannot show two histories.

Its folder holds its Ed25519 key (`witness-ed25519.pem`, mode 0600), its name (`name`) and one
SQLite file: the logs it knows with their keys, the checkpoint it last cosigned per log, and the
split views it was shown. Checking a request against the held checkpoint and storing the new one
happen in one write transaction, committed (fsynced) before the cosignature is made: a rollback
race or a crash between storing and answering never yields two cosigned roots for one size.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import cosignature, keys
from ledger.equivocation import EQUIVOCATION_FORMAT
from ledger.errors import ConfigurationError, NotFound
from ledger.events import format_time
from ledger.witness_protocol import (
    AddCheckpoint,
    Held,
    Inconsistent,
    judge,
    parse_request,
)

KEY_FILE = "witness-ed25519.pem"
NAME_FILE = "name"
DATABASE = "witness.db"

_NAME = re.compile(r"[^\s+\u2014]{1,255}")  # a signed-note key name: no spaces, no plus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT NOT NULL, public_key BLOB NOT NULL, PRIMARY KEY (origin, public_key));
CREATE TABLE IF NOT EXISTS held (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,
    cosigned_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS equivocations (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, held_note TEXT NOT NULL,
    shown_note TEXT NOT NULL, old_size INTEGER NOT NULL, proof TEXT NOT NULL,
    reason TEXT NOT NULL, seen_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Identity:
    """What a log operator needs to list the witness in its trust root."""

    name: str
    public_key: bytes

    def to_json(self) -> dict[str, str]:
        key_id = cosignature.cosigner_key_id(self.name, self.public_key).hex()
        return {"name": self.name, "public_key": self.public_key.hex(), "key_id": key_id}


def init(folder: Path, name: str) -> Identity:
    """Make a new witness in `folder`: its key (0600) and its name. Refuses an existing one."""
    if not _NAME.fullmatch(name):
        raise ConfigurationError(f"a witness name has no spaces or '+', got {name!r}")
    keys.write_new(folder / KEY_FILE, keys.new_ed25519_pem())
    (folder / NAME_FILE).write_text(name + "\n")
    WitnessStore(folder / DATABASE).close()
    return Witness.open(folder).identity


class WitnessStore:
    """The witness's SQLite file. One connection, used under one lock; each change is a
    `BEGIN IMMEDIATE` transaction, so a second process on the same file waits its turn."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # the commit is on disk before we answer
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except _Committed:
                self._db.execute("COMMIT")  # a refusal that kept evidence: the evidence stays
                raise
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add_log(self, origin: str, public_key: bytes) -> None:
        """Trust `public_key` (raw Ed25519) to sign checkpoints of `origin`."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO logs VALUES (?, ?)", (origin, public_key))

    def log_keys(self, db: sqlite3.Connection, origin: str) -> list[bytes] | None:
        rows = db.execute("SELECT public_key FROM logs WHERE origin = ?", (origin,)).fetchall()
        return [bytes(r[0]) for r in rows] or None

    def held(self, origin: str) -> Held | None:
        """The checkpoint last cosigned for `origin`."""
        with self._lock:
            return self._held(self._db, origin)

    def _held(self, db: sqlite3.Connection, origin: str) -> Held | None:
        row = db.execute("SELECT size, root, note FROM held WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else Held(row[0], bytes(row[1]), row[2])

    def advance(self, request: AddCheckpoint, origin: str, cosign: Callable[[str], str]) -> str:
        """Check `request` against the held checkpoint and hold its checkpoint instead, with the
        cosignature line `cosign(body)` makes, in one transaction; the line once committed. A
        split view is kept as an equivocation record, and the refusal raised."""
        with self._transaction() as db:
            held = self._held(db, origin)
            try:
                checkpoint = judge(request, self.log_keys(db, origin), held)
            except Inconsistent as refusal:
                if held is not None:
                    self._keep_equivocation(db, origin, held, request, refusal.message)
                raise _Committed(refusal) from None
            line = cosign(request.note.partition("\n\n")[0] + "\n")
            db.execute(
                "INSERT INTO held VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                "size = excluded.size, root = excluded.root, note = excluded.note, "
                "cosigned_at = excluded.cosigned_at",
                (origin, checkpoint.size, checkpoint.root, request.note + line, _now()),
            )
        return line

    def origins(self) -> list[str]:
        """The logs this witness holds a checkpoint of."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT origin FROM held ORDER BY origin")]

    def cosigned_note(self, origin: str) -> str | None:
        """The checkpoint last cosigned for `origin`, with the log's and this witness's lines."""
        held = self.held(origin)
        return None if held is None else held.note

    def _keep_equivocation(
        self, db: sqlite3.Connection, origin: str, held: Held, request: AddCheckpoint, why: str
    ) -> None:
        proof = json.dumps([h.hex() for h in request.proof])
        db.execute(
            "INSERT INTO equivocations (origin, held_note, shown_note, old_size, proof, reason, "
            "seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (origin, held.note, request.note, request.old_size, proof, why, _now()),
        )

    def equivocations(self) -> list[dict[str, Any]]:
        """Every split view this witness was shown, oldest first (ids, logs and times)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, origin, reason, seen_at FROM equivocations ORDER BY id"
            ).fetchall()
        return [{"id": i, "origin": o, "reason": r, "seen_at": t} for i, o, r, t in rows]

    def equivocation(self, record_id: int, witness: str) -> dict[str, Any]:
        """One split view as a record a court can check (`lianzheng verify-equivocation`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT origin, held_note, shown_note, old_size, proof, reason, seen_at "
                "FROM equivocations WHERE id = ?",
                (record_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no equivocation record {record_id}")
        origin, held_note, shown_note, old_size, proof, reason, seen_at = row
        return {
            "format": EQUIVOCATION_FORMAT,
            "witness": witness,
            "origin": origin,
            "held": held_note,
            "shown": shown_note,
            "old_size": old_size,
            "proof": json.loads(proof),
            "reason": reason,
            "seen_at": seen_at,
        }


class _Committed(Exception):
    """Carries a refusal out of a transaction that must still commit (it kept evidence)."""

    def __init__(self, refusal: Inconsistent) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class Witness:
    """A witness: its name, its key and its store."""

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        store: WitnessStore,
        on_step: Callable[[str], None] = lambda step: None,
    ) -> None:
        self.name = name
        self.private_key = private_key
        self.store = store
        self.identity = Identity(name, private_key.public_key().public_bytes_raw())
        # fault injection in tests: called at "after_commit", between holding and answering
        self.on_step = on_step

    @classmethod
    def open(cls, folder: Path, on_step: Callable[[str], None] = lambda step: None) -> Witness:
        """The witness made by `init` in `folder`."""
        try:
            name = (folder / NAME_FILE).read_text().strip()
        except OSError:
            raise ConfigurationError(
                f"no witness in {folder}: run `lianzheng witness init` first"
            ) from None
        private_key = keys.ed25519_key(folder / KEY_FILE, create=False)
        return cls(name, private_key, WitnessStore(folder / DATABASE), on_step)

    def add_checkpoint(self, body: bytes) -> str:
        """tlog-witness add-checkpoint: the cosignature line for the request's checkpoint, once
        the checkpoint is held durably; WitnessRefused with its status otherwise."""
        request = parse_request(body)
        origin = request.note.split("\n", 1)[0]
        try:
            line = self.store.advance(request, origin, self._cosign)
        except _Committed as kept:
            raise kept.refusal from None
        self.on_step("after_commit")
        return line

    def _cosign(self, checkpoint_body: str) -> str:
        # tlog-witness: the timestamp MUST NOT be zero; POSIX seconds now.
        return cosignature.cosign(self.private_key, self.name, checkpoint_body, int(time.time()))


def _now() -> str:
    return format_time(datetime.now(UTC))
