"""Witness cosignatures in the C2SP tlog-cosignature/v1 format (Ed25519, timestamped). Pure: no I/O.

A cosignature is one more signed-note line on a checkpoint:
`— <witness name> base64(key id || timestamp || signature)`, where the key id
is SHA-256(name || "\\n" || 0x04 || public key)[:4], the timestamp a
big-endian u64 of POSIX seconds, and the Ed25519 signature covers
"cosignature/v1\\n" "time <timestamp>\\n" followed by the checkpoint body.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import VerificationError

COSIGNATURE_TYPE = b"\x04"  # signed-note signature type of timestamped Ed25519 cosignatures
HEADER = "cosignature/v1\n"
_TIMESTAMP = struct.Struct(">Q")
_BLOB_SIZE = 4 + _TIMESTAMP.size + 64
_EM_DASH = "\u2014"


@dataclass(frozen=True)
class Cosigner:
    """A witness as a verifier knows it: its name and raw Ed25519 public key."""

    name: str
    public_key: bytes

    @property
    def note_key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.public_key)


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of a cosigner (tlog-cosignature: signature type 0x04)."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_TYPE + public_key).digest()[:4]


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosigner signs: the header line, the time line, then the checkpoint body."""
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosign(private_key: Ed25519PrivateKey, name: str, body: str, timestamp: int) -> str:
    """The signature line a witness named `name` adds to the checkpoint whose body is `body`."""
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(signed_message(body, timestamp))
    blob = cosigner_key_id(name, public) + _TIMESTAMP.pack(timestamp) + signature
    return f"{_EM_DASH} {name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosigned:
    """What one cosigner's line on a checkpoint says: when it cosigned, or what is wrong."""

    cosigner: Cosigner
    timestamp: int | None  # POSIX seconds of a line that verifies
    problem: str | None  # "missing", or why the line does not verify

    def describe(self) -> str:
        if self.timestamp is not None:
            moment = datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return f"cosigned by {self.cosigner.name} at {moment}"
        return f"{self.cosigner.name}: {self.problem}"


def cosignature_results(
    body: str, signatures: list[tuple[str, bytes]], cosigners: list[Cosigner]
) -> list[Cosigned]:
    """Each of `cosigners`: its verified cosignature's time, "missing", or why its line fails."""
    results = []
    for cosigner in cosigners:
        lines = [b for n, b in signatures if n == cosigner.name and b[:4] == cosigner.note_key_id]
        if not lines:
            results.append(Cosigned(cosigner, None, "missing"))
            continue
        try:
            results.append(Cosigned(cosigner, _check_line(body, cosigner, lines[0]), None))
        except VerificationError as exc:
            results.append(Cosigned(cosigner, None, exc.message))
    return results


def verified_cosigners(
    body: str, signatures: list[tuple[str, bytes]], cosigners: list[Cosigner]
) -> list[Cosigner]:
    """The cosigners among `cosigners` whose cosignature on `body` verifies.

    Lines of unknown keys are ignored (signed-note: name and key id must both
    match); a line of a known key that fails to verify raises, since it means
    the note was altered.
    """
    found = []
    for cosigner in cosigners:
        lines = [
            blob
            for name, blob in signatures
            if name == cosigner.name and blob[:4] == cosigner.note_key_id
        ]
        if lines:
            _check_line(body, cosigner, lines[0])
            found.append(cosigner)
    return found


def _check_line(body: str, cosigner: Cosigner, blob: bytes) -> int:
    """The line's timestamp once its signature verifies; VerificationError otherwise."""
    if len(blob) != _BLOB_SIZE:
        raise VerificationError(
            f"the cosignature of witness {cosigner.name} has {len(blob)} bytes, "
            f"expected {_BLOB_SIZE}"
        )
    (timestamp,) = _TIMESTAMP.unpack_from(blob, 4)
    if timestamp >= 1 << 63:
        raise VerificationError(
            f"the cosignature of witness {cosigner.name} has an impossible time"
        )
    key = Ed25519PublicKey.from_public_bytes(cosigner.public_key)
    try:
        key.verify(blob[4 + _TIMESTAMP.size :], signed_message(body, timestamp))
    except InvalidSignature:
        raise VerificationError(
            f"the cosignature of witness {cosigner.name} "
            f"(key {cosigner.note_key_id.hex()}) does not verify"
        ) from None
    return int(timestamp)
