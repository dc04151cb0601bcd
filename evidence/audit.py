"""The evidence part of `lianzheng audit`: every evidence event's blob is there with its hash, posters too,
and each device's recording segments follow one another."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from evidence.blobstore import FileBlobStore
from evidence.devices import continuity_problem
from evidence.models import EvidenceItem
from evidence.service import REGISTERED
from ledger.audit import Report
from ledger.events import Event
from ledger.models import Leaf


def check(session: Session, blobs: FileBlobStore, report: Report) -> None:
    """Add a finding per missing or changed blob and per break in a device's segments."""
    seen: set[str] = set()
    rows = session.execute(select(Leaf.leaf_index, Leaf.data).where(_mentions(session, REGISTERED))
                           .order_by(Leaf.leaf_index))
    for index, data in rows:
        event = Event.decode(data)
        if event.type != REGISTERED:
            continue
        sha256 = event.payload["sha256"]
        if sha256 not in seen:
            seen.add(sha256)
            problem = blobs.verify(sha256)
            if problem:
                report.add(f"evidence {event.payload['evidence_id']} (leaf {index})", f"blob {sha256} {problem}")
    items = list(session.scalars(select(EvidenceItem).order_by(EvidenceItem.leaf_index)))
    for item in items:
        if item.poster_sha256 and (problem := blobs.verify(item.poster_sha256)):
            report.add(f"evidence {item.id}", f"poster frame {problem}")
    _segments(items, report)
    report.evidence = len(seen)


def _mentions(session: Session, word: str) -> ColumnElement[bool]:
    """Leaves whose bytes contain `"word"`: JCS writes the event type verbatim, so this finds every
    candidate, and decoding confirms. SQLite's LIKE does not match BLOBs; its instr does."""
    needle = f'"{word}"'.encode()
    if session.get_bind().dialect.name == "sqlite":
        return func.instr(Leaf.data, needle) > 0
    return Leaf.data.op("LIKE")(b"%" + needle + b"%")


def _segments(items: list[EvidenceItem], report: Report) -> None:
    """Re-check every device's segments in the order they were registered."""
    by_device: dict[str, list[EvidenceItem]] = defaultdict(list)
    for item in items:
        if item.device and item.segment_seq is not None:
            by_device[item.device].append(item)
    for device, segments in by_device.items():
        last: tuple[int, str] | None = None
        for item in segments:
            problem = continuity_problem(last, item.segment_seq, item.segment_prev)
            if problem:
                report.add(f"device {device}, evidence {item.id}", problem)
            if last is None or (item.segment_seq or 0) > last[0]:
                last = (item.segment_seq or 0, item.sha256)
