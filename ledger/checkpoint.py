"""Signed tree heads in the C2SP tlog-checkpoint signed-note format, Ed25519. Pure: no I/O.

A note is the body (origin, tree size, base64 root, each ending in a newline),
a blank line, then signature lines `— <key name> <base64(key id || signature)>`
(C2SP signed-note). The key id is the first 4 bytes of
SHA-256(key name || "\\n" || signature type || public key), 0x01 naming Ed25519.

Where the deployment has an SM2 checkpoint key (DESIGN.md: 国密 digests and signatures), a
second line follows the Ed25519 one, under the same key name (the origin). signed-note assigns
SM2 no type byte; its rule for such types is 0xff followed by a longer identifier, so the SM2
type is the bytes 0xff || "lianzheng/sm2-sm3" (`SM2_ALGORITHM`), the public key its 65 raw bytes
(04 || x || y), and the signature the DER `SEQUENCE {r, s}` of SM2 with SM3 and the default user
id over the note text, as `openssl pkeyutl -sign -rawin -digest sm3` makes it (ledger/sm2.py).
Verifiers that know only Ed25519 skip that line: its key id is not one they know.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger import sm2
from ledger.bounds import MAX_INT64
from ledger.errors import VerificationError
from ledger.merkle import HASH_SIZE

ED25519_ALGORITHM = b"\x01"  # signed-note signature type for Ed25519
SM2_ALGORITHM = b"\xfflianzheng/sm2-sm3"  # signed-note: 0xff, then an identifier of our own
_EM_DASH = "\u2014"
# A size in ASCII digits without leading zeros (C2SP tlog-checkpoint), short enough to convert:
# str.isdigit() also takes "²", which int() refuses, and int() refuses over 4,300 digits.
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its root."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The signed text: three lines, each ending in a newline."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_note_key_id(name: str, signature_type: bytes, raw_key: bytes) -> bytes:
    """The 4-byte signed-note key id: SHA-256(name || 0x0A || signature type || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + signature_type + raw_key).digest()[:4]


def note_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key id of `public_key` under `name`."""
    return signed_note_key_id(name, ED25519_ALGORITHM, raw_public_key(public_key))


class CheckpointSigner:
    """Signs checkpoints of one log with one Ed25519 key, and with an SM2 key beside it where the
    deployment has one; the key name is the origin."""

    def __init__(
        self, origin: str, private_key: Ed25519PrivateKey, sm2_key: sm2.PrivateKey | None = None
    ) -> None:
        self.origin = origin
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.note_key_id = note_key_id(origin, self.public_key)
        self.sm2: tuple[bytes, sm2.PrivateKey] | None = None  # its key id, and the key
        if sm2_key is not None:
            self.sm2 = (signed_note_key_id(origin, SM2_ALGORITHM, sm2.public_of(sm2_key)), sm2_key)

    def sign(self, size: int, root: bytes) -> str:
        """The signed note of the tree head `(size, root)`."""
        body = Checkpoint(self.origin, size, root).body()
        lines = [self._line(self.note_key_id, self.private_key.sign(body.encode()))]
        if self.sm2 is not None:
            sm2_key_id, sm2_key = self.sm2
            lines.append(self._line(sm2_key_id, sm2.sign(sm2_key, body.encode())))
        return body + "\n" + "".join(lines)

    def _line(self, key_id: bytes, signature: bytes) -> str:
        return f"{_EM_DASH} {self.origin} {base64.b64encode(key_id + signature).decode()}\n"


def parse_note(note: str) -> tuple[Checkpoint, str, list[tuple[str, bytes]]]:
    """Split a note into its checkpoint, its body text and its (name, key id + signature) lines."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise VerificationError("checkpoint note has no signature block")
    lines = body.split("\n")
    if len(lines) != 3:
        raise VerificationError(
            f"checkpoint body has {len(lines)} lines, expected 3 (origin, size, root)"
        )
    origin, size_text, root_text = lines
    if not _SIZE.fullmatch(size_text) or int(size_text) > MAX_INT64:
        raise VerificationError(
            f"checkpoint size {size_text[:40]!r} is not a decimal number from 0 to {MAX_INT64}"
        )
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as exc:
        raise VerificationError("checkpoint root is not base64") from exc
    if len(root) != HASH_SIZE:
        raise VerificationError(f"checkpoint root has {len(root)} bytes, expected {HASH_SIZE}")
    return Checkpoint(origin, int(size_text), root), body + "\n", _signature_lines(signatures)


def _signature_lines(block: str) -> list[tuple[str, bytes]]:
    found = []
    for line in block.rstrip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _EM_DASH:
            raise VerificationError(f"checkpoint signature line is malformed: {line[:80]!r}")
        try:
            found.append((parts[1], base64.b64decode(parts[2], validate=True)))
        except ValueError as exc:
            raise VerificationError("checkpoint signature is not base64") from exc
    return found


def verify_note(note: str, origin: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint of `note` if it is from `origin` and signed by `public_key`; else raise."""
    checkpoint, body, signatures = parse_note(note)
    if checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint is from log {checkpoint.origin!r}, expected {origin!r}"
        )
    wanted = note_key_id(origin, public_key)
    ours = [blob[4:] for name, blob in signatures if name == origin and blob[:4] == wanted]
    if not ours:
        raise VerificationError(f"checkpoint has no signature by key {wanted.hex()} of {origin!r}")
    try:
        public_key.verify(ours[0], body.encode())
    except InvalidSignature as exc:
        raise VerificationError(
            f"checkpoint signature by key {wanted.hex()} does not verify"
        ) from exc
    return checkpoint


@dataclass(frozen=True)
class SignedHead:
    """A checkpoint as the log stored it: its size, root and signed note."""

    size: int
    root: bytes
    note: str
