"""The evidence part of `lianzheng audit`: every evidence row, device, recipient and device segment
against the log (evidence/projection.py), every blob against its hash, posters too. A gap in a
device's recordings that a supervisor acknowledged is reported as acknowledged, not as a finding;
so is the blob of an item purged under its retention rule, while a purge that broke the rules (a
hold, an open case, too early) is a finding (evidence/retention.py)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import projection, retention
from evidence.blobstore import BlobStore
from evidence.models import Device, EvidenceItem, Recipient
from evidence.projection import ItemRow, Registry
from ledger.audit import AuditReport
from ledger.event_types import (
    EVIDENCE_CUSTODY,
    EVIDENCE_LINKED,
    EVIDENCE_REGISTERED,
    GAP_ACKNOWLEDGED,
    INTAKE_LINKED,
)
from ledger.events import Event, parse_time
from ledger.projection import INTAKE, REGISTRY, differences


class EvidenceProjection:
    """Folds the log into what the evidence tables must hold; fed every event by the audit."""

    def __init__(self) -> None:
        self.items: dict[str, ItemRow] = {}
        self.registry = Registry()
        self.gaps: dict[str, str] = {}  # evidence id -> the reason its gap was acknowledged
        self.kept: dict[str, retention.CaseRetention] = {}  # of the cases that have evidence
        self.purged: dict[str, str] = {}  # evidence id -> the rule it was purged under
        self.unlawful: list[tuple[int, Event, str]] = []  # purges that broke the rules, and why
        self.intake_leaves: dict[str, bytes] = {}  # intake footage -> its registration's leaf hash
        self.bad_links: list[tuple[int, Event, str]] = []  # link events that link nothing, and why
        self.marked: set[str] = set()  # linked footage the intake chain records as linked

    def observe(self, index: int, leaf_hash: bytes, event: Event) -> None:
        if event.case_no == REGISTRY:
            self.registry.apply(event)
            return
        if event.type == EVIDENCE_REGISTERED:
            self.items[event.payload["evidence_id"]] = projection.item_of(index, event)
            self.kept.setdefault(
                event.case_no, retention.CaseRetention(intake=event.case_no == INTAKE)
            )
            if event.case_no == INTAKE:
                self.intake_leaves[event.payload["evidence_id"]] = leaf_hash
        elif event.type == EVIDENCE_LINKED:
            self._link(index, event)
        elif event.type == INTAKE_LINKED:
            self._marker(index, event)
        elif event.type == GAP_ACKNOWLEDGED:
            self.gaps[event.payload["evidence_id"]] = event.payload["reason"]
        elif event.type == EVIDENCE_CUSTODY and event.payload["action"] == retention.PURGE:
            self._purge(index, event)
        if event.case_no in self.kept:
            self.kept[event.case_no].apply(event)

    def _link(self, index: int, event: Event) -> None:
        """Move linked intake footage into its case, or note why the event links nothing."""
        evidence_id = event.payload["evidence_id"]
        row = self.items.get(evidence_id)
        problem = projection.link_problem(row, self.intake_leaves.get(evidence_id), event)
        if problem is not None or row is None:
            self.bad_links.append((index, event, problem or ""))
            return
        self.items[evidence_id] = projection.linked(row, index, event)
        self.kept.setdefault(event.case_no, retention.CaseRetention(intake=event.case_no == INTAKE))

    def _marker(self, index: int, event: Event) -> None:
        """The intake chain's record of a link must name the link the case chain holds."""
        p = event.payload
        row = self.items.get(p["evidence_id"])
        if row is None or (row.case_no, row.linked_leaf) != (p["case_no"], p["link_index"]):
            problem = f"records {p['evidence_id']} as linked at leaf {p['link_index']}, which no "
            self.bad_links.append((index, event, problem + "case chain's link event is"))
            return
        self.marked.add(p["evidence_id"])

    def _purge(self, index: int, event: Event) -> None:
        """Check a purge against the case's events before it, then note it."""
        case = self.kept.get(event.case_no, retention.CaseRetention())
        evidence_id, rule = event.payload["evidence_id"], event.payload["reason"]
        problem = case.purge_problem(evidence_id, rule, parse_time(event.time))
        if problem is not None:
            self.unlawful.append((index, event, problem))
        self.purged[evidence_id] = rule


def check(
    session: Session, blobs: BlobStore, logged: EvidenceProjection, report: AuditReport
) -> None:
    """Add a finding per evidence, device or recipient row the log does not bear out, per missing or
    changed blob, and per unacknowledged break in a device's segments."""
    continuity = projection.continuity(logged.items.values())
    _items(session, logged, continuity, report)
    _devices(session, logged.registry, report)
    _recipients(session, logged.registry, report)
    _purges(logged, report)
    _links(logged, report)
    _blobs(blobs, logged, report)
    _segments(logged, continuity, report)


