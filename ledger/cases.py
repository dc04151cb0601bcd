"""Cases: creating them and stepping them through the lifecycle, each step a leaf.

Every write runs in one transaction that first takes the log's append lock
(`LogStore.lock`), so the checks (lifecycle, first offence, idempotency) see
exactly the state the append will extend. A refused step raises before
anything is written; the transaction rolls back and leaves only a log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger import db, lifecycle, parties, projection
from ledger.checkpoint import SignedHead
from ledger.errors import (
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    StoredStateMismatch,
    invalid_input,
)
from ledger.event_types import CASE_EVENTS, PARTY_ERASED, check_payload
from ledger.events import Event, parse_time, utc_now
from ledger.group_commit import GroupCommit
from ledger.lifecycle import Outcome, State
from ledger.models import Case, IdempotencyRecord, Leaf, Party, PartyCase
from ledger.parties import PartyData, PartySecrets
from ledger.projection import SERVICE_CHAINS, CaseRow
from ledger.storage import LogStore, LogTransaction, case_leaves
from ledger.users import Action, Actor

log = logging.getLogger(__name__)

MAX_CASE_NO = 32  # the column's width


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key and the hash of the request it came with."""

    key: str
    request_hash: bytes

    @classmethod
    def of(cls, key: str, method: str, path: str, body: bytes) -> Idempotency:
        if not 1 <= len(key) <= 128 or not key.isprintable():
            raise InvalidInput("Idempotency-Key must be 1 to 128 printable characters")
        return cls(key, hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).digest())


