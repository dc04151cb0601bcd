"""Every type of event the log holds and the shape of its payload, in one place: the names are part
of the log's fixed format (DESIGN.md: Formats), read back by the audit, the projections, the offline
verifier and the citizen page. Each payload is checked against its shape before it is appended, so
nothing but codes, hashes, numbers and times reaches a leaf: no free text, no personal data.
Pure: no I/O."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.errors import invalid_input
from ledger.lifecycle import CODE, PAYLOADS, State

# A case's steps: `case.<state>`, one per state of the lifecycle (ledger/lifecycle.py).
CASE_EVENTS = {state: f"case.{state.value.lower()}" for state in State}
# The party of a case: its data crypto-shredded; its statement at the notice stage (sealed off the
# log).
PARTY_ERASED = "party.erased"
PARTY_STATEMENT = "party.statement"
# Evidence of a case: a file registered; who viewed, played, downloaded, exported or shared it;
# a supervisor's explanation of a gap in a device's recordings.
EVIDENCE_REGISTERED = "evidence.registered"
EVIDENCE_CUSTODY = "evidence.custody"
GAP_ACKNOWLEDGED = "evidence.gap-acknowledged"
# The intake chain (ledger/projection.py INTAKE): a docking station's shift, as one event naming the
# hash of its ingest report (the report itself, listing every file, stays with the station).
INGEST_REPORTED = "evidence.ingest-reported"
# Intake footage linked to its case (in the case's chain, naming the intake registration's leaf),
# or a proposed link an officer or supervisor declined.
EVIDENCE_LINKED = "evidence.linked"
LINK_DECLINED = "evidence.link-declined"
# The intake chain's own record that footage left it for a case: the retention run reads which
# docked footage is unlinked from that chain alone.
INTAKE_LINKED = "evidence.intake-linked"
# The registry chain (ledger/cases.py REGISTRY): devices and the bodies evidence may be shared with.
DEVICE_REGISTERED = "device.registered"
DEVICE_REVOKED = "device.revoked"
DEVICE_ISSUED = "device.issued"  # a bodycam handed to an officer (by account code), until reissued
RECIPIENT_REGISTERED = "recipient.registered"

Code = Annotated[str, Field(pattern=CODE)]
CaseNo = Annotated[str, Field(pattern=r"^[A-Z]{2}-\d{4}-\d{6,}$")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
EvidenceId = Annotated[str, Field(pattern=r"^EV-[0-9a-f]{1,40}$")]
Serial = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Time = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")]
MediaType = Annotated[str, Field(pattern=r"^[a-z]{1,32}/[a-z0-9.+-]{1,64}$")]
Number = Annotated[int | float, Field(ge=0, le=1 << 53)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PartyRef(_Shape):
    """What a case event says of its party: a salted commitment and a keyed pseudonym, never the
    data."""

    commitment: Hex64
    key: Hex64


class EvidenceRef(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64


class Segment(_Shape):
    seq: Annotated[int, Field(ge=0, le=(1 << 63) - 1)]
    prev: Hex64 | None


class Trim(_Shape):
    op: Literal["trim"]
    start: Number
    duration: Number


class Blur(_Shape):
    op: Literal["blur"]
    x: Number
    y: Number
    w: Number
    h: Number


class EvidenceRegistered(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64
    sm3: Hex64 | None = None  # GB/T 32905, beside SHA-256 (DESIGN.md: 国密 digests); None before it
    size: Annotated[int, Field(ge=0, le=(1 << 63) - 1)]
    media_type: MediaType
    captured_at: Time
    media_sha256: Hex64 | None
    device_signed: bool
    late: bool
    device: Serial | None = None
    poster_sha256: Hex64 | None = None
    segment: Segment | None = None
    derived_from: EvidenceRef | None = None
    operation: Trim | Blur | None = Field(default=None, discriminator="op")


class EvidenceCustody(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64
    action: Code
    role: Code
    reason: Code
    recipient: Code | None = None


class GapAcknowledged(_Shape):
    evidence_id: EvidenceId
    device: Serial | None
    reason: Code


Count = Annotated[int, Field(ge=0, le=1 << 53)]


class IngestReported(_Shape):
    report_sha256: Hex64
    started_at: Time
    ended_at: Time
    recorders: Count
    files: Count  # confirmed by the server and wiped from their recorders
    bytes: Count
    kept: Count  # left on their recorders: refused, changed while copied, or not confirmed


class EvidenceLinked(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64
    poster_sha256: Hex64 | None = None
    intake_index: Annotated[int, Field(ge=0, le=(1 << 63) - 1)]  # the registration's leaf
    intake_leaf: Hex64  # its leaf hash


class IntakeLinked(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64
    case_no: CaseNo
    link_index: Annotated[int, Field(ge=0, le=(1 << 63) - 1)]  # the case's evidence.linked leaf


class LinkDeclined(_Shape):
    evidence_id: EvidenceId
    sha256: Hex64


class PartyStatement(_Shape):
    commitment: Hex64  # of the sealed text, which stays off the log
    channel: Literal["portal"]
    photos: Annotated[list[EvidenceRef], Field(max_length=3)]


class PartyErased(_Shape):
    pass


class DeviceRegistered(_Shape):
    serial: Serial
    kind: Code
    unit: Code
    algorithm: Code
    public_key: Annotated[str, Field(pattern=r"^[0-9a-f]{2,1024}$")]


class DeviceRevoked(_Shape):
    serial: Serial


class DeviceIssued(_Shape):
    serial: Serial
    officer: Code  # the officer's account code (a badge number), never a name


class RecipientRegistered(_Shape):
    recipient: Code


PAYLOAD_SHAPES: dict[str, type[_Shape]] = {
    PARTY_ERASED: PartyErased,
    PARTY_STATEMENT: PartyStatement,
    EVIDENCE_REGISTERED: EvidenceRegistered,
    EVIDENCE_CUSTODY: EvidenceCustody,
    GAP_ACKNOWLEDGED: GapAcknowledged,
    INGEST_REPORTED: IngestReported,
    EVIDENCE_LINKED: EvidenceLinked,
    LINK_DECLINED: LinkDeclined,
    INTAKE_LINKED: IntakeLinked,
    DEVICE_REGISTERED: DeviceRegistered,
    DEVICE_REVOKED: DeviceRevoked,
    DEVICE_ISSUED: DeviceIssued,
    RECIPIENT_REGISTERED: RecipientRegistered,
}
_STEPS = {name: state for state, name in CASE_EVENTS.items()}

ALL = frozenset([*CASE_EVENTS.values(), *PAYLOAD_SHAPES])


def check_payload(type_: str, payload: dict[str, Any]) -> None:
    """Raise InvalidInput unless `payload` has exactly the shape its event type allows. A case
    step's payload is its lifecycle payload (ledger/lifecycle.py) plus, where a party is attached,
    its `PartyRef`."""
    try:
        if type_ in _STEPS:
            step = {key: value for key, value in payload.items() if key != "party"}
            PAYLOADS[_STEPS[type_]].model_validate(step)
            if "party" in payload:
                PartyRef.model_validate(payload["party"])
        elif type_ in PAYLOAD_SHAPES:
            PAYLOAD_SHAPES[type_].model_validate(payload)
        else:
            raise ValueError(f"{type_!r} is not an event type of this log")
    except ValidationError as exc:
        raise invalid_input(f"the payload of a {type_} event is not of its shape", exc) from exc
