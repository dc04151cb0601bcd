"""The audit of the ledger's derived tables: every `cases`, `parties` and `party_cases` row against
what the log says (ledger/projection.py), each difference named by table, row and column."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import parties
from ledger.audit import AuditReport
from ledger.models import Case, Party, PartyCase
from ledger.parties import PartySecrets
from ledger.projection import LogProjection, differences


def compare(
    session: Session, logged: LogProjection, secrets: PartySecrets, report: AuditReport
) -> None:
    """Add a finding for every derived row of the ledger that the log does not bear out."""
    _cases(session, logged, report)
    _parties(session, logged, secrets, report)
    _party_cases(session, logged, report)


def _cases(session: Session, logged: LogProjection, report: AuditReport) -> None:
    stored = {case.case_no: case for case in session.scalars(select(Case))}
    for case_no, case in stored.items():
        row = logged.cases.get(case_no)
        where = f"cases {case_no}"
        if row is None:
            report.add(where, "the row has no events in the log: it was inserted", case_no)
            continue
        values = {c.name: getattr(case, c.name) for c in Case.__table__.columns}
        for difference in differences(row, values):
            report.add(where, str(difference), case_no)
    for case_no in sorted(logged.cases.keys() - stored.keys()):
        report.add(
            f"cases {case_no}", "the row is missing: the log holds the case's events", case_no
        )


def _parties(
    session: Session, logged: LogProjection, secrets: PartySecrets, report: AuditReport
) -> None:
    stored = {row.case_no: row for row in session.scalars(select(Party))}
    for case_no, party in logged.parties.items():
        row, where = stored.pop(case_no, None), f"parties {case_no}"
        if party.erased and row is not None:
            report.add(
                where,
                "the party's data is still stored although the log records its erasure",
                case_no,
            )
        elif not party.erased and row is None:
            report.add(
                where, "the party's sealed data is missing (the log records no erasure)", case_no
            )
        elif row is not None and not _opens_to(row, party.commitment, secrets):
            report.add(where, "the sealed data does not open to the commitment in the log", case_no)
    for case_no in sorted(stored):
        report.add(f"parties {case_no}", "sealed data of a party the log does not name", case_no)


def _opens_to(row: Party, commitment: str, secrets: PartySecrets) -> bool:
    try:
        salt, data = parties.unseal(secrets, row.nonce, row.ciphertext, row.case_no)
    except (InvalidTag, ValueError):
        return False
    return parties.commitment(salt, data) == commitment


def _party_cases(session: Session, logged: LogProjection, report: AuditReport) -> None:
    stored = {(row.party_key, row.case_no) for row in session.scalars(select(PartyCase))}
    for key, case_no in sorted(logged.party_cases - stored):
        report.add(
            f"party_cases {case_no}",
            f"the index lacks the case under party key {key[:12]}…",
            case_no,
        )
    for key, case_no in sorted(stored - logged.party_cases):
        report.add(
            f"party_cases {case_no}",
            f"the index lists the case under party key {key[:12]}…, which its events do not name",
            case_no,
        )
