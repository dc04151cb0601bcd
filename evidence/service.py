"""Evidence ingest and access: register a file as a case's evidence event, and log every access to
it.

Ingest order (a crash at any point loses nothing acknowledged and leaves no
record without its blob): the bytes stream into a temporary file while they
are hashed; the type is sniffed, the declared hash and any device signature
checked, the media probed, all before the blob is committed (fsync, rename);
only then are the evidence event and its row written, in one transaction.
A refusal before the commit deletes the temporary file: no blob, no leaf.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256 as sha256_of
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import media
from evidence.blobstore import Blob, BlobStore, BlobWriter
from evidence.devices import DeviceRegistry
from evidence.digests import Digested
from evidence.errors import ChecksumMismatch, Purged, TamperedBlob, Truncated, UnsupportedMedia
from evidence.integrity import check_item
from evidence.meta import UploadMeta, check_not_future
from evidence.models import EvidenceItem
from evidence.projection import GAP_REASONS
from evidence.recipients import Recipients
from evidence.retention_service import case_retention, refuse_purged
from evidence.sniff import ALLOWED, VIDEO, media_type
from ledger import jsontext
from ledger.cases import CaseService
from ledger.errors import CaseClosed, InvalidInput, NotFound, StoredStateMismatch
from ledger.event_types import EVIDENCE_CUSTODY, EVIDENCE_REGISTERED, GAP_ACKNOWLEDGED
from ledger.events import Event, as_utc, format_time, parse_time
from ledger.lifecycle import State
from ledger.models import Leaf
from ledger.projection import INTAKE
from ledger.storage import LogTransaction, case_leaves
from ledger.users import Action, Actor


@dataclass(frozen=True)
class Stored:
    """A file committed to the blob store and checked, not yet in the log
    (`EvidenceService.store`)."""

    meta: UploadMeta
    blob: Blob
    media_type: str
    media_json: str  # the probe's facts, canonical JSON
    signed_by: str | None  # the device whose signature checked, if any
    poster_sha256: str | None
    derived: tuple[EvidenceItem, dict[str, Any]] | None = None  # the original and the operation


LATE_AFTER = timedelta(hours=24)
CUSTODY_ACTIONS = ("view", "download", "playback", "export", "share")
# Why evidence was accessed, from a fixed list: free text could carry a person's name into the log.
CUSTODY_REASONS = (
    "case-review",
    "legal-review",
    "supervision",
    "hearing",
    "reconsideration",
    "litigation",
    "party-request",
    "audit",
    "investigation",
)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    clock_skew: timedelta = timedelta(minutes=5)  # how far a device's clock may run ahead of ours


class EvidenceService:
    """Evidence of cases: ingest, derived copies, reads with custody, the custody trail."""

    def __init__(
        self, cases: CaseService, blobs: BlobStore, devices: DeviceRegistry, limits: Limits
    ) -> None:
        self.cases = cases
        self.sessions = cases.sessions
        self.blobs = blobs
        self.devices = devices
        self.limits = limits
        self.recipients = Recipients(cases)

    # --- ingest --------------------------------------------------------------------

    def ingest(
        self, actor: Actor, meta: UploadMeta, chunks: Iterable[bytes], length: int | None
    ) -> dict[str, Any]:
        """Stream `chunks` in as evidence of `meta.case_no`; `length` is the size the client
        declared."""
        stored = self.store(actor, meta, chunks, length)
        return self.cases.write(actor, None, lambda tx: self.register(tx, actor, stored))

    def store(
        self, actor: Actor, meta: UploadMeta, chunks: Iterable[bytes], length: int | None
    ) -> Stored:
        """The first half of an ingest, before any log transaction: the bytes checked and committed
        as a blob, probed, and a video's poster made. `register` then logs it, in the caller's
        transaction (a finished resumable upload marks itself finished in that same transaction)."""
        actor.require(Action.UPLOAD_EVIDENCE)
        self.check_upload(actor, meta)
        blob, kind, facts, device = self._store(meta, lambda w: _write_all(w, chunks), length)
        return self._stored(meta, blob, kind, facts, device)

    def register(self, tx: LogTransaction, actor: Actor, stored: Stored) -> dict[str, Any]:
        """Log a stored file as evidence (its registration event) and add its row, in `tx`."""
        return self._record(tx, actor, stored)

    def _stored(
        self,
        meta: UploadMeta,
        blob: Blob,
        kind: str,
        facts: dict[str, Any],
        device: str | None,
        derived: tuple[EvidenceItem, dict[str, Any]] | None = None,
    ) -> Stored:
        poster = self._poster(blob.sha256, facts) if kind in VIDEO else None
        return Stored(
            meta, blob, kind, jsontext.canonical_bytes(facts).decode(), device, poster, derived
        )

    def _store(
        self, meta: UploadMeta, fill: Callable[[BlobWriter], None], length: int | None
    ) -> tuple[Blob, str, dict[str, Any], str | None]:
        """Write (`fill`), hash and check the bytes, then commit the blob; a refusal leaves no blob
        behind."""
        writer = self.blobs.writer(self.limits.max_bytes)
        try:
            fill(writer)
            if length is not None and writer.size != length:
                raise Truncated(f"the body ended after {writer.size:,} of {length:,} bytes")
            kind, facts, device = self._check(meta, writer.digested(), writer.head, writer.staged())
        except BaseException:
            writer.abort()
            raise
        return writer.commit(), kind, facts, device

    def store_file(self, actor: Actor, meta: UploadMeta, path: Path) -> Stored:
        """`store` for a complete local file (a finished resumable upload), taken by the blob
        store without a second copy where it can."""
        actor.require(Action.UPLOAD_EVIDENCE)
        self.check_upload(actor, meta)
        size = path.stat().st_size
        blob, kind, facts, device = self._store(meta, lambda w: w.take(path), size)
        return self._stored(meta, blob, kind, facts, device)

    def _check(
        self, meta: UploadMeta, digested: Digested, head: bytes, temp: Path
    ) -> tuple[str, dict[str, Any], str | None]:
        digest = digested.sha256
        kind = media_type(head)
        if kind is None or kind not in ALLOWED:
            raise UnsupportedMedia(
                "the content is not of an allowed type (video, audio, JPEG, PNG or PDF)"
            )
        if meta.sha256 is not None and meta.sha256 != digest:
            raise ChecksumMismatch(f"the bytes hash to {digest}, the client declared {meta.sha256}")
        if meta.sm3 is not None and meta.sm3 != digested.sm3:
            raise ChecksumMismatch(
                f"the bytes' SM3 is {digested.sm3}, the client declared {meta.sm3}"
            )
        device = meta.device if meta.device and self.devices.check_signature(meta, digest) else None
        facts = media.probe(temp, kind)
        if meta.gps is not None:
            facts["gps"] = {"lat": meta.gps[0], "lon": meta.gps[1]}
        return kind, facts, device

    def check_upload(self, actor: Actor, meta: UploadMeta) -> None:
        """Everything about an upload that can be refused before its first byte is read."""
        if meta.intake:
            self.devices.check_intake(actor, meta.device)
        else:
            self.check_case(actor, meta.case_no)
        check_not_future(meta, datetime.now(UTC), self.limits.clock_skew)

    def check_case(self, actor: Actor, case_no: str) -> None:
        """NotFound unless the actor may see the case, CaseClosed once it is closed or withdrawn
        (checked before any byte is read)."""
        with self.sessions() as session:
            _, logged = self.cases.checked_case(session, actor, case_no)
        state = logged.state
        if state in (State.CLOSED.value, State.WITHDRAWN.value):
            raise CaseClosed(f"case {case_no} is {state}: no evidence is added to a closed case")

    def _record(self, tx: LogTransaction, actor: Actor, stored: Stored) -> dict[str, Any]:
        meta, blob, media_json, derived = (
            stored.meta,
            stored.blob,
            stored.media_json,
            stored.derived,
        )
        device, poster = stored.signed_by, stored.poster_sha256
        kind = stored.media_type
        self._refuse_deleted_meanwhile(tx.session, blob.sha256, poster)
        now = datetime.now(UTC)
        item = EvidenceItem(
            id="EV-" + uuid.uuid4().hex[:20],
            case_no=meta.case_no,
            sha256=blob.sha256,
            sm3=blob.sm3 or None,
            size=blob.size,
            media_type=kind,
            officer=actor.username,
            device=meta.device,
            device_signed=int(device is not None),
            captured_at=meta.captured_at,
            registered_at=now,
            late=int(now - meta.captured_at > LATE_AFTER),
            media=media_json,
            media_sha256=sha256_of(media_json.encode()).hexdigest(),
            segment_seq=meta.segment_seq,
            segment_prev=meta.segment_prev,
            continuity=self.devices.continuity(tx.session, meta)
            if meta.segment_seq is not None
            else None,
            derived_from=derived[0].id if derived else None,
            operation=jsontext.canonical_bytes(derived[1]).decode() if derived else None,
            poster_sha256=poster,
            leaf_index=-1,
        )
        payload = _payload(item, derived)
        written = (
            self.cases.append_chain_event(tx, actor, INTAKE, EVIDENCE_REGISTERED, payload)
            if meta.intake
            else self.cases.append_event(tx, actor, meta.case_no, EVIDENCE_REGISTERED, payload)
        )
        item.leaf_index = written["index"]
        item.registered_at = parse_time(
            written["event"]["time"]
        )  # the event's own time, to the microsecond
        tx.session.add(item)
        return {**written, "evidence": item_json(item)}

    def _refuse_deleted_meanwhile(self, session: Session, sha256: str, poster: str | None) -> None:
        """Raise Purged if a retention run deleted the bytes after they were stored here: it
        deletes only the blobs of purged items, so only bytes registered before can have gone.
        Checked under the append lock, as the run deletes under it (retention_service.py)."""
        registered = select(EvidenceItem.id).where(EvidenceItem.sha256 == sha256).limit(1)
        if session.scalar(registered) is None:
            return
        for blob in (sha256, poster):
            if blob is not None and not self.blobs.exists(blob):
                raise Purged(
                    f"blob {blob} was deleted by a retention run while this upload was "
                    "registered (the same bytes were purged evidence): send the file again"
                )

    def _poster(self, sha256: str, facts: dict[str, Any]) -> str | None:
        with self.blobs.scratch() as folder, self.blobs.local_file(sha256) as source:
            out = folder / "poster.jpg"
            if not media.poster(source, out, facts.get("duration_s")):
                return None
            writer = self.blobs.writer(self.limits.max_bytes)
            writer.write(out.read_bytes())
            return writer.commit().sha256

    # --- derived copies ------------------------------------------------------------

    def derive(self, actor: Actor, evidence_id: str, operation: Any) -> dict[str, Any]:
        """A trimmed or blurred copy as its own evidence item naming its original and the
        operation."""
        actor.require(Action.DERIVE_EVIDENCE)
        operation = media.validate_operation(operation)
        original = self.readable(actor, evidence_id)
        self.check_case(actor, original.case_no)
        if original.media_type not in VIDEO:
            raise UnsupportedMedia(
                f"only video can be trimmed or blurred, not {original.media_type}"
            )
        has_audio = any(s.get("type") == "audio" for s in media_facts(original).get("streams", []))
        with self.blobs.scratch() as folder, self.blobs.local_file(original.sha256) as source:
            out = folder / "derived.mp4"
            media.derive(source, out, operation, has_audio)
            meta = UploadMeta(case_no=original.case_no, captured_at=as_utc(original.captured_at))
            with open(out, "rb") as f:
                chunks = iter(lambda: f.read(1 << 20), b"")
                blob, kind, facts, _ = self._store(meta, lambda w: _write_all(w, chunks), None)
        stored = self._stored(meta, blob, kind, facts, None, (original, operation))
        return self.cases.write(actor, None, lambda tx: self.register(tx, actor, stored))

    # --- reading, with custody -----------------------------------------------------

    def read(
        self, actor: Actor, evidence_id: str, action: str, reason: str, recipient: str | None = None
    ) -> EvidenceItem:
        """The item, after its custody event (who, role, when, which, why, to whom) is in the
        log."""
        if action not in CUSTODY_ACTIONS:
            raise ValueError(f"unknown custody action {action}")
        if action == "share":
            actor.require(Action.SHARE_EVIDENCE)
        item = self.readable(actor, evidence_id)
        if reason not in CUSTODY_REASONS:
            raise InvalidInput(f"say why with reason= one of {', '.join(CUSTODY_REASONS)}")
        if action != "view":  # the record stays readable; the bytes of a purged item are gone
            self.refuse_purged(item)
        payload = {
            "evidence_id": item.id,
            "sha256": item.sha256,
            "action": action,
            "role": actor.role.value,
            "reason": reason,
        }
        if recipient is not None:
            payload["recipient"] = recipient

        def work(tx: LogTransaction) -> dict[str, Any]:
            if recipient is not None:
                self.recipients.check(tx.session, recipient)
            return self.cases.append_event(tx, actor, item.case_no, EVIDENCE_CUSTODY, payload)

        self.cases.write(actor, None, work)
        return item

    def refuse_purged(self, item: EvidenceItem) -> None:
        """Raise Purged if the log says the item's bytes went under a retention rule."""
        with self.sessions() as session:
            state = case_retention(session, item.case_no).items.get(item.id)
        if state is not None:
            refuse_purged(state)

    def check_size(self, item: EvidenceItem) -> None:
        """Refuse at once to serve a blob that is missing or no longer has the registered size."""
        if not self.blobs.exists(item.sha256):
            self.refuse_purged(item)  # gone by rule, not by accident
            problem = "is missing from the blob store"
        elif self.blobs.size(item.sha256) != item.size:
            problem = f"has {self.blobs.size(item.sha256):,} bytes, {item.size:,} were registered"
        else:
            return
        raise TamperedBlob(f"blob {item.sha256} of evidence {item.id} {problem}")

    def log_export(self, actor: Actor, case_no: str, reason: str) -> tuple[list[EvidenceItem], int]:
        """An `export` custody event for every item of the case, in one transaction; the items, and
        the index of the case's last leaf before them.

        Courts may export a package without the right to browse evidence one item at a time.
        """
        actor.require(Action.EXPORT_PACKAGE)
        if reason not in CUSTODY_REASONS:
            raise InvalidInput(f"say why with a reason, one of {', '.join(CUSTODY_REASONS)}")

        def work(tx: LogTransaction) -> dict[str, Any]:
            session = tx.session
            self.cases.visible_case(session, actor, case_no)
            last = session.scalars(
                select(Leaf.leaf_index)
                .where(Leaf.case_no == case_no)
                .order_by(Leaf.leaf_index.desc())
                .limit(1)
            ).one()
            items = list(
                session.scalars(
                    select(EvidenceItem)
                    .where(EvidenceItem.case_no == case_no)
                    .order_by(EvidenceItem.leaf_index)
                )
            )
            states = case_retention(session, case_no).items
            for item in items:  # a package holds every item's bytes: none may be purged
                if item.id in states:
                    refuse_purged(states[item.id])
            for item in items:
                payload = {
                    "evidence_id": item.id,
                    "sha256": item.sha256,
                    "action": "export",
                    "role": actor.role.value,
                    "reason": reason,
                }
                self.cases.append_event(tx, actor, case_no, EVIDENCE_CUSTODY, payload)
            return {"items": items, "last": last}

        done = self.cases.write(actor, None, work)
        return done["items"], done["last"]

    def readable(self, actor: Actor, evidence_id: str) -> EvidenceItem:
        """The item if the actor may see it, its row checked against its registration in the log:
        what is read, served or hashed is what the log recorded, never a row alone."""
        actor.require(Action.READ_EVIDENCE)
        with self.sessions() as session:
            item = session.get(EvidenceItem, evidence_id) if len(evidence_id) <= 40 else None
            if item is None:
                raise NotFound(f"no evidence {evidence_id[:40]}")
            try:
                self.cases.visible_case(session, actor, item.case_no)
            except NotFound:
                raise NotFound(f"no evidence {evidence_id[:40]}") from None
            check_item(session, item)
            return item

    def holdable(self, actor: Actor, evidence_id: str) -> EvidenceItem:
        """The item a legal hold is set on or lifted from: one the actor may read, or docked footage
        no case holds yet (the legal role holds that too: it must outlive its six months)."""
        actor.require(Action.HOLD_EVIDENCE)
        with self.sessions() as session:
            item = session.get(EvidenceItem, evidence_id) if len(evidence_id) <= 40 else None
            if item is not None and item.case_no == INTAKE:
                check_item(session, item)
                return item
        return self.readable(actor, evidence_id)

    def acknowledge_gap(self, actor: Actor, evidence_id: str, reason: str) -> dict[str, Any]:
        """A supervisor's explanation of a known gap in a device's recordings, as a log event: the
        audit then reports the gap as acknowledged rather than as a finding."""
        actor.require(Action.ACKNOWLEDGE_GAP)
        if reason not in GAP_REASONS:
            raise InvalidInput(f"say why with a reason, one of {', '.join(GAP_REASONS)}")
        item = self.readable(actor, evidence_id)
        if item.continuity is None:
            raise InvalidInput(
                f"evidence {evidence_id} follows its device's previous segment: no gap to "
                "acknowledge"
            )
        payload = {"evidence_id": item.id, "device": item.device, "reason": reason}
        return self.cases.write(
            actor,
            None,
            lambda tx: self.cases.append_event(tx, actor, item.case_no, GAP_ACKNOWLEDGED, payload),
        )

    def disagreements(self, session: Session, case_no: str) -> list[str]:
        """Each evidence row of the case that disagrees with its registration in the log, and
        why."""
        found = []
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.case_no == case_no)):
            try:
                check_item(session, item)
            except StoredStateMismatch as exc:
                found.append(exc.message)
        return found

    def custody(self, actor: Actor, evidence_id: str) -> list[dict[str, Any]]:
        """The full custody trail of an item from the log: registration, then every access."""
        actor.require(Action.READ_CUSTODY)
        item = self.readable(actor, evidence_id)
        with self.sessions() as session:
            leaves = case_leaves(session, item.case_no)
        trail: list[dict[str, object]] = []
        for leaf in leaves:
            index, event = leaf.index, Event.decode(leaf.data)
            if (
                event.type in (EVIDENCE_REGISTERED, EVIDENCE_CUSTODY)
                and event.payload.get("evidence_id") == item.id
            ):
                trail.append(
                    {
                        "index": index,
                        "type": event.type,
                        "actor": event.actor,
                        "time": event.time,
                        **{
                            k: event.payload[k]
                            for k in ("action", "role", "reason", "recipient")
                            if k in event.payload
                        },
                    }
                )
        return trail

    def of_case(self, actor: Actor, case_no: str) -> list[EvidenceItem]:
        actor.require(Action.READ_EVIDENCE)
        with self.sessions() as session:
            self.cases.visible_case(session, actor, case_no)
            return list(
                session.scalars(
                    select(EvidenceItem)
                    .where(EvidenceItem.case_no == case_no)
                    .order_by(EvidenceItem.leaf_index)
                )
            )