def _items(
    session: Session,
    logged: EvidenceProjection,
    continuity: dict[str, str | None],
    report: AuditReport,
) -> None:
    stored = {item.id: item for item in session.scalars(select(EvidenceItem))}
    for evidence_id, item in stored.items():
        row, where = logged.items.get(evidence_id), f"evidence {evidence_id}"
        if row is None:
            report.add(
                where, "the row has no registration in the log: it was inserted", item.case_no
            )
            continue
        for difference in differences(row, projection.as_row(item)):
            report.add(where, str(difference), item.case_no)
        if hashlib.sha256(item.media.encode()).hexdigest() != row.media_sha256:
            report.add(
                where, "its media facts do not hash to the media_sha256 in the log", item.case_no
            )
        if item.continuity != continuity.get(evidence_id):
            report.add(
                where,
                f"continuity: the log's segments say {continuity.get(evidence_id)!r}, the row "
                f"says {item.continuity!r}",
                item.case_no,
            )
    for evidence_id in sorted(logged.items.keys() - stored.keys()):
        row = logged.items[evidence_id]
        report.add(
            f"evidence {evidence_id}",
            f"the row is missing: leaf {row.leaf_index} registers it",
            row.case_no,
        )


def _devices(session: Session, registry: Registry, report: AuditReport) -> None:
    stored = {device.serial: device for device in session.scalars(select(Device))}
    for serial, device in stored.items():
        row = registry.devices.get(serial)
        if row is None:
            report.add(
                f"devices {serial}", "the row has no registration in the log: it was inserted"
            )
            continue
        for difference in differences(row, projection.as_row(device)):
            report.add(f"devices {serial}", str(difference))
    for serial in sorted(registry.devices.keys() - stored.keys()):
        report.add(f"devices {serial}", "the row is missing: the log registers the device")


def _recipients(session: Session, registry: Registry, report: AuditReport) -> None:
    stored = set(session.scalars(select(Recipient.id)))
    for code in sorted(stored - registry.recipients):
        report.add(f"recipients {code}", "the row has no registration in the log: it was inserted")
    for code in sorted(registry.recipients - stored):
        report.add(f"recipients {code}", "the row is missing: the log registers the body")


def _purges(logged: EvidenceProjection, report: AuditReport) -> None:
    for index, event, problem in logged.unlawful:
        evidence_id = event.payload["evidence_id"]
        report.add(f"leaf {index}", f"purge of evidence {evidence_id}: {problem}", event.case_no)


def _links(logged: EvidenceProjection, report: AuditReport) -> None:
    for index, event, problem in logged.bad_links:
        report.add(f"leaf {index}", problem, event.case_no)
    for row in logged.items.values():
        if row.linked_leaf is not None and row.id not in logged.marked:
            report.add(
                f"leaf {row.linked_leaf}",
                f"links {row.id}, but the intake chain has no record of the link",
                row.case_no,
            )


def _blobs(blobs: BlobStore, logged: EvidenceProjection, report: AuditReport) -> None:
    seen: set[str] = set()
    for row in sorted(logged.items.values(), key=lambda r: r.leaf_index):
        if row.id in logged.purged:  # its bytes went by rule; an item kept may share them
            report.acknowledge(
                f"evidence {row.id} (leaf {row.leaf_index})",
                f"purged under rule {logged.purged[row.id]}",
                row.case_no,
            )
            continue
        for sha256, what in ((row.sha256, "blob"), (row.poster_sha256, "poster frame")):
            if sha256 is None or sha256 in seen:
                continue
            seen.add(sha256)
            problem = blobs.verify(sha256)
            if problem:
                report.add(
                    f"evidence {row.id} (leaf {row.leaf_index})",
                    f"{what} {sha256} {problem}",
                    row.case_no,
                )
    report.evidence = len(seen)


def _segments(
    logged: EvidenceProjection, continuity: dict[str, str | None], report: AuditReport
) -> None:
    for evidence_id, problem in continuity.items():
        if problem is None:
            continue
        row = logged.items[evidence_id]
        where = f"device {row.device}, evidence {evidence_id}"
        if evidence_id in logged.gaps:
            report.acknowledge(
                where, f"{problem} (acknowledged: {logged.gaps[evidence_id]})", row.case_no
            )
        else:
            report.add(where, problem, row.case_no)
