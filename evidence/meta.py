"""What an uploader says about a file: tus `Upload-Metadata` pairs, parsed strictly. Pure.

Keys: case_no and captured_at (RFC 3339) are required; device, gps ("lat,lon"),
sha256 and sm3 (the client's hashes of the bytes, hex), signature (the device's, base64),
segment_seq and segment_prev (a bodycam's recording segments) are optional.
A docking station sends `intake` "1" and a device instead of a case number:
the footage joins the intake chain until someone links it to its case.
Unknown keys such as filename are ignored: a name says nothing about content.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.bounds import whole_number
from ledger.errors import InvalidInput
from ledger.projection import INTAKE

MAX_HEADER = 4096
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CASE_NO = re.compile(r"^[A-Z]{2}-\d{4}-\d{6,}$")


def parse_upload_metadata(header: str | None) -> dict[str, str]:
    """tus 1.0 Upload-Metadata: comma-separated `key base64(value)` pairs."""
    if not header:
        return {}
    if len(header) > MAX_HEADER:
        raise InvalidInput(f"Upload-Metadata is longer than {MAX_HEADER} characters")
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _KEY.match(key) or key in pairs:
            raise InvalidInput(f"Upload-Metadata has a bad or repeated key: {key[:64]!r}")
        try:
            pairs[key] = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text"
            ) from None
    return pairs


def encode_upload_metadata(pairs: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


@dataclass(frozen=True)
class UploadMeta:
    case_no: str
    captured_at: datetime
    captured_text: str = ""  # exactly as sent: part of what a device signs
    device: str | None = None
    gps: tuple[float, float] | None = None
    sha256: str | None = None
    sm3: str | None = None  # the client's SM3 of the bytes, hex (a docking station sends it)
    signature: bytes | None = None
    segment_seq: int | None = None
    segment_prev: str | None = None

    @property
    def intake(self) -> bool:
        """Footage from a docking station, for the intake chain rather than a case."""
        return self.case_no == INTAKE

    @classmethod
    def parse(cls, pairs: dict[str, str]) -> UploadMeta:
        return cls(
            case_no=_chain(pairs),
            captured_at=_time(pairs["captured_at"]),
            captured_text=pairs["captured_at"],
            device=_device(pairs.get("device")),
            gps=_gps(pairs.get("gps")),
            sha256=_hex(pairs.get("sha256")),
            sm3=_hex(pairs.get("sm3"), "sm3"),
            signature=_b64(pairs.get("signature")),
            segment_seq=_seq(pairs.get("segment_seq")),
            segment_prev=_hex(pairs.get("segment_prev"), "segment_prev"),
        )


EARLIEST_CAPTURE = datetime(
    2000, 1, 1, tzinfo=UTC
)  # no enforcement footage is older than this system


def _time(text: str) -> datetime:
    """An RFC 3339 time with its zone, converted to UTC (never re-labelled), from 2000 on."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise InvalidInput("captured_at needs a time zone (e.g. 2026-11-22T09:30:00+08:00)")
        moment = moment.astimezone(UTC)
    except (
        ValueError,
        OverflowError,
    ):  # 9999-12-31T23:59:59-23:59 is past the last representable moment
        raise InvalidInput(
            f"captured_at is not an RFC 3339 time that can be: {text[:40]!r}"
        ) from None
    if moment < EARLIEST_CAPTURE:
        raise InvalidInput(f"captured_at {text[:40]!r} is before {EARLIEST_CAPTURE.year}")
    return moment


def check_not_future(meta: UploadMeta, received_at: datetime, skew: timedelta) -> None:
    """Refuse a capture time after the upload's receipt (beyond clock skew): a future capture time
    would let a late upload escape the late flag."""
    if meta.captured_at > received_at + skew:
        raise InvalidInput(
            f"captured_at {meta.captured_text[:40]!r} is later than this upload arrived "
            f"(allowing {skew.total_seconds():.0f} s of clock skew)"
        )


def _chain(pairs: dict[str, str]) -> str:
    """The case number, or INTAKE for a docking station's footage (which names its device)."""
    intake = "intake" in pairs
    missing = ({"captured_at", "device"} if intake else {"case_no", "captured_at"}) - pairs.keys()
    if missing:
        raise InvalidInput(f"evidence metadata misses {', '.join(sorted(missing))}")
    if intake:
        if pairs["intake"] != "1" or "case_no" in pairs:
            raise InvalidInput("intake footage says intake 1 and names no case")
        return INTAKE
    if not _CASE_NO.match(pairs["case_no"]):
        raise InvalidInput("case_no is not a case number such as CG-2026-000001")
    return pairs["case_no"]


def _device(text: str | None) -> str | None:
    if text is not None and not _KEY.match(text):
        raise InvalidInput("device is not a serial number")
    return text


def _gps(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise InvalidInput("gps must be 'latitude,longitude'") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("gps is outside the globe")
    return lat, lon


def _hex(text: str | None, name: str = "sha256") -> str | None:
    if text is not None and not _HEX64.match(text):
        raise InvalidInput(f"{name} must be 64 lowercase hex digits")
    return text


def _b64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise InvalidInput("signature is not base64") from None


def _seq(text: str | None) -> int | None:
    return None if text is None else whole_number(text, "segment_seq")


def signed_message(meta: UploadMeta, sha256: str) -> bytes:
    """What a device signs: the file's hash and its capture facts, one per line."""
    seq = "-" if meta.segment_seq is None else str(meta.segment_seq)
    prev = meta.segment_prev or "-"
    return f"lianzheng-device-v1\n{sha256}\n{meta.captured_text}\n{seq}\n{prev}\n".encode()