def _write_all(writer: BlobWriter, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        writer.write(chunk)


def _payload(
    item: EvidenceItem, derived: tuple[EvidenceItem, dict[str, Any]] | None
) -> dict[str, Any]:
    """The evidence event's payload: hashes and facts, no personal data (GPS stays in the row)."""
    payload: dict[str, Any] = {
        "evidence_id": item.id,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "captured_at": format_time(item.captured_at),
        "media_sha256": item.media_sha256,
        "device_signed": bool(item.device_signed),
        "late": bool(item.late),
    }
    if item.sm3:
        payload["sm3"] = item.sm3
    if item.device:
        payload["device"] = item.device
    if item.poster_sha256:
        payload["poster_sha256"] = item.poster_sha256
    if item.segment_seq is not None:
        payload["segment"] = {"seq": item.segment_seq, "prev": item.segment_prev}
    if derived:
        payload["derived_from"] = {"evidence_id": derived[0].id, "sha256": derived[0].sha256}
        payload["operation"] = derived[1]
    return payload


def media_facts(item: EvidenceItem) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(item.media)
    return facts


def item_json(item: EvidenceItem) -> dict[str, Any]:
    """An item as the API shows it to those who may see it."""
    return {
        "evidence_id": item.id,
        "case_no": item.case_no,
        "sha256": item.sha256,
        "sm3": item.sm3,
        "size": item.size,
        "media_type": item.media_type,
        "officer": item.officer,
        "device": item.device,
        "device_signed": bool(item.device_signed),
        "captured_at": format_time(as_utc(item.captured_at)),
        "registered_at": format_time(as_utc(item.registered_at)),
        "late": bool(item.late),
        "media": media_facts(item),
        "continuity": item.continuity,
        "derived_from": item.derived_from,
        "operation": None if item.operation is None else json.loads(item.operation),
        "poster": item.poster_sha256 is not None,
        "leaf_index": item.leaf_index,
    }
