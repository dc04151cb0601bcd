"""What the `cases` and `party_cases` rows must hold, computed from the log's events alone. Pure: no
I/O.

DESIGN.md, The log: every table the service shows or decides from is a
projection of the log. A case row is the fold of its events: the first names
its source, type and district; each step moves its state; the decision sets
the outcome and amount; every event advances its position in the case's hash
chain. Decisions are taken from this fold (or from rows compared with it),
and the audit compares every stored row with it, column by column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.event_types import PARTY_ERASED
from ledger.events import Event, parse_time

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
from ledger.lifecycle import CaseFacts, Outcome, State


@dataclass(frozen=True)
class CaseRow:
    """The columns of a `cases` row that the log determines."""

    case_no: str
    serial: int
    state: str
    violation_type: str
    district: str
    source: str
    officer: str
    party_key: str | None
    outcome: str | None
    amount_fen: int | None
    seq: int
    last_leaf_hash: bytes
    created_at: datetime
    updated_at: datetime

    def facts(self) -> CaseFacts:
        """The lifecycle's view of the case: what its rules decide from."""
        return CaseFacts(
            self.case_no,
            State(self.state),
            self.party_key is not None,
            Outcome(self.outcome) if self.outcome else None,
            self.amount_fen,
        )


@dataclass(frozen=True)
class Party:
    """What the log says of a case's party: its commitment, and whether its data was erased."""

    commitment: str
    key: str
    erased: bool = False


def fold_case(events: Iterable[tuple[bytes, Event]]) -> CaseRow | None:
    """The row of one case from its events `(leaf hash, event)` in log order; None without
    events."""
    row: CaseRow | None = None
    for leaf_hash, event in events:
        row = _first(event, leaf_hash) if row is None else _next(row, event, leaf_hash)
    return row


def _first(event: Event, leaf_hash: bytes) -> CaseRow:
    p = event.payload
    moment = parse_time(event.time)
    return CaseRow(
        case_no=event.case_no,
        serial=serial_of(event.case_no),
        state=State.REPORTED.value,
        violation_type=p.get("violation_type", ""),
        district=p.get("district", ""),
        source=p.get("source", ""),
        officer=event.actor,
        party_key=_party_key(p),
        outcome=None,
        amount_fen=None,
        seq=event.seq + 1,
        last_leaf_hash=leaf_hash,
        created_at=moment,
        updated_at=moment,
    )


def _next(row: CaseRow, event: Event, leaf_hash: bytes) -> CaseRow:
    row = replace(
        row, seq=event.seq + 1, last_leaf_hash=leaf_hash, updated_at=parse_time(event.time)
    )
    if not event.type.startswith("case."):
        return row
    state = State(event.type.removeprefix("case.").upper())
    row = replace(row, state=state.value, party_key=_party_key(event.payload) or row.party_key)
    if state is State.DECIDED:
        row = replace(
            row, outcome=event.payload.get("outcome"), amount_fen=event.payload.get("amount_fen")
        )
    return row


def _party_key(payload: Mapping[str, Any]) -> str | None:
    party = payload.get("party")
    return party["key"] if isinstance(party, dict) else None


def party_of(events: Iterable[Event]) -> Party | None:
    """The case's party as the log records it: attached once, perhaps erased later."""
    found: Party | None = None
    for event in events:
        party = event.payload.get("party") if event.type.startswith("case.") else None
        if isinstance(party, dict):
            found = Party(party["commitment"], party["key"])
        elif event.type == PARTY_ERASED and found is not None:
            found = replace(found, erased=True)
    return found


def serial_of(case_no: str) -> int:
    """The running number of a case number CG-2026-000123."""
    return int(case_no.rsplit("-", 1)[1])


@dataclass(frozen=True)
class Difference:
    """One column of one row that the log and the database disagree on."""

    column: str
    logged: object
    stored: object

    def __str__(self) -> str:
        return (
            f"{self.column}: the log says {_shown(self.logged)}, the row says {_shown(self.stored)}"
        )


def differences(logged: DataclassInstance, stored: Mapping[str, object]) -> list[Difference]:
    """The dataclass `logged`'s fields whose stored values differ."""
    return [
        Difference(f.name, getattr(logged, f.name), stored.get(f.name))
        for f in fields(logged)
        if getattr(logged, f.name) != stored.get(f.name)
    ]


def _shown(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


class LogProjection:
    """Folds the whole log, leaf by leaf, into what the `cases`, `parties` and `party_cases` tables
    must hold; the audit feeds it every event as it streams the leaves."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseRow] = {}
        self.parties: dict[str, Party] = {}
        self.party_cases: set[tuple[str, str]] = set()

    def observe(self, index: int, leaf_hash: bytes, event: Event) -> None:
        case_no = event.case_no
        if case_no in SERVICE_CHAINS:
            return
        row = self.cases.get(case_no)
        self.cases[case_no] = (
            _first(event, leaf_hash) if row is None else _next(row, event, leaf_hash)
        )
        party = event.payload.get("party") if event.type.startswith("case.") else None
        if isinstance(party, dict):
            self.parties[case_no] = Party(party["commitment"], party["key"])
            self.party_cases.add((party["key"], case_no))
        elif event.type == PARTY_ERASED and case_no in self.parties:
            self.parties[case_no] = replace(self.parties[case_no], erased=True)


# Chains of the log that are no case (ledger/cases.py `append_chain_event`): codes and keys only,
# no person. Neither name can be a case number (CG-2026-000001).
REGISTRY = "REGISTRY"  # devices and the bodies evidence may be shared with
INTAKE = "INTAKE"  # footage a docking station ingested before anyone linked it to a case
SERVICE_CHAINS = frozenset({REGISTRY, INTAKE})
