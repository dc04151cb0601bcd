"""The docking station's side of the server (采集站): what a station reads and writes while it
ingests bodycam footage into the intake chain (ledger/projection.py INTAKE).

A station deletes a file from a recorder only after `confirm` has shown that the log registered
those bytes: the answer comes from the item's row checked against its registration leaf, never
from the row alone. A shift ends with one `evidence.ingest-reported` event naming the hash of the
station's report file.
"""

from __future__ import annotations

from typing import Any

from evidence.integrity import check_item
from evidence.models import EvidenceItem
from ledger.cases import CaseService
from ledger.errors import InvalidInput, NotFound
from ledger.event_types import INGEST_REPORTED, check_payload
from ledger.events import as_utc, format_time
from ledger.projection import INTAKE, parse_time
from ledger.storage import LogTransaction
from ledger.users import Action, Actor

REPORT_FIELDS = frozenset(
    {"report_sha256", "started_at", "ended_at", "recorders", "files", "bytes", "kept"}
)


class Intake:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.sessions = cases.sessions

    def confirm(self, actor: Actor, evidence_id: str) -> dict[str, Any]:
        """What the log recorded of an item the station ingested: hash, size, device, leaf."""
        actor.require(Action.INTAKE_EVIDENCE)
        with self.sessions() as session:
            item = session.get(EvidenceItem, evidence_id) if len(evidence_id) <= 40 else None
            if item is None or item.case_no != INTAKE:
                raise NotFound(f"no intake footage {evidence_id[:40]}")
            check_item(session, item)
            return {
                "evidence_id": item.id,
                "sha256": item.sha256,
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
