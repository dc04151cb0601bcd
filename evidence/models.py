"""Tables of evidence: registered items, resumable uploads in progress, the device registry.

An item row is written in the same transaction as its log event, after its
blob is on disk: an item never exists without its blob and its leaf.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models import Base, UTCDateTime


class EvidenceItem(Base):
    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sm3: Mapped[str | None] = mapped_column(String(64))  # None for items registered before SM3
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    officer: Mapped[str] = mapped_column(String(64), index=True)
    device: Mapped[str | None] = mapped_column(String(64), index=True)
    device_signed: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    late: Mapped[int] = mapped_column(Integer)  # registered more than 24 h after capture
    media: Mapped[str] = mapped_column(
        Text
    )  # canonical JSON of the probed metadata; its hash is in the event
    media_sha256: Mapped[str] = mapped_column(String(64))
    segment_seq: Mapped[int | None] = mapped_column(BigInteger)
    segment_prev: Mapped[str | None] = mapped_column(String(64))
    continuity: Mapped[str | None] = mapped_column(
        Text
    )  # why the segment does not follow the device's last
    derived_from: Mapped[str | None] = mapped_column(String(40))
    operation: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the ffmpeg operation
    poster_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    # Intake footage linked to its case: the link event's leaf (case_no is then the case's).
    linked_leaf: Mapped[int | None] = mapped_column(BigInteger)


class Upload(Base):
    """A tus upload in progress; its bytes sit in `<data>/uploads/<id>` until complete."""

    __tablename__ = "evidence_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[str] = mapped_column(Text)  # JSON of the Upload-Metadata pairs
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    evidence_id: Mapped[str | None] = mapped_column(String(40))  # set once complete and registered


class Device(Base):
    """A bodycam (执法记录仪) or fixed camera that may sign what it captures."""

    __tablename__ = "devices"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # bodycam, camera
    unit: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # certified, revoked
    algorithm: Mapped[str] = mapped_column(String(16))  # ed25519, p256
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_to: Mapped[str | None] = mapped_column(String(64), index=True)  # an officer's code


class Recipient(Base):
    """A body evidence may be handed to (a court, a review office): its code goes into the log's
    share events, its name stays here. A projection of the registry chain's `recipient.registered`
    events."""

    __tablename__ = "recipients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
