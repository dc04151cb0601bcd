"""Statements and defences (陈述申辩) that parties submit from the citizen page while their case is
at the notice stage: text, sealed with the party key, and up to three photos, registered as
evidence.

The log gets a `party.statement` event holding a salted commitment to the text and the photos'
hashes; the text itself sits encrypted in its own table and goes with the party's data on erasure.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from PIL import Image
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from evidence.meta import UploadMeta
from evidence.service import EvidenceService
from evidence.sniff import IMAGE, media_type
from ledger.audit import AuditReport
from ledger.cases import CaseService
from ledger.errors import IllegalTransition, InvalidInput
from ledger.event_types import PARTY_ERASED, PARTY_STATEMENT
from ledger.events import Event, format_time
from ledger.lifecycle import State
from ledger.models import User
from ledger.parties import PartySecrets, open_record, seal_record
from ledger.storage import LogTransaction
from ledger.users import Action, Actor, Role, actor_of
from verify_portal.app.models import Statement

MAX_TEXT = 2000
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 << 20
# A form with photos may be this large: room for one photo too many, so that a page can say so in
# words and keep what was typed, rather than answer 413.
PHOTO_FORM_BYTES = (MAX_PHOTOS + 1) * MAX_PHOTO_BYTES + (1 << 20)
PORTAL_USER = (
    "citizen-portal"  # the channel: the statement is the party's, submitted through the portal
)
_DOMAIN = b"lianzheng/statement\n"


MAX_PIXELS = (
    40_000_000  # a phone photo has at most some 50 megapixels; more is a decompression bomb
)


def check_photo(data: bytes) -> None:
    """A photo is accepted only if it decodes as the JPEG or PNG its first bytes claim (Pillow)."""
    if media_type(data[:512]) not in IMAGE:
        raise InvalidInput("photos must be JPEG or PNG images", reason="image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG") or image.width * image.height > MAX_PIXELS:
                raise InvalidInput(
                    "photos must be JPEG or PNG images of at most 40 megapixels", reason="image"
                )
            image.load()  # decodes every pixel: a truncated or forged image fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("a photo does not decode as an image", reason="image") from None


class StatementProjection:
    """The statements the log records, and the cases whose party data it records erased."""

    def __init__(self) -> None:
        self.statements: dict[tuple[str, int], str] = {}  # (case, leaf index) -> commitment
        self.erased: set[str] = set()

    def observe(self, index: int, leaf_hash: bytes, event: Event) -> None:
        if event.type == PARTY_STATEMENT:
            self.statements[(event.case_no, index)] = event.payload["commitment"]
        elif event.type == PARTY_ERASED:
            self.erased.add(event.case_no)


@dataclass
class Statements:
    cases: CaseService
    evidence: EvidenceService
    secrets: PartySecrets

    def submit(self, case_no: str, text: str, photos: list[bytes]) -> dict[str, Any]:
        """Record a statement for a case at the notice stage; returns the appended event."""
        text = text.strip()
        if not 0 < len(text) <= MAX_TEXT:
            raise InvalidInput(f"a statement has 1 to {MAX_TEXT} characters", reason="length")
        if len(photos) > MAX_PHOTOS or any(len(p) > MAX_PHOTO_BYTES for p in photos):
            raise InvalidInput(
                f"at most {MAX_PHOTOS} photos of {MAX_PHOTO_BYTES >> 20} MiB each", reason="photos"
            )
        for photo in photos:
            check_photo(photo)
        actor = portal_actor(self.cases.sessions)
        self._require_notice_stage(case_no)
        now = datetime.now(UTC)
        meta = UploadMeta(case_no=case_no, captured_at=now, captured_text=format_time(now))
        registered = [self.evidence.ingest(actor, meta, [p], len(p))["evidence"] for p in photos]
        salt = os.urandom(32)
        nonce, sealed = seal_record(self.secrets, {"salt": salt.hex(), "text": text}, case_no)
        payload = {
            "commitment": _commitment(salt, text),
            "channel": "portal",
            "photos": [
                {"evidence_id": r["evidence_id"], "sha256": r["sha256"]} for r in registered
            ],
        }

        def work(tx: LogTransaction) -> dict[str, Any]:
            _, logged = self.cases.checked_case(tx.session, actor, case_no)
            if (
                logged.state != State.NOTIFIED.value
            ):  # checked again under the append lock, from the log
                raise IllegalTransition(f"case {case_no} is no longer at the notice stage")
            written = self.cases.append_event(tx, actor, case_no, PARTY_STATEMENT, payload)
            tx.session.add(
                Statement(
                    case_no=case_no,
                    leaf_index=written["index"],
                    nonce=nonce,
                    ciphertext=sealed,
                    created_at=now,
                )
            )
            return written

        return self.cases.write(actor, None, work)

    def of_case(self, actor: Actor, case_no: str) -> list[dict[str, Any]]:
        """The case's statements, decrypted, for the officer and supervisors."""
        actor.require(Action.READ_STATEMENTS)
        with self.cases.sessions() as session:
            self.cases.visible_case(session, actor, case_no)
            rows = session.scalars(
                select(Statement).where(Statement.case_no == case_no).order_by(Statement.leaf_index)
            ).all()
        return [
            {
                "leaf_index": r.leaf_index,
                "text": open_record(self.secrets, r.nonce, r.ciphertext, case_no)["text"],
            }
            for r in rows
        ]

    @staticmethod
    def erase(session: Session, case_no: str) -> None:
        """Delete the sealed statements with the party's data (their leaves stay and verify)."""
        session.execute(delete(Statement).where(Statement.case_no == case_no))

    def _require_notice_stage(self, case_no: str) -> None:
        with self.cases.sessions() as session:
            logged = self.cases.logged_case(session, case_no)
        if logged is None or logged.state != State.NOTIFIED.value:
            raise IllegalTransition(
                "statements are taken while the case is at the notice stage (事先告知)"
            )

    def compare(self, session: Session, logged: StatementProjection, report: AuditReport) -> None:
        """The audit of the `statements` table: one row per statement event of a case whose party
        data was not erased, each opening to the commitment its event holds."""
        stored = {(r.case_no, r.leaf_index): r for r in session.scalars(select(Statement))}
        for (case_no, index), commitment in logged.statements.items():
            row, where = stored.pop((case_no, index), None), f"statements {case_no} (leaf {index})"
            if case_no in logged.erased:
                if row is not None:
                    report.add(
                        where,
                        "the text is still stored although the log records the erasure",
                        case_no,
                    )
            elif row is None:
                report.add(
                    where, "the sealed text is missing (the log records no erasure)", case_no
                )
            elif not self._opens_to(row, commitment):
                report.add(
                    where, "the sealed text does not open to the commitment in the log", case_no
                )
        for case_no, index in sorted(stored):
            report.add(
                f"statements {case_no} (leaf {index})",
                "a row the log holds no statement for",
                case_no,
            )

    def _opens_to(self, row: Statement, commitment: str) -> bool:
        try:
            plain = open_record(self.secrets, row.nonce, row.ciphertext, row.case_no)
        except (InvalidTag, ValueError):
            return False
        return _commitment(bytes.fromhex(plain["salt"]), plain["text"]) == commitment


def portal_actor(sessions: sessionmaker[Session]) -> Actor:
    """The portal's own user, the channel through which citizens' statements and reports come."""
    with sessions.begin() as session:
        user = session.scalars(select(User).where(User.username == PORTAL_USER)).first()
        if user is None:  # made once; its token is random and never shown
            user = User(
                username=PORTAL_USER,
                role=Role.SYSTEM.value,
                district=None,
                token_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
            )
            session.add(user)
            session.flush()
        return actor_of(user)


def _commitment(salt: bytes, text: str) -> str:
    """The statement's salted commitment, as its log event carries it."""
    return hashlib.sha256(_DOMAIN + salt + text.encode()).hexdigest()
