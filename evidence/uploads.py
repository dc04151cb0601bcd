"""Resumable uploads by the tus 1.0 core protocol with the creation, expiration and checksum
extensions.

An upload's bytes accumulate in `<data>/uploads/<id>`; its offset is the
row's, advanced only after the bytes are fsynced, so a resumed upload never
skips or repeats bytes. When the last byte arrives the file is registered as
evidence (service.store_file, then register) and removed. Uploads that are not finished in
time expire and are deleted; they never become evidence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from evidence.errors import ChecksumMismatch, OffsetConflict, TooLarge, Truncated
from evidence.meta import UploadMeta
from evidence.models import Upload
from evidence.service import EvidenceService
from ledger.errors import InvalidInput, LianzhengError, NotFound
from ledger.events import as_utc
from ledger.storage import LogTransaction
from ledger.users import Action, Actor

# sha256 first; sha1 too because standard clients (tuspy) send it. It guards the transfer of one
# chunk
# only: the evidence itself is identified by the SHA-256 of the whole file.
CHECKSUM_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


class Uploads:
    def __init__(self, evidence: EvidenceService, directory: Path, lifetime: timedelta) -> None:
        self.evidence = evidence
        self.sessions = evidence.sessions
        self.dir = directory
        self.lifetime = lifetime

    def create(self, actor: Actor, length: int, pairs: dict[str, str]) -> Upload:
        """A new upload of `length` bytes; the metadata is checked now, not after gigabytes."""
        actor.require(Action.UPLOAD_EVIDENCE)
        if length > self.evidence.limits.max_bytes:
            raise TooLarge(
                f"Upload-Length {length:,} exceeds the limit of {self.evidence.limits.max_bytes:,} "
                f"bytes"
            )
        self.evidence.check_upload(actor, UploadMeta.parse(pairs))
        self.sweep()
        self.dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        upload = Upload(
            id=uuid.uuid4().hex,
            user_id=actor.user_id,
            length=length,
            offset=0,
            meta=json.dumps(pairs),
            created_at=now,
            expires_at=now + self.lifetime,
        )
        self._path(upload.id).touch()
        with self.sessions.begin() as session:
            session.add(upload)
        return upload

    def get(self, actor: Actor, upload_id: str) -> Upload:
        """The caller's own unexpired upload (finished ones name their evidence); NotFound for
        anyone else's."""
        with self.sessions() as session:
            upload = session.get(Upload, upload_id) if len(upload_id) == 32 else None
        if (
            upload is None
            or upload.user_id != actor.user_id
            or as_utc(upload.expires_at) < datetime.now(UTC)
        ):
            raise NotFound("no such upload (finished, expired, or not yours)")
        return upload

    def append(
        self,
        actor: Actor,
        upload_id: str,
        offset: int,
        chunks: Iterable[bytes],
        checksum: str | None,
    ) -> tuple[Upload, dict[str, Any] | None]:
        """PATCH: add bytes at `offset`; returns the upload and, once complete, the registered
        evidence."""
        upload = self.get(actor, upload_id)
        if (
            upload.offset == upload.length
            and upload.evidence_id is None
            and offset == upload.offset
        ):
            return upload, self._finish(
                actor, upload
            )  # complete but unregistered: a crash came between
        if upload.evidence_id is not None or offset != upload.offset:
            raise OffsetConflict(
                f"the upload stands at offset {upload.offset}, not {offset}", offset=upload.offset
            )
        algorithm, expected = _checksum(checksum)
        path, written = self._path(upload.id), 0
        digest = CHECKSUM_ALGORITHMS[algorithm or "sha256"]()
        with open(path, "r+b") as f:
            f.truncate(offset)  # bytes past the committed offset are from an interrupted PATCH
            f.seek(offset)
            try:
                for chunk in chunks:
                    if offset + written + len(chunk) > upload.length:
                        raise InvalidInput(f"the PATCH goes past Upload-Length {upload.length}")
                    f.write(chunk)
                    written += len(chunk)
                    if expected is not None:
                        digest.update(chunk)
            except Truncated:
                # The connection dropped: keep what arrived, so the client resumes from there (tus
                # core).
                # With a checksum the partial chunk cannot be verified, so it is dropped instead.
                if expected is None:
                    f.flush()
                    os.fsync(f.fileno())
                    self._advance(upload.id, offset + written)
                raise
            f.flush()
            os.fsync(f.fileno())  # durable before the offset says so
        if expected is not None and digest.digest() != expected:
            raise ChecksumMismatch(f"the chunk does not match its Upload-Checksum ({algorithm})")
        upload = self._advance(upload.id, offset + written)
        if upload.offset < upload.length:
            return upload, None
        registered = self._finish(actor, upload)
        return self.get(actor, upload.id), registered

    def _advance(self, upload_id: str, offset: int) -> Upload:
        with self.sessions.begin() as session:
            upload = session.get_one(Upload, upload_id)
            upload.offset = offset
        return upload

    def _finish(self, actor: Actor, upload: Upload) -> dict[str, Any]:
        """Register a complete upload. The row is marked in the registering transaction, so a crash
        before or after leaves it either unregistered (finished again on the next HEAD or PATCH) or
        registered, never both nor twice. A refused file ends the upload: the client starts anew."""
        path = self._path(upload.id)

        def register(tx: LogTransaction) -> dict[str, Any]:
            registered = self.evidence.register(tx, actor, stored)
            tx.session.get_one(Upload, upload.id).evidence_id = registered["evidence"][
                "evidence_id"
            ]
            return registered

        try:
            stored = self.evidence.store_file(
                actor, UploadMeta.parse(json.loads(upload.meta)), path
            )
            registered = self.evidence.cases.write(actor, None, register)
        except LianzhengError:
            with self.sessions.begin() as session:
                session.delete(session.get_one(Upload, upload.id))
            path.unlink(missing_ok=True)
            raise
        path.unlink(missing_ok=True)
        return registered

    def finish_if_complete(self, actor: Actor, upload: Upload) -> Upload:
        """HEAD of an upload whose last byte arrived but whose registration a crash cut short:
        finish it."""
        if upload.offset == upload.length and upload.evidence_id is None:
            self._finish(actor, upload)
            return self.get(actor, upload.id)
        return upload

    def sweep(self, now: datetime | None = None) -> int:
        """Delete expired uploads and their bytes; returns how many."""
        now = now or datetime.now(UTC)
        with self.sessions.begin() as session:
            expired = list(session.scalars(select(Upload).where(Upload.expires_at < now)))
            for upload in expired:
                session.delete(upload)
        for upload in expired:
            self._path(upload.id).unlink(missing_ok=True)
        return len(expired)

    def _path(self, upload_id: str) -> Path:
        return self.dir / upload_id


def _checksum(header: str | None) -> tuple[str | None, bytes | None]:
    """tus checksum extension: `Upload-Checksum: sha256 <base64 digest>`."""
    if header is None:
        return None, None
    algorithm, _, value = header.partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidInput(
            f"Upload-Checksum algorithm {algorithm[:20]!r} is not supported; use sha256 or sha1"
        )
    try:
        return algorithm, base64.b64decode(value, validate=True)
    except ValueError:
        raise InvalidInput("Upload-Checksum value is not base64") from None
