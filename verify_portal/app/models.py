"""Tables of the portal: citizens' verification codes, staff passwords and sessions, statements,
audit runs, other agencies' trust roots, counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models import Base, UTCDateTime


class CaseCode(Base):
    """A case's verification code (printed on its notice), kept as an HMAC."""

    __tablename__ = "case_codes"

    case_no: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_no"), primary_key=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffLogin(Base):
    """A user's portal password (scrypt); bearer tokens stay for the API."""

    __tablename__ = "staff_logins"

    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))


class StaffSession(Base):
    """A signed-in staff session: the cookie holds a random id, this row its hash; signing out
    deletes it."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class Statement(Base):
    """A party's statement and defence (陈述申辩), sealed like party data; the leaf holds a
    commitment.

    Erasing the party's data deletes these rows too (crypto-shredding): the leaf stays and verifies.
    """

    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_no"), index=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CitizenReport(Base):
    """What a citizen's report (全民城管) says beyond its codes: the typed address, the place and an
    optional phone number, sealed like party data. The case's leaf holds only the codes."""

    __tablename__ = "citizen_reports"

    case_no: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_no"), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRun(Base):
    """Each audit (`lianzheng audit`, or started from the dashboard): running, then its outcome."""

    __tablename__ = "audit_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # when it started
    status: Mapped[str] = mapped_column(String(16), server_default="done")  # running, done, failed
    started_by: Mapped[str] = mapped_column(String(64), server_default="cli")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clean: Mapped[int] = mapped_column(Integer)
    open_findings: Mapped[int] = mapped_column(Integer, server_default="0")
    summary: Mapped[str] = mapped_column(String(500))
    findings: Mapped[str] = mapped_column(Text)  # JSON list of {"where", "problem", "case_no"}
    acknowledged: Mapped[str] = mapped_column(Text, server_default="[]")  # the same, for known gaps
    size: Mapped[int | None] = mapped_column(BigInteger)  # the log size it covered
    root: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # the root it recomputed there
    since: Mapped[int | None] = mapped_column(BigInteger)  # where an incremental one started
    seal: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # HMAC of size and root, if clean


class Counter(Base):
    """A count kept in the database, so every gunicorn worker adds to the same one (/metrics)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CourtRoot(Base):
    """Another agency's trust root, registered by an admin (fingerprint confirmed) for the court
    page."""

    __tablename__ = "court_roots"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    log_origin: Mapped[str] = mapped_column(String(255), unique=True)
    agency: Mapped[str] = mapped_column(String(255))
    document: Mapped[str] = mapped_column(Text)
    rpc_url: Mapped[str | None] = mapped_column(String(500))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
