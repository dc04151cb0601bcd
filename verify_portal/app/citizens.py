"""Citizens' access to their own case (当事人): a verification code printed on the notice.

A code has 50 bits of entropy (10 symbols of a 32-letter alphabet without
look-alikes); only its HMAC is stored. A wrong code and an unknown case get
the same answer, so an answer never tells whether a case exists. Failed
attempts are limited per client (verify_portal/web/limits.py), never per case:
nobody can lock a citizen out of their own case.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger.cases import CaseService
from ledger.errors import LianzhengError
from ledger.event_types import EVIDENCE_REGISTERED, PARTY_STATEMENT
from ledger.users import Action, Actor
from verify_portal.app.models import CaseCode

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each, no 0/O, 1/I/L look-alikes
CODE_LENGTH = 10  # 50 bits


class LookupRefused(LianzhengError):
    """Wrong code or unknown case: deliberately one answer for both."""

    code = "lookup-refused"


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

    def issue(self, actor: Actor, case_no: str) -> str:
        """A new code for the case's notice; any earlier code stops working."""
        actor.require(Action.ISSUE_CODE)
        code = new_code()
        with self.sessions.begin() as session:
            self.cases.visible_case(session, actor, case_no)
            row = session.get(CaseCode, case_no) or CaseCode(case_no=case_no)
            row.code_hash, row.issued_at = self._hash(case_no, code), datetime.now(UTC)
            session.merge(row)
        return code

    def check(self, case_no: str, code: str) -> str:
        """The case number if `code` opens it; else LookupRefused."""
        with self.sessions() as session:
            row = session.get(CaseCode, case_no) if len(case_no) <= 32 else None
            # Always compute the HMAC, so an unknown case costs the same time as a wrong code.
            matches = hmac.compare_digest(
                self._hash(case_no, code), row.code_hash if row else bytes(32)
            )
        if row is None or not matches:
            raise LookupRefused("the case number and code do not open a case")
        return case_no


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a citizen sees of a case's events: steps and evidence registrations, without who did
    them, without custody events, without footage; each with its leaf for the proof status. Pure."""
    shown = []
    for e in events:
        kind, payload = e["event"]["type"], e["event"]["payload"]
        if kind.startswith("case."):
            detail = {
                k: payload[k]
                for k in (
                    "outcome",
                    "amount_fen",
                    "proposed_amount_fen",
                    "kind",
                    "reason",
                    "legal_basis",
                    "violation_type",
                    "source",
                )
                if k in payload
            }
        elif kind == EVIDENCE_REGISTERED:
            detail = {"media_type": payload["media_type"], "captured_at": payload["captured_at"]}
        elif kind == PARTY_STATEMENT:
            detail = {"photos": len(payload["photos"])}
        else:
            continue
        shown.append(
            {
                "index": e["index"],
                "leaf_hash": e["leaf_hash"],
                "type": kind,
                "time": e["event"]["time"],
                "detail": detail,
            }
        )
    return shown
