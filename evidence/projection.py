"""What the evidence tables must hold, computed from the log's events alone. Pure: no I/O.

- An evidence item is its registration event: hashes, size, type, who, which
  device, capture time, lateness, segment, origin of a derived copy.
- The device registry and the bodies evidence is shared with are folds of
  the registry chain (`device.registered`, `device.revoked`, `device.issued`,
  `recipient.registered`).
- A device's continuity is recomputed from its signed segments in log order;
  a gap a supervisor acknowledged (`evidence.gap-acknowledged`) is known, not
  a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ledger.event_types import (
    DEVICE_ISSUED,
    DEVICE_REGISTERED,
    DEVICE_REVOKED,
    GAP_ACKNOWLEDGED,
    RECIPIENT_REGISTERED,
)
from ledger.events import Event, parse_time
from ledger.projection import INTAKE

CERTIFIED, REVOKED = "certified", "revoked"
# Why a device's recordings have a gap, from a fixed list: the acknowledgement goes into the log.
GAP_REASONS = (
    "battery-failure",
    "storage-full",
    "device-fault",
    "transfer-interrupted",
    "segment-lost-before-upload",
    "recording-stopped-by-rule",
)


@dataclass(frozen=True)
class ItemRow:
    """The columns of an `evidence` row that its registration event determines."""

    id: str
    case_no: str
    sha256: str
    sm3: str | None
    size: int
    media_type: str
    officer: str
    device: str | None
    device_signed: int
    captured_at: datetime
    registered_at: datetime
    late: int
    media_sha256: str
    segment_seq: int | None
    segment_prev: str | None
    derived_from: str | None
    poster_sha256: str | None
    leaf_index: int
    linked_leaf: int | None = None


def item_of(index: int, event: Event) -> ItemRow:
    """The evidence row its registration event at leaf `index` determines."""
    p = event.payload
    segment = p.get("segment") or {}
    derived = p.get("derived_from") or {}
    return ItemRow(
        id=p["evidence_id"],
        case_no=event.case_no,
        sha256=p["sha256"],
        sm3=p.get("sm3"),
        size=p["size"],
        media_type=p["media_type"],
        officer=event.actor,
        device=p.get("device"),
        device_signed=int(bool(p.get("device_signed"))),
        captured_at=parse_time(p["captured_at"]),
        registered_at=parse_time(event.time),
        late=int(bool(p.get("late"))),
        media_sha256=p["media_sha256"],
        segment_seq=segment.get("seq"),
        segment_prev=segment.get("prev"),
        derived_from=derived.get("evidence_id"),
        poster_sha256=p.get("poster_sha256"),
        leaf_index=index,
    )


def linked(row: ItemRow, index: int, link: Event) -> ItemRow:
    """The row of intake footage once the link event at leaf `index` put it in its case."""
    return replace(row, case_no=link.case_no, linked_leaf=index)


def link_problem(row: ItemRow | None, intake_leaf: bytes | None, link: Event) -> str | None:
    """Why a link event does not link intake footage (None when it does): it must name a
    registration of the intake chain, with its hash and leaf, not linked before."""
    p = link.payload
    if row is None or intake_leaf is None or row.leaf_index != p["intake_index"]:
        return f"links {p['evidence_id']}, which leaf {p['intake_index']} does not register"
    if row.case_no != INTAKE or row.linked_leaf is not None:
        return f"links {p['evidence_id']}, which is already in case {row.case_no}"
    if row.sha256 != p["sha256"] or intake_leaf.hex() != p["intake_leaf"]:
        return f"links {p['evidence_id']} with another hash than its registration"
    return None


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    kind: str
    unit: str
    status: str
    algorithm: str
    public_key: bytes
    issued_to: str | None = None  # the officer who carries it (device.issued), if any


@dataclass
class Registry:
    """The device registry and the recipients of evidence, as the registry chain says."""

    devices: dict[str, DeviceRow] = field(default_factory=dict)
    recipients: set[str] = field(default_factory=set)

    def apply(self, event: Event) -> None:
        p = event.payload
        if event.type == DEVICE_REGISTERED:
            self.devices[p["serial"]] = DeviceRow(
                p["serial"],
                p["kind"],
                p["unit"],
                CERTIFIED,
                p["algorithm"],
                bytes.fromhex(p["public_key"]),
            )
        elif event.type == DEVICE_REVOKED and p["serial"] in self.devices:
            self.devices[p["serial"]] = replace(self.devices[p["serial"]], status=REVOKED)
        elif event.type == DEVICE_ISSUED and p["serial"] in self.devices:
            self.devices[p["serial"]] = replace(self.devices[p["serial"]], issued_to=p["officer"])
        elif event.type == RECIPIENT_REGISTERED:
            self.recipients.add(p["recipient"])


def carrier_at(events: Iterable[Event], serial: str, moment: datetime) -> str | None:
    """The officer a bodycam was issued to at `moment`, by the registry chain's events in log
    order; None if it was issued to nobody yet."""
    carrier = None
    for event in events:
        if event.type == DEVICE_ISSUED and event.payload["serial"] == serial:
            if parse_time(event.time) > moment:
                break
            carrier = event.payload["officer"]
    return carrier


def registry_of(events: Iterable[Event]) -> Registry:
    registry = Registry()
    for event in events:
        registry.apply(event)
    return registry


def continuity(items: Iterable[ItemRow]) -> dict[str, str | None]:
    """Each device segment's continuity problem (or None), recomputed in log order; only signed
    segments hold a place in a device's sequence."""
    last: dict[str, tuple[int, str]] = {}
    found: dict[str, str | None] = {}
    for item in sorted(items, key=lambda i: i.leaf_index):
        if item.device is None or item.segment_seq is None or not item.device_signed:
            continue
        found[item.id] = continuity_problem(
            last.get(item.device), item.segment_seq, item.segment_prev
        )
        previous = last.get(item.device)
        if previous is None or item.segment_seq > previous[0]:
            last[item.device] = (item.segment_seq, item.sha256)
    return found


def continuity_problem(
    last: tuple[int, str] | None, seq: int | None, prev: str | None
) -> str | None:
    """The continuity rule: segment n names segment n-1's hash; the first one is 0 or names
    nothing."""
    if seq is None:
        return None
    if last is None:
        return (
            None
            if seq == 0
            else f"segment {seq} is the first received: segments 0 to {seq - 1} are missing"
        )
    last_seq, last_hash = last
    if seq <= last_seq:
        return f"segment {seq} arrived after segment {last_seq}: out of order or inserted"
    if seq != last_seq + 1:
        missing = f"{last_seq + 1}" if seq == last_seq + 2 else f"{last_seq + 1} to {seq - 1}"
        return f"segment {seq} follows segment {last_seq}: segment {missing} missing"
    if prev != last_hash:
        return (
            f"segment {seq} names {prev or 'no'} previous hash, "
            f"but segment {last_seq} is {last_hash}"
        )
    return None


def acknowledged_gaps(events: Iterable[Event]) -> dict[str, str]:
    """Evidence id -> the reason a supervisor gave for its device's gap."""
    return {
        e.payload["evidence_id"]: e.payload["reason"] for e in events if e.type == GAP_ACKNOWLEDGED
    }


def as_row(obj: Any) -> dict[str, Any]:
    """A stored ORM row as a column -> value mapping, for projection.differences."""
    return {c.name: getattr(obj, c.name) for c in obj.__table__.columns}
