"""Database tables of the ledger (SQLAlchemy 2). Schema changes go through Alembic.

`log_leaves`, `log_nodes` and `log_checkpoints` are append-only: the first
migration installs triggers that make the database itself refuse UPDATE,
DELETE and TRUNCATE on them. `cases` is a projection of the log kept for
queries; the log stays the source of truth.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

APPEND_ONLY_TABLES = (
    "log_leaves",
    "log_nodes",
    "log_checkpoints",
    "log_cosignatures",
    "log_timestamps",
    "trust_roots",
    "party_cases",
)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored and read back in UTC on both backends.

    SQLite keeps no zone: SQLAlchemy would write an aware time's wall clock as is, so 08:00+08:00
    would read back as 08:00Z. Every value is converted to UTC before it is written and marked UTC
    when read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive time reached the database; every time here carries its zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class LogHead(Base):
    """One row: the committed tree size. Its row lock serialises appends."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class Leaf(Base):
    __tablename__ = "log_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    case_no: Mapped[str | None] = mapped_column(String(32), index=True)
    appended_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class Node(Base):
    """The hash of a perfect subtree (merkle.NodeId), from level storage.STORED_FROM_LEVEL up; the
    lower levels are hashed from the leaves' `leaf_hash` when asked for."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class CheckpointRecord(Base):
    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class CheckpointCosignature(Base):
    """A witness's cosignature line on the checkpoint of one size (C2SP tlog-cosignature/v1),
    checked against the witness's configured key before it is stored; append-only."""

    __tablename__ = "log_cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckpointTimestamp(Base):
    """An RFC 3161 time-stamp token over the log-signed note of an anchored checkpoint (DESIGN.md:
    Timestamps), checked against the configured authority before it is stored; append-only."""

    __tablename__ = "log_timestamps"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    stamped_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the authority's genTime


class LogKey(Base):
    """One key's period: a checkpoint key by tree sizes, a package key by times (half-open).

    The open period (no `valid_until_*`) is the key in use; a rotation closes it where the next
    begins. The private keys stay in files (ledger/keyring.py), never in the database.
    """

    __tablename__ = "log_keys"
    __table_args__ = (UniqueConstraint("kind", "public_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # ledger/keyring.py: CHECKPOINT, ...
    algorithm: Mapped[str] = mapped_column(String(16))  # "ed25519" or "sm2"
    public_key: Mapped[bytes] = mapped_column(LargeBinary(65))  # raw: 32 bytes, or SM2's 65
    valid_from_size: Mapped[int | None] = mapped_column(BigInteger)
    valid_until_size: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrustRootRecord(Base):
    """A trust root the deployment published (DESIGN.md: Trust root); append-only, each replacing
    the one before it, `document` exactly as served."""

    __tablename__ = "trust_roots"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    document: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Case(Base):
    __tablename__ = "cases"
    # The staff case list's filters and sorts (migration 0016).
    __table_args__ = (Index("ix_cases_district_updated_at", "district", "updated_at"),)

    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    violation_type: Mapped[str] = mapped_column(String(64), index=True)
    district: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(32))
    officer: Mapped[str] = mapped_column(String(64), index=True)  # who reported it: seq 0's actor
    party_key: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    last_leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PartyCase(Base):
    """Which cases a party (by its pseudonymous key) has: the index 首违不罚 is decided from.

    Append-only like the log, written with the leaf that names the party, and rebuilt from the log
    by the audit; each listed case's outcome is read from its own events."""

    __tablename__ = "party_cases"

    party_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)


class Party(Base):
    """A party's personal data, sealed (parties.seal). Deleted on legal erasure."""

    __tablename__ = "parties"

    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class IdempotencyRecord(Base):
    """The first answer to a write that carried an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