class CaseService:
    """The write and read operations on cases, for the API and the CLI alike."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: LogStore,
        party_secrets: PartySecrets,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.commits = GroupCommit(store, sessions)
        self.party_secrets = party_secrets
        self.clock = clock

    # --- writes --------------------------------------------------------------------

    def create(
        self, actor: Actor, report: Any, party: Any = None, idempotency: Idempotency | None = None
    ) -> dict[str, Any]:
        """Open a case in REPORTED (线索); returns the recorded event."""
        actor.require(Action.OPEN_CASE)
        payload = lifecycle.validate_payload(State.REPORTED, report)
        actor.require(Action.OPEN_CASE, district=payload["district"])
        party_data = _party(party)
        return self.write(
            actor, idempotency, lambda tx: self._create(tx, actor, payload, party_data)
        )

    def create_in(self, tx: LogTransaction, actor: Actor, report: Any) -> dict[str, Any]:
        """Open a case in REPORTED inside the caller's transaction, so that what the caller writes
        beside it (a citizen report's sealed details) commits with it or not at all."""
        actor.require(Action.OPEN_CASE)
        payload = lifecycle.validate_payload(State.REPORTED, report)
        actor.require(Action.OPEN_CASE, district=payload["district"])
        return self._create(tx, actor, payload, None)

    def transition(
        self,
        actor: Actor,
        case_no: str,
        target: Any,
        payload: Any,
        party: Any = None,
        idempotency: Idempotency | None = None,
    ) -> dict[str, Any]:
        """Step a case into `target`; refused steps raise and append nothing."""
        actor.require(Action.RECORD_STEP)
        state = _state(target)
        clean = lifecycle.validate_payload(state, payload if payload is not None else {})
        party_data = _party(party)
        return self.write(
            actor,
            idempotency,
            lambda tx: self._transition(tx, actor, case_no, state, clean, party_data),
        )

    def write(
        self,
        actor: Actor,
        idempotency: Idempotency | None,
        work: Callable[[LogTransaction], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run `work(tx)` in one log transaction (ledger/storage.py), committed with those of
        concurrent callers (ledger/group_commit.py); replay an idempotent retry's first answer
        instead."""

        def job(tx: LogTransaction) -> dict[str, Any]:
            if idempotency:
                replay = self._replay(tx, actor, idempotency)
                if replay is not None:
                    return replay
            result = work(tx)
            if idempotency:
                # Added now, so a retry in the same group finds it; the answer is final (with its
                # checkpoint) only once the head is sealed.
                record = IdempotencyRecord(
                    user_id=actor.user_id,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    status=201,
                    body=json.dumps(result),
                )
                tx.session.add(record)
                tx.when_sealed(lambda _: setattr(record, "body", json.dumps(result)))
            return result

        return self.commits.run(job)

    def _replay(
        self, tx: LogTransaction, actor: Actor, idempotency: Idempotency
    ) -> dict[str, Any] | None:
        record = tx.session.get(IdempotencyRecord, (actor.user_id, idempotency.key))
        if record is None:
            return None
        if record.request_hash != idempotency.request_hash:
            raise IdempotencyConflict(
                f"Idempotency-Key {idempotency.key!r} was used for a different request"
            )
        answer: dict[str, Any] = json.loads(record.body)
        # The first answer may be in this very group, its checkpoint not yet signed: take the
        # body again once it is.
        tx.when_sealed(lambda _: answer.update(json.loads(record.body)))
        return answer

    def _create(
        self, tx: LogTransaction, actor: Actor, payload: dict[str, Any], party: PartyData | None
    ) -> dict[str, Any]:
        serial = _next_serial(tx)
        now = self.clock()
        created_at = parse_time(now)
        case_no = f"CG-{now[:4]}-{serial:06d}"
        # Not added to the session: its row goes with the group's appended rows, in one statement
        # for the group's cases (LogTransaction.insert), once its chain's end is known.
        case = Case(
            case_no=case_no,
            serial=serial,
            state=State.REPORTED.value,
            violation_type=payload["violation_type"],
            district=payload["district"],
            source=payload["source"],
            officer=actor.username,
            seq=0,
            last_leaf_hash=b"",
            created_at=created_at,
            updated_at=created_at,
        )
        sealed = None if party is None else self._seal_party(case, party)
        if sealed is not None:
            payload = {**payload, "party": _party_claim(sealed)}
        answer = self._record(tx, actor, case, CASE_EVENTS[State.REPORTED], payload, now)
        tx.insert(Case, {column.key: getattr(case, column.key) for column in _CASE_COLUMNS})
        if sealed is not None:  # flushed after the case's row, which they point at (db.py)
            _add_party_rows(tx.session, case.case_no, sealed)
        return answer

    def _transition(
        self,
        tx: LogTransaction,
        actor: Actor,
        case_no: str,
        target: State,
        payload: dict[str, Any],
        party: PartyData | None,
    ) -> dict[str, Any]:
        session = tx.session
        case, logged = self.checked_case(session, actor, case_no)
        if party is not None:
            if target is not State.FILED or logged.party_key is not None:
                raise IllegalTransition(
                    "a party is recorded once: when the case is reported or filed"
                )
            payload = {**payload, "party": self._attach_party(session, case, party)}
            logged = replace(logged, party_key=case.party_key)
        facts = logged.facts()
        try:
            lifecycle.check_transition(facts, target, payload)
            if target is State.DECIDED and payload["outcome"] == Outcome.FIRST_OFFENCE_EXEMPT:
                lifecycle.check_first_offence(
                    case.case_no, self._earlier_penalties(session, logged)
                )
        except IllegalTransition as exc:
            log.info(
                "refused step of case %s from %s to %s by user %s: %s",
                case.case_no,
                case.state,
                target.value,
                actor.user_id,
                exc.code,
            )
            raise
        if target is State.DECIDED:
            case.outcome, case.amount_fen = payload["outcome"], payload.get("amount_fen")
        case.state = target.value
        return self._record(tx, actor, case, CASE_EVENTS[target], payload, self.clock())

    def erase_party(self, tx: LogTransaction, actor: Actor, case_no: str) -> dict[str, Any]:
        """Crypto-shred a party's data in `tx`: delete the sealed row and log the erasure; the
        leaves and proofs stay. What other domains sealed for the party goes in the same transaction
        (verify_portal/app/erasure.py)."""
        actor.require(Action.ERASE_PARTY)
        session = tx.session
        case, _ = self.checked_case(session, actor, case_no)
        row = session.get(Party, case_no)
        if row is None:
            raise NotFound(f"case {case_no} holds no personal data to erase")
        session.delete(row)
        return self._record(tx, actor, case, PARTY_ERASED, {}, self.clock())

    def _attach_party(self, session: Session, case: Case, party: PartyData) -> dict[str, str]:
        """Seal the party's data for an existing case; the event's claim about it."""
        sealed = self._seal_party(case, party)
        _add_party_rows(session, case.case_no, sealed)
        return _party_claim(sealed)

    def _seal_party(self, case: Case, party: PartyData) -> parties.SealedParty:
        sealed = parties.seal(self.party_secrets, party, case.case_no)
        case.party_key = sealed.party_key
        return sealed

    def _earlier_penalties(self, session: Session, case: CaseRow) -> list[str]:
        """The party's other cases of this violation type already fined or exempted, as their logs
        say.

        The party's cases come from `party_cases`, an append-only index the audit rebuilds from the
        log; each case's outcome from its own events, never from its row."""
        others = session.scalars(
            select(PartyCase.case_no).where(
                PartyCase.party_key == case.party_key, PartyCase.case_no != case.case_no
            )
        )
        penalised = []
        for case_no in others:
            other = self.logged_case(session, case_no)
            if (
                other is not None
                and other.violation_type == case.violation_type
                and other.outcome in (Outcome.FINE.value, Outcome.FIRST_OFFENCE_EXEMPT.value)
                and other.state != State.WITHDRAWN.value
            ):
                penalised.append(case_no)
        return penalised

    def _record(
        self,
        tx: LogTransaction,
        actor: Actor,
        case: Case,
        type_: str,
        payload: dict[str, Any],
        now: str,
    ) -> dict[str, Any]:
        check_payload(type_, payload)
        event = Event(
            type=type_,
            case_no=case.case_no,
            seq=case.seq,
            actor=actor.username,
            time=now,
            prev=case.last_leaf_hash.hex() if case.seq else None,
            payload=payload,
        )
        [appended] = tx.append([(event.encode(), case.case_no)])
        case.seq += 1
        case.last_leaf_hash = appended.leaf_hash
        case.updated_at = parse_time(now)
        return _with_checkpoint(
            tx,
            {
                "case_no": case.case_no,
                "state": case.state,
                "index": appended.index,
                "leaf_hash": appended.leaf_hash.hex(),
                "event": event.to_json(),
            },
        )

    def logged_case(self, session: Session, case_no: str) -> CaseRow | None:
        """The case as its events in the log say it is (ledger/projection.py)."""
        leaves = case_leaves(session, case_no)
        return projection.fold_case((leaf.leaf_hash, Event.decode(leaf.data)) for leaf in leaves)

    def disagreements(self, session: Session, case_no: str) -> list[str]:
        """How the case's row differs from its log, column by column (empty when they agree)."""
        case, logged = session.get(Case, case_no), self.logged_case(session, case_no)
        if case is None or logged is None:
            return (
                []
                if case is None and logged is None
                else [f"case {case_no}: the row or its events are missing"]
            )
        return [f"case {case_no}: {d}" for d in projection.differences(logged, row_values(case))]

    def checked_case(self, session: Session, actor: Actor, case_no: str) -> tuple[Case, CaseRow]:
        """The case's row and what its log says, for deciding; refused when they disagree, since
        then either the row was altered or the log was: nothing is written until an audit says
        which."""
        case = self.visible_case(session, actor, case_no)
        logged = self.logged_case(session, case_no)
        found = [] if logged is None else projection.differences(logged, row_values(case))
        if logged is None or found:
            what = "has no events in the log" if logged is None else "; ".join(map(str, found))
            log.warning("case %s refused a write: its row disagrees with its log", case_no)
            raise StoredStateMismatch(
                f"case {case_no}'s stored row disagrees with its log ({what}); nothing "
                "was written: run `lianzheng audit`",
                differences=[str(d) for d in found],
            )
        return case, logged

    def visible_case(self, session: Session, actor: Actor, case_no: str) -> Case:
        """The case if this actor may know it exists; the same NotFound otherwise."""
        case = session.get(Case, case_no) if len(case_no) <= MAX_CASE_NO else None
        if case is None or not actor.may_see_district(case.district):
            raise NotFound(f"no case {case_no[:MAX_CASE_NO]}")
        return case

    def append_event(
        self, tx: LogTransaction, actor: Actor, case_no: str, type_: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Append a non-lifecycle event (evidence, custody) to a case's chain, inside `write`'s
        work."""
        if type_.startswith("case."):
            raise ValueError("lifecycle events go through transition()")
        case, _ = self.checked_case(tx.session, actor, case_no)
        return self._record(tx, actor, case, type_, payload, self.clock())

    def append_chain_event(
        self, tx: LogTransaction, actor: Actor, chain: str, type_: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Append an event to a chain that is no case (`REGISTRY`, `INTAKE`), inside `write`'s
        work: its seq and prev come from the chain's last leaf, so the chain is read from the log
        itself."""
        if chain not in SERVICE_CHAINS:
            raise ValueError(f"{chain} is not a service chain")
        check_payload(type_, payload)
        last = tx.session.execute(
            select(Leaf.leaf_hash, Leaf.data)
            .where(Leaf.case_no == chain)
            .order_by(Leaf.leaf_index.desc())
            .limit(1)
        ).first()
        seq = 0 if last is None else Event.decode(last.data).seq + 1
        event = Event(
            type=type_,
            case_no=chain,
            seq=seq,
            actor=actor.username,
            time=self.clock(),
            prev=None if last is None else last.leaf_hash.hex(),
            payload=payload,
        )
        [appended] = tx.append([(event.encode(), chain)])
        return _with_checkpoint(
            tx,
            {
                "index": appended.index,
                "leaf_hash": appended.leaf_hash.hex(),
                "event": event.to_json(),
            },
        )

    # --- reads ---------------------------------------------------------------------

    def get(self, actor: Actor, case_no: str) -> dict[str, Any]:
        """A case with all its events in log order, and its party if still on record."""
        actor.require(Action.READ_CASE)
        with self.sessions() as session:
            case = self.visible_case(session, actor, case_no)
            events = [leaf.to_json() for leaf in case_leaves(session, case_no)]
            return {
                "case_no": case.case_no,
                "state": case.state,
                "state_zh": lifecycle.LABELS_ZH[State(case.state)],
                "violation_type": case.violation_type,
                "district": case.district,
                "source": case.source,
                "outcome": case.outcome,
                "amount_fen": case.amount_fen,
                "party": self._party_view(session, case, events),
                "events": events,
            }

    def _party_view(
        self, session: Session, case: Case, events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        if case.party_key is None:
            return None
        recorded = next(
            e["event"]["payload"]["party"] for e in events if "party" in e["event"]["payload"]
        )
        row = session.get(Party, case.case_no)
        if row is None:
            return {"erased": True, "commitment": recorded["commitment"]}
        salt, data = parties.unseal(self.party_secrets, row.nonce, row.ciphertext, case.case_no)
        return {
            "erased": False,
            "commitment": recorded["commitment"],
            "commitment_matches": parties.commitment(salt, data) == recorded["commitment"],
            "data": data.model_dump(exclude_none=True),
        }


def _state(value: Any) -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(
            f"unknown state {value!r}; states are {', '.join(s.value for s in State)}"
        ) from None


def _next_serial(tx: LogTransaction) -> int:
    """The next case's serial. Read once per log transaction, which holds the append lock, so no
    other writer takes serials meanwhile; the next creation in the same group counts on from it
    without a query, which would send that group's rows early (ledger/storage.py)."""
    last = tx.cache.get(_LAST_SERIAL)
    if last is None:
        [(last,)] = db.driver_rows(tx.session, "SELECT max(serial) FROM cases", ())
    serial = int(last or 0) + 1
    tx.cache[_LAST_SERIAL] = serial
    return serial


_LAST_SERIAL = "cases.last_serial"


def _party(value: Any) -> PartyData | None:
    if value is None:
        return None
    try:
        return PartyData.model_validate(value)
    except ValidationError as exc:
        raise invalid_input("party is invalid", exc) from exc


def row_values(case: Case) -> dict[str, object]:
    """A `cases` row as the values projection.CaseRow compares with (times in UTC)."""
    values: dict[str, object] = {c.name: getattr(case, c.name) for c in Case.__table__.columns}
    return values


_CASE_COLUMNS = tuple(Case.__table__.columns)


def _party_claim(sealed: parties.SealedParty) -> dict[str, str]:
    """What an event says of a party: a salted commitment and a keyed pseudonym, never the data."""
    return {"commitment": sealed.commitment, "key": sealed.party_key}


def _add_party_rows(session: Session, case_no: str, sealed: parties.SealedParty) -> None:
    session.add(Party(case_no=case_no, nonce=sealed.nonce, ciphertext=sealed.ciphertext))
    session.add(PartyCase(party_key=sealed.party_key, case_no=case_no))


def _with_checkpoint(tx: LogTransaction, answer: dict[str, Any]) -> dict[str, Any]:
    """`answer`, given the checkpoint its transaction commits under once that is signed."""
    tx.when_sealed(lambda head: answer.update(checkpoint=_head_json(head)))
    return answer


def _head_json(head: SignedHead) -> dict[str, Any]:
    return {"size": head.size, "root": head.root.hex()}
