"""Log events: one canonical JSON object (RFC 8785) per leaf (DESIGN.md: Formats). Pure: no I/O.

An event names its case and carries the leaf hash of that case's previous
event (`prev`) and its position in the case (`seq`), so one case's history
reads as a hash chain inside the global tree. Personal data never appears
here: a party is a salted commitment and a keyed pseudonym (`parties.py`).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledger import jsontext
from ledger.errors import VerificationError
from ledger.merkle import leaf_hash

FORMAT_VERSION = 1
BEIJING = ZoneInfo("Asia/Shanghai")  # DESIGN.md: events are in UTC; people read Beijing time
_FIELDS = {"v", "type", "case_no", "seq", "actor", "time", "payload", "prev"}


def utc_now() -> str:
    """The current time as RFC 3339 UTC with microseconds, e.g. 2026-11-22T10:36:18.123456Z."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC text of an aware datetime, always four digits of year (strftime's %Y writes
    year 1 as "1")."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: object) -> datetime:
    """The moment an event's `time` names: RFC 3339 with its zone, as `format_time` writes it;
    raise VerificationError for anything else."""
    moment = None
    if isinstance(text, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment is None or moment.tzinfo is None:
        shown = str(text)[:40]
        raise VerificationError(f"event time {shown!r} is not an RFC 3339 time with a zone")
    return moment


def as_utc(moment: datetime) -> datetime:
    """A time read back from the database, in UTC: SQLite returns it without its zone (it was stored
    as UTC), PostgreSQL with the session's zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """One case event as it is hashed into the log."""

    type: str
    case_no: str
    seq: int
    actor: str
    time: str
    prev: str | None  # hex leaf hash of the case's previous event; None for its first
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object, with the format version."""
        return {
            "v": FORMAT_VERSION,
            "type": self.type,
            "case_no": self.case_no,
            "seq": self.seq,
            "actor": self.actor,
            "time": self.time,
            "prev": self.prev,
            "payload": self.payload,
        }

    def encode(self) -> bytes:
        """The leaf bytes: RFC 8785 canonical JSON."""
        return jsontext.canonical_bytes(self.to_json())

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.encode())

    @classmethod
    def from_json(cls, obj: Any) -> Event:
        """The event of a JSON object as `to_json` writes it; raise VerificationError otherwise."""
        if not isinstance(obj, dict) or set(obj) != _FIELDS:
            found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise VerificationError(f"event has fields {found}, expected {sorted(_FIELDS)}")
        if obj["v"] != FORMAT_VERSION:
            raise VerificationError(f"event format version {obj['v']!r} is not {FORMAT_VERSION}")
        # Filled straight into the instance's __dict__, whose keys are now exactly the fields: a
        # frozen dataclass's __init__ sets each field through object.__setattr__, which cost the
        # audit a tenth of its time (bench/ledger.py). The instance stays frozen.
        event = object.__new__(cls)
        event.__dict__.update(obj)
        del event.__dict__["v"]
        return event

    @classmethod
    def decode(cls, data: bytes) -> Event:
        """Parse leaf bytes; refuse anything that is not exactly our canonical encoding."""
        # checked first: a hostile leaf must not crash the audit
        if not jsontext.nests_at_most(data, jsontext.MAX_NESTING):
            raise VerificationError(f"event nests deeper than {jsontext.MAX_NESTING} levels")
        value = jsontext.canonical_value(data)  # the audit's fast path: about 2 µs a leaf
        if value is not None:
            return cls.from_json(value)
        try:
            event = cls.from_json(json.loads(data))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VerificationError(f"event is not JSON: {exc}") from exc
        if event.encode() != data:
            raise VerificationError("event bytes are not RFC 8785 canonical JSON")
        return event
