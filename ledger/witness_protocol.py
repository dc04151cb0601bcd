"""The C2SP tlog-witness protocol: the `add-checkpoint` request and the rules a witness applies
before it cosigns (DESIGN.md: Formats, Witness protocol; Witnesses). Pure: no I/O.

A request body is `old <size>`, up to 63 base64 consistency-proof lines, an empty line, then the
checkpoint note. The witness answers 404 for a log it does not know, 403 when no trusted key
signed the note (or a trusted key's line does not verify), 400 for a malformed request or an old
size beyond the checkpoint's, 409 with its stored size when the old size is not the one it holds,
422 when the checkpoint is not consistent with what it holds. A 422 for a checkpoint the log's
key really signed is a split view: the witness keeps both notes as evidence.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import merkle
from ledger.checkpoint import Checkpoint, note_key_id, parse_note
from ledger.errors import LianzhengError, VerificationError

MAX_REQUEST_BYTES = 64 << 10  # a note with a few dozen signatures and 63 proof lines fits 8 KiB
MAX_PROOF_LINES = 63  # tlog-witness: a client MUST NOT send more
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


class WitnessRefused(LianzhengError):
    """A witness's refusal to cosign; `status` is the HTTP status tlog-witness prescribes."""

    code = "witness-refused"
    status = 400


class UnknownLog(WitnessRefused):
    code = "witness-unknown-log"
    status = 404


class NotSignedByLog(WitnessRefused):
    code = "witness-bad-signature"
    status = 403


class OldSizeConflict(WitnessRefused):
    """The old size is not the size of the checkpoint the witness last cosigned."""

    code = "witness-size-conflict"
    status = 409

    def __init__(self, stored_size: int) -> None:
        super().__init__(
            f"the witness holds a checkpoint of size {stored_size}", stored_size=stored_size
        )
        self.stored_size = stored_size


class Inconsistent(WitnessRefused):
    """The checkpoint does not extend what the witness holds (or its proof does not show it)."""

    code = "witness-inconsistent"
    status = 422


@dataclass(frozen=True)
class AddCheckpoint:
    """One add-checkpoint request."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class Held:
    """The checkpoint a witness last cosigned for a log."""

    size: int
    root: bytes
    note: str


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The add-checkpoint body a log sends."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + note).encode()


def parse_request(body: bytes) -> AddCheckpoint:
    """An add-checkpoint body read under its bounds; WitnessRefused (400) when malformed."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessRefused(f"the request has {len(body)} bytes, at most {MAX_REQUEST_BYTES}")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise WitnessRefused("the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefused("the request has no empty line before the checkpoint")
    lines = head.split("\n")
    old = lines[0].removeprefix("old ")
    if not lines[0].startswith("old ") or not _DECIMAL.fullmatch(old):
        raise WitnessRefused(f"the first line must be `old <size>`, got {lines[0][:40]!r}")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefused(f"{len(lines) - 1} proof lines, at most {MAX_PROOF_LINES}")
    return AddCheckpoint(int(old), tuple(_hash_line(line) for line in lines[1:]), note)


def _hash_line(line: str) -> bytes:
    try:
        value = base64.b64decode(line, validate=True)
    except ValueError:
        raise WitnessRefused("a proof line is not base64") from None
    if len(value) != merkle.HASH_SIZE:
        raise WitnessRefused(f"a proof line holds {len(value)} bytes, not {merkle.HASH_SIZE}")
    return value


def judge(request: AddCheckpoint, log_keys: list[bytes] | None, held: Held | None) -> Checkpoint:
    """The checkpoint to cosign, or the refusal tlog-witness prescribes. `log_keys` are the raw
    Ed25519 keys the witness trusts for the note's origin (None: an unknown log); `held` is what it
    last cosigned for that log (None: nothing yet). Checked in the spec's order."""
    checkpoint = signed_checkpoint(request.note, log_keys)
    if request.old_size > checkpoint.size:
        raise WitnessRefused(
            f"old size {request.old_size} is beyond the checkpoint's size {checkpoint.size}"
        )
    held_size = 0 if held is None else held.size
    if request.old_size != held_size:
        raise OldSizeConflict(held_size)
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        raise Inconsistent("a checkpoint of size 0 must have the empty tree's root")
    if held is None or request.old_size == 0:
        if request.proof:
            raise Inconsistent("a proof from size 0 must be empty")
        return checkpoint
    if held.size == checkpoint.size:
        if held.root != checkpoint.root:
            raise Inconsistent(f"another root for size {checkpoint.size} than the one held")
        return checkpoint
    try:
        merkle.verify_consistency(
            held.size, checkpoint.size, held.root, checkpoint.root, list(request.proof)
        )
    except VerificationError as exc:
        raise Inconsistent(f"no consistency from the held size {held.size}: {exc.message}") from exc
    return checkpoint


def signed_checkpoint(note: str, log_keys: list[bytes] | None) -> Checkpoint:
    """The note's checkpoint once one of `log_keys` is seen to sign it (signed-note: lines of other
    keys are ignored, a line of a trusted key that fails to verify refuses the note)."""
    try:
        checkpoint, body, signatures = parse_note(note)
    except VerificationError as exc:
        raise WitnessRefused(f"the checkpoint is malformed: {exc.message}") from exc
    if log_keys is None:
        raise UnknownLog(f"this witness does not know the log {checkpoint.origin!r}")
    signed = False
    for raw in log_keys:
        key = Ed25519PublicKey.from_public_bytes(raw)
        wanted = note_key_id(checkpoint.origin, key)
        for name, blob in signatures:
            if name != checkpoint.origin or blob[:4] != wanted:
                continue
            try:
                key.verify(blob[4:], body.encode())
            except InvalidSignature:
                raise NotSignedByLog(
                    f"the signature by log key {wanted.hex()} does not verify"
                ) from None
            signed = True
    if not signed:
        raise NotSignedByLog(f"no signature by a key this witness trusts for {checkpoint.origin!r}")
    return checkpoint


def parse_size_conflict(body: bytes) -> int:
    """The witness's stored size from a 409 answer (`<size>\\n`)."""
    text = body.decode(errors="replace").strip()
    if not _DECIMAL.fullmatch(text):
        raise VerificationError(f"a 409 answer must hold a size, got {text[:40]!r}")
    return int(text)


def origin_hash(origin: str) -> str:
    """The origin's name in a witness's monitoring URL: lowercase hex SHA-256."""
    return hashlib.sha256(origin.encode()).hexdigest()
