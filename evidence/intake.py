"""The docking station's side of the server (采集站): what a station reads and writes while it
ingests bodycam footage into the intake chain (ledger/projection.py INTAKE).

Footage is linked to its case by the officer who carried the recorder or a supervisor, from the
cases proposed for it: open cases the carrier reported, with an event of theirs within a window
around the capture time. A link is an `evidence.linked` event in the case's chain naming the
intake registration's leaf, so the case's history carries its footage (DESIGN.md: The log).

A station deletes a file from a recorder only after `confirm` has shown that the log registered
those bytes: the answer comes from the item's row checked against its registration leaf, never
from the row alone. A shift ends with one `evidence.ingest-reported` event naming the hash of the
station's report file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import projection
from evidence.blobstore import BlobStore
from evidence.devices import registry_events
from evidence.errors import Purged
from evidence.integrity import check_item
from evidence.models import EvidenceItem
from evidence.service import item_json
from ledger.cases import CaseService
from ledger.errors import CaseClosed, InvalidInput, NotFound
from ledger.event_types import (
    EVIDENCE_LINKED,
    INGEST_REPORTED,
    INTAKE_LINKED,
    LINK_DECLINED,
    check_payload,
)
from ledger.events import Event, as_utc, format_time, parse_time
from ledger.lifecycle import State
from ledger.models import Case, Leaf
from ledger.projection import INTAKE
from ledger.roles import Role
from ledger.storage import LogTransaction, case_leaves
from ledger.users import Action, Actor

REPORT_FIELDS = frozenset(
    {"report_sha256", "started_at", "ended_at", "recorders", "files", "bytes", "kept"}
)


MAX_PROPOSALS = 20
FACTS = ("evidence_id", "sha256", "size", "media_type", "device", "captured_at", "registered_at")
ENDED_STATES = (State.CLOSED.value, State.WITHDRAWN.value)


class Intake:
    def __init__(
        self, cases: CaseService, blobs: BlobStore, window: timedelta = timedelta(hours=2)
    ) -> None:
        self.cases = cases
        self.blobs = blobs  # a purged item's bytes are gone: it is linked to no case
        self.sessions = cases.sessions
        self.window = window  # how far in time a case's events may be from a capture to propose it

    def confirm(self, actor: Actor, evidence_id: str) -> dict[str, Any]:
        """What the log recorded of an item the station ingested: hash, size, device, leaf."""
        actor.require(Action.INTAKE_EVIDENCE)
        with self.sessions() as session:
            item = session.get(EvidenceItem, evidence_id) if len(evidence_id) <= 40 else None
            # Docked footage stays confirmable once linked: a station may ask again after a restart.
            if item is None or (item.case_no != INTAKE and item.linked_leaf is None):
                raise NotFound(f"no intake footage {evidence_id[:40]}")
            check_item(session, item)
            return {
                "evidence_id": item.id,
                "sha256": item.sha256,
                "sm3": item.sm3,
                "size": item.size,
                "device": item.device,
                "captured_at": format_time(as_utc(item.captured_at)),
                "leaf_index": item.leaf_index,
            }

    def report(self, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
        """Log a shift's ingest report as one event of the intake chain."""
        actor.require(Action.INTAKE_EVIDENCE)
        check_payload(INGEST_REPORTED, body)
        if parse_time(body["started_at"]) > parse_time(body["ended_at"]):
            raise InvalidInput("the shift's ingest ended before it started")

        def work(tx: LogTransaction) -> dict[str, Any]:
            return self.cases.append_chain_event(tx, actor, INTAKE, INGEST_REPORTED, body)

        return self.cases.write(actor, None, work)

    # --- linking footage to its case ------------------------------------------------------

    def unlinked(self, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
        """Intake footage not linked to any case, newest first, each with who carried the recorder
        and the cases proposed for it; an officer sees only the footage they carried."""
        actor.require(Action.LINK_EVIDENCE)
        with self.sessions() as session:
            registry = registry_events(session)
            items = session.scalars(
                select(EvidenceItem)
                .where(EvidenceItem.case_no == INTAKE)
                .order_by(EvidenceItem.captured_at.desc())
                .limit(limit)
            )
            found = []
            for item in items:
                carrier = _carrier(registry, item)
                if actor.role is Role.OFFICER and carrier != actor.username:
                    continue
                found.append(
                    {
                        **_facts(item),
                        "carrier": carrier,
                        "proposals": self._proposals(session, actor, item, carrier),
                    }
                )
            return found

    def _proposals(
        self, session: Session, actor: Actor, item: EvidenceItem, carrier: str | None
    ) -> list[str]:
        """Open cases the carrier reported whose events by the carrier fall within the window around
        the capture time, unless a link to them was declined."""
        if carrier is None:
            return []
        captured = as_utc(item.captured_at)
        low, high = captured - self.window, captured + self.window
        cases = session.scalars(
            select(Case)
            .where(
                Case.officer == carrier,
                Case.created_at <= high,
                Case.updated_at >= low,
                Case.state.not_in(ENDED_STATES),
            )
            .order_by(Case.created_at)
            .limit(MAX_PROPOSALS)
        )
        proposed = []
        for case in cases:
            if not actor.may_see_district(case.district):
                continue
            events = [Event.decode(leaf.data) for leaf in case_leaves(session, case.case_no)]
            declined = any(
                e.type == LINK_DECLINED and e.payload["evidence_id"] == item.id for e in events
            )
            near = any(e.actor == carrier and low <= parse_time(e.time) <= high for e in events)
            if near and not declined:
                proposed.append(case.case_no)
        return proposed

    def link(self, actor: Actor, evidence_id: str, case_no: str) -> dict[str, Any]:
        """Link intake footage to its case: an `evidence.linked` event in the case's chain naming
        the registration's leaf; the item is the case's from then on."""
        return self._decide(actor, evidence_id, case_no, EVIDENCE_LINKED)

    def decline(self, actor: Actor, evidence_id: str, case_no: str) -> dict[str, Any]:
        """Decline a proposed link: an `evidence.link-declined` event in the case's chain; the
        footage stays unlinked and is not proposed for that case again."""
        return self._decide(actor, evidence_id, case_no, LINK_DECLINED)

    def _decide(self, actor: Actor, evidence_id: str, case_no: str, type_: str) -> dict[str, Any]:
        actor.require(Action.LINK_EVIDENCE)

        def work(tx: LogTransaction) -> dict[str, Any]:
            session = tx.session
            item = self._unlinked_item(session, actor, evidence_id)
            case, _ = self.cases.checked_case(session, actor, case_no)
            actor.require(Action.LINK_EVIDENCE, case.district)
            if case.state in ENDED_STATES:
                raise CaseClosed(f"case {case_no} is {case.state}: no evidence is added to it")
            registration = session.get_one(Leaf, item.leaf_index)
            payload: dict[str, Any] = {"evidence_id": item.id, "sha256": item.sha256}
            if type_ == EVIDENCE_LINKED:
                if item.poster_sha256:
                    payload["poster_sha256"] = item.poster_sha256
                payload["intake_index"] = item.leaf_index
                payload["intake_leaf"] = registration.leaf_hash.hex()
            written = self.cases.append_event(tx, actor, case_no, type_, payload)
            if type_ == EVIDENCE_LINKED:
                item.case_no, item.linked_leaf = case_no, written["index"]
                marker = {
                    "evidence_id": item.id,
                    "sha256": item.sha256,
                    "case_no": case_no,
                    "link_index": written["index"],
                }
                self.cases.append_chain_event(tx, actor, INTAKE, INTAKE_LINKED, marker)
            return written

        return self.cases.write(actor, None, work)

    def _unlinked_item(self, session: Session, actor: Actor, evidence_id: str) -> EvidenceItem:
        """The intake item, checked against its registration; NotFound unless it is unlinked and
        (for an officer) their own footage."""
        item = session.get(EvidenceItem, evidence_id) if len(evidence_id) <= 40 else None
        if item is None or item.case_no != INTAKE:
            raise NotFound(f"no unlinked intake footage {evidence_id[:40]}")
        check_item(session, item)
        if not self.blobs.exists(item.sha256):
            raise Purged(
                f"docked footage {item.id} was purged as unlinked: its record stays, its bytes "
                "are gone"
            )
        if actor.role is Role.OFFICER:
            if _carrier(registry_events(session), item) != actor.username:
                raise NotFound(f"no unlinked intake footage {evidence_id[:40]} of yours")
        return item


def _carrier(registry: list[Event], item: EvidenceItem) -> str | None:
    """The officer who carried the item's recorder when it was captured."""
    return projection.carrier_at(registry, item.device or "", as_utc(item.captured_at))


def _facts(item: EvidenceItem) -> dict[str, Any]:
    shown = item_json(item)
    return {key: shown[key] for key in FACTS}
