"""Citizens' access to their own case (当事人): a verification code printed on the notice, rate-limited.

A code has 50 bits of entropy (10 symbols of a 32-letter alphabet without
look-alikes); only its HMAC is stored. A wrong code, an unknown case and a
locked case all get the same answer, so an answer never tells whether a case
exists. Failures are counted per client (an HMAC of its address) and per
case: 10 failures lock the case's lookups for 15 minutes, and a client with
10 failures in 15 minutes is refused until its window ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger.cases import CaseService
from ledger.db import as_utc
from ledger.errors import LianzhengError
from ledger.users import Action, Actor
from verify_portal.models import CaseCode, LookupFailures

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each, no 0/O, 1/I/L look-alikes
CODE_LENGTH = 10  # 50 bits
MAX_FAILURES = 10
LOCK = timedelta(minutes=15)


class LookupRefused(LianzhengError):
    """Wrong code, unknown case or locked case: deliberately one answer for all three."""

    code = "lookup-refused"


class TooManyAttempts(LianzhengError):
    """This client failed too often; it may try again when its window ends."""

    code = "too-many-attempts"


def new_code() -> str:
    """A fresh code, shown in two groups of five: K7Q2M-9XA3F."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def normalise(code: str) -> str:
    """What a citizen types, as the code: case, spaces and dashes do not matter."""
    return "".join(code.upper().split()).replace("-", "")[:64]


@dataclass
class CitizenAccess:
    sessions: sessionmaker[Session]
    cases: CaseService
    key: bytes

    def _hash(self, case_no: str, code: str) -> bytes:
        return hmac.new(self.key, f"{case_no}\n{normalise(code)}".encode(), hashlib.sha256).digest()

    def client_id(self, address: str) -> str:
        """A client's key for the counters: an HMAC of its address, so no address is stored."""
        return hmac.new(self.key, b"client\n" + address.encode(), hashlib.sha256).hexdigest()

    def issue(self, actor: Actor, case_no: str) -> str:
        """A new code for the case's notice; any earlier code stops working."""
        actor.require(Action.ISSUE_CODE)
        code = new_code()
        with self.sessions.begin() as session:
            self.cases.visible_case(session, actor, case_no)
            row = session.get(CaseCode, case_no) or CaseCode(case_no=case_no)
            row.code_hash, row.issued_at, row.failures, row.locked_until = (
                self._hash(case_no, code), datetime.now(UTC), 0, None)
            session.merge(row)
        return code

    def check(self, case_no: str, code: str, client: str) -> str:
        """The case number if `code` opens it for this client; else LookupRefused or TooManyAttempts."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            counter = session.get(LookupFailures, client)
            if counter and as_utc(counter.window_start) + LOCK > now and counter.failures >= MAX_FAILURES:
                raise TooManyAttempts("too many failed attempts from this connection; try again in 15 minutes",
                                      retry_after=int((as_utc(counter.window_start) + LOCK - now).total_seconds()))
            row = session.get(CaseCode, case_no) if len(case_no) <= 32 else None
            # Always compute the HMAC, so an unknown case costs the same time as a wrong code.
            matches = hmac.compare_digest(self._hash(case_no, code), row.code_hash if row else bytes(32))
            locked = row is not None and row.locked_until is not None and as_utc(row.locked_until) > now
            if row is not None and matches and not locked:
                row.failures = 0
                return case_no
            self._fail(session, client, row, now)
        raise LookupRefused("the case number and code do not open a case")

    def _fail(self, session: Session, client: str, row: CaseCode | None, now: datetime) -> None:
        counter = session.get(LookupFailures, client)
        if counter is None or as_utc(counter.window_start) + LOCK <= now:
            counter = session.merge(LookupFailures(client=client, window_start=now, failures=0))
        counter.failures += 1
        if row is not None and not (row.locked_until and as_utc(row.locked_until) > now):
            row.failures += 1
            if row.failures >= MAX_FAILURES:
                row.failures, row.locked_until = 0, now + LOCK


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a citizen sees of a case's events: steps and evidence registrations, without who did them,
    without custody events, without footage; each with its leaf for the proof status. Pure."""
    shown = []
    for e in events:
        kind, payload = e["event"]["type"], e["event"]["payload"]
        if kind.startswith("case."):
            detail = {k: payload[k] for k in ("outcome", "amount_fen", "proposed_amount_fen", "kind", "reason",
                                              "violation_type", "source") if k in payload}
        elif kind == "evidence.registered":
            detail = {"media_type": payload["media_type"], "captured_at": payload["captured_at"]}
        elif kind == "party.statement":
            detail = {"photos": len(payload["photos"])}
        else:
            continue
        shown.append({"index": e["index"], "leaf_hash": e["leaf_hash"], "type": kind, "time": e["event"]["time"],
                      "detail": detail})
    return shown
