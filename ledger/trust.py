"""Trust roots (DESIGN.md: Formats, Trust root; What VERIFIED means). Pure: no I/O.

A trust root names what a verifier must already trust about one deployment:
the agency, the log's origin, which key signs checkpoints of which sizes,
which key signs packages at which times, the chain and contract anchors must
be on, the witnesses and their quorum. Everything a package, a receipt or a
server says about itself is checked against a root; nothing in them is
taken as a fact. Key ids are always recomputed from the keys.

Keys are Ed25519, and SM2 beside them (DESIGN.md: 国密 digests and signatures): where a root
lists an SM2 checkpoint key for a tree size, or an SM2 package key for a signing time, what it
covers must carry that SM2 signature as well as the Ed25519 one. The Ed25519 signature is always
required; SM2 is added, never instead.

Key periods are half-open, as Python ranges: a checkpoint key covers sizes
`valid_from_size <= size < valid_until_size`, a package key the times
`valid_from <= t < valid_until`; a rotation closes the old key exactly where
the new one begins.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger import jsontext, sm2
from ledger.bounds import has_control_character
from ledger.checkpoint import (
    ED25519_ALGORITHM,
    SM2_ALGORITHM,
    Checkpoint,
    parse_note,
    signed_note_key_id,
)
from ledger.cosignature import (
    Cosigner,
    cosignature_results,
    cosigner_key_id,
    verified_cosigners,
)
from ledger.errors import InvalidInput, VerificationError
from ledger.events import format_time

TRUST_ROOT_FORMAT = "lianzheng-trust/1"
MAX_ROOT_BYTES = 256 << 10
MAX_KEYS = 256
MAX_WITNESSES = 64
MAX_SIGNATURE_LINES = 64  # signed-note: verifiers must accept at least 16
_MEMBERS = {
    "format",
    "agency",
    "log_origin",
    "checkpoint_keys",
    "package_keys",
    "chain",
    "witnesses",
    "witness_quorum",
    "tsa",
    "require_chain_check",
    "replaces",
    "signatures",
}
_REQUIRED = _MEMBERS - {"replaces", "signatures"}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_KEY_NAME = re.compile(r"[^\s+]{1,255}")  # signed-note: no spaces, no plus
_MAX_U64 = (1 << 64) - 1
ED25519 = "ed25519"
SM2 = sm2.ALGORITHM
_NOTE_TYPES = {ED25519: ED25519_ALGORITHM, SM2: SM2_ALGORITHM}  # signed-note signature types
_RAW_SIZES = {ED25519: 32, SM2: sm2.RAW_SIZE}


def fingerprint(document: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the root's RFC 8785 bytes without its `signatures` member."""
    unsigned = {k: v for k, v in document.items() if k != "signatures"}
    return hashlib.sha256(jsontext.canonical_bytes(unsigned)).hexdigest()


def checkpoint_key_id(origin: str, public_key: bytes, algorithm: str = ED25519) -> str:
    """Hex of the 4-byte C2SP signed-note key id of a checkpoint key named `origin`."""
    return signed_note_key_id(origin, _NOTE_TYPES[algorithm], public_key).hex()


def package_key_id(public_key: bytes) -> str:
    """Hex of the first 8 bytes of SHA-256 of a raw package key: short enough to read out in
    court."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def short(fingerprint_hex: str) -> str:
    """A fingerprint as people compare it by eye: four groups of four hex digits, then an
    ellipsis."""
    return " ".join(fingerprint_hex[i : i + 4] for i in range(0, 16, 4)) + " …"


@dataclass(frozen=True)
class CheckpointKey:
    public_key: bytes
    key_id: str
    valid_from_size: int
    valid_until_size: int | None
    algorithm: str = ED25519

    def covers(self, size: int) -> bool:
        upper = self.valid_until_size
        return self.valid_from_size <= size and (upper is None or size < upper)

    def period(self) -> str:
        upper = "on" if self.valid_until_size is None else f"below {self.valid_until_size}"
        return f"sizes from {self.valid_from_size} {upper}"


@dataclass(frozen=True)
class PackageKey:
    public_key: bytes
    key_id: str
    valid_from: datetime
    valid_until: datetime | None
    algorithm: str = ED25519

    def covers(self, moment: datetime) -> bool:
        upper = self.valid_until
        return self.valid_from <= moment and (upper is None or moment < upper)

    def period(self) -> str:
        start = format_time(self.valid_from)
        return f"from {start}" + (
            "" if self.valid_until is None else f" until {format_time(self.valid_until)}"
        )


@dataclass(frozen=True)
class Witness:
    name: str
    public_key: bytes
    key_id: str
    url: str | None = None

    def cosigner(self) -> Cosigner:
        return Cosigner(self.name, self.public_key)


@dataclass(frozen=True)
class ChainPin:
    """The one chain and contract where this deployment's anchors count."""

    chain_id: int
    contract: str
    deployment_block: int
    confirmations: int

    def names(self, chain_id: object, contract: object) -> bool:
        """Whether a claimed (chain id, contract) is this pin's; addresses compare case-blind."""
        return chain_id == self.chain_id and str(contract).lower() == self.contract.lower()


@dataclass(frozen=True)
class TrustRoot:
    """A parsed, checked trust root; `document` is exactly what was read."""

    document: dict[str, Any]
    fingerprint: str
    agency: str
    log_origin: str
    checkpoint_keys: tuple[CheckpointKey, ...]
    package_keys: tuple[PackageKey, ...]
    chain: ChainPin | None
    witnesses: tuple[Witness, ...]
    witness_quorum: int
    tsa: str | None
    require_chain_check: bool
    replaces: str | None
    signatures: tuple[dict[str, str], ...] = field(default=())

    @classmethod
    def parse(cls, data: bytes | str, what: str = "the trust root") -> TrustRoot:
        """Parse and check a root's JSON text; InvalidInput names the first thing wrong."""
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > MAX_ROOT_BYTES:
            raise InvalidInput(f"{what} is {len(raw):,} bytes, more than {MAX_ROOT_BYTES:,}")
        return cls.from_document(jsontext.loads(raw, what, max_nesting=8), what)

    @classmethod
    def from_document(cls, document: Any, what: str = "the trust root") -> TrustRoot:
        return _Parser(what).root(document)

    def describe(self) -> str:
        """Agency and fingerprint, as a verdict names the root it checked against."""
        return f"{self.agency} (trust root {self.fingerprint})"

    def checkpoint_key(self, public_key: bytes) -> CheckpointKey | None:
        return next((k for k in self.checkpoint_keys if k.public_key == public_key), None)

    def package_key(self, public_key: bytes) -> PackageKey | None:
        return next((k for k in self.package_keys if k.public_key == public_key), None)

    def current_package_keys(self) -> list[PackageKey]:
        """The Ed25519 package keys not yet rotated out: the ones that may sign this root's
        successor."""
        return [k for k in self.package_keys if k.valid_until is None and k.algorithm == ED25519]

    def sm2_checkpoint_key(self, size: int) -> CheckpointKey | None:
        """The SM2 checkpoint key this root lists for `size`: a checkpoint of that size must carry
        its signature."""
        keys = self.checkpoint_keys
        return next((k for k in keys if k.algorithm == SM2 and k.covers(size)), None)

    def sm2_package_key(self, moment: datetime) -> PackageKey | None:
        """The SM2 package key this root lists for `moment`: a package signed then must carry its
        signature."""
        keys = self.package_keys
        return next((k for k in keys if k.algorithm == SM2 and k.covers(moment)), None)

    def sm2_package_key_over(self, moment: datetime, checkpoint_size: int) -> PackageKey | None:
        """The SM2 package key a package signed at `moment` over a checkpoint of
        `checkpoint_size` must carry a signature of, if any.

        A package is no older than its checkpoint. Over a checkpoint this root requires an SM2
        line on, the log was signing with SM2, and a Lianzheng deployment starts its SM2 package
        and checkpoint keys together (verify_portal/app/trust.py): an SM2 signature is required
        even where the signing time, the signer's own claim, precedes every SM2 package key.
        Else whoever held the Ed25519 package key alone could date a package back to escape the
        SM2 requirement. The first SM2 package key is named then: its period, checked with the
        signature, shows the date false."""
        by_time = self.sm2_package_key(moment)
        if by_time is not None or self.sm2_checkpoint_key(checkpoint_size) is None:
            return by_time
        keys = [k for k in self.package_keys if k.algorithm == SM2]
        return min(keys, key=lambda k: k.valid_from, default=None)


# --- what a verifier checks against a root ---------------------------------------------------


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    key: CheckpointKey  # the Ed25519 key that signed it
    body: str
    signatures: list[tuple[str, bytes]]
    sm2_key: CheckpointKey | None = None  # the SM2 key that signed it, where the root lists one

    def signers(self) -> str:
        """The keys that signed it, as a verdict names them."""
        sm2_key = self.sm2_key
        beside = "" if sm2_key is None else f" and SM2 key {sm2_key.key_id} ({sm2_key.period()})"
        return f"checkpoint key {self.key.key_id} ({self.key.period()}){beside}"


def verify_checkpoint(root: TrustRoot, note: str) -> VerifiedCheckpoint:
    """The checkpoint of `note` if a checkpoint key of `root`, valid at its size, signed it."""
    checkpoint, body, signatures = parse_note(note)
    if len(signatures) > MAX_SIGNATURE_LINES:
        raise VerificationError(
            f"the checkpoint carries {len(signatures)} signature lines, "
            f"more than {MAX_SIGNATURE_LINES}"
        )
    if checkpoint.origin != root.log_origin:
        raise VerificationError(
            f"the checkpoint is from log {checkpoint.origin!r}; the trusted root "
            f"{root.fingerprint} is for log {root.log_origin!r}"
        )
    known = {bytes.fromhex(k.key_id): k for k in root.checkpoint_keys}
    mine = [
        (known[blob[:4]], blob[4:])
        for name, blob in signatures
        if name == root.log_origin and blob[:4] in known
    ]
    if not mine:
        raise VerificationError(_unknown_signer(root, signatures))
    for key, signature in mine:  # signed-note: a known key's bad signature rejects the note
        _verify(
            key.algorithm,
            key.public_key,
            signature,
            body.encode(),
            f"the checkpoint's {key.algorithm} signature by key {key.key_id} does not verify",
        )
    covering = [key for key, _ in mine if key.covers(checkpoint.size)]
    return VerifiedCheckpoint(
        checkpoint,
        _covering_ed25519(root, checkpoint.size, mine, covering),
        body,
        signatures,
        _covering_sm2(root, checkpoint.size, covering),
    )


def _covering_ed25519(
    root: TrustRoot,
    size: int,
    mine: list[tuple[CheckpointKey, bytes]],
    covering: list[CheckpointKey],
) -> CheckpointKey:
    """The Ed25519 key among `covering`, which must sign every checkpoint."""
    found = [key for key in covering if key.algorithm == ED25519]
    if found:
        return found[0]
    ed25519 = [key for key, _ in mine if key.algorithm == ED25519]
    if not ed25519:
        raise VerificationError(
            f"the trusted root {root.fingerprint} does not list the Ed25519 key that signed the "
            f"checkpoint of size {size}; an SM2 signature alone is never enough"
        )
    key = ed25519[0]
    raise VerificationError(
        f"the checkpoint of size {size} is signed by key {key.key_id}, which the trusted root "
        f"{root.fingerprint} allows only for {key.period()}"
    )


def _covering_sm2(
    root: TrustRoot, size: int, covering: list[CheckpointKey]
) -> CheckpointKey | None:
    """The SM2 key that signed a checkpoint of `size`, when the root lists one for that size."""
    required = root.sm2_checkpoint_key(size)
    if required is None:
        return None
    signed = [key for key in covering if key.algorithm == SM2]
    if not signed:
        raise VerificationError(
            f"the trusted root {root.fingerprint} requires an SM2 signature by checkpoint key "
            f"{required.key_id} on checkpoints of size {size}, and this checkpoint has none"
        )
    return signed[0]


def _unknown_signer(root: TrustRoot, signatures: list[tuple[str, bytes]]) -> str:
    seen = ", ".join(f"{blob[:4].hex()} ({name})" for name, blob in signatures[:3]) or "no key"
    return (
        f"checkpoint signed by key {seen}, which the trusted root for origin "
        f"{root.log_origin!r} (fingerprint {root.fingerprint}) does not list"
    )


def witnesses_of(root: TrustRoot, verified: VerifiedCheckpoint) -> list[Witness]:
    """The root's witnesses whose cosignature on the checkpoint verifies."""
    by_cosigner = {w.cosigner(): w for w in root.witnesses}
    good = verified_cosigners(verified.body, verified.signatures, list(by_cosigner))
    return [by_cosigner[c] for c in good]


def check_witnesses(root: TrustRoot, verified: VerifiedCheckpoint) -> str | None:
    """What the quorum check found; None when the root asks for no witnesses. Raises when fewer than
    the quorum of the root's witnesses cosigned the checkpoint."""
    if root.witness_quorum == 0:
        return None
    cosigners = [w.cosigner() for w in root.witnesses]
    results = cosignature_results(verified.body, verified.signatures, cosigners)
    each = "; ".join(r.describe() for r in results)
    good = sum(r.timestamp is not None for r in results)
    forged = [r for r in results if r.problem not in (None, "missing")]
    if forged:  # signed-note: a known key's line that fails to verify means the note was altered
        raise VerificationError(f"a witness's cosignature does not verify ({each})")
    if good < root.witness_quorum:
        raise VerificationError(
            f"{good} of the {root.witness_quorum} cosignatures the trusted root requires ({each})"
        )
    return f"{good} of {root.witness_quorum} required cosignatures: {each}"


def pin_of_claim(
    root: TrustRoot,
    checkpoint: Checkpoint,
    chain_id: object,
    contract: object,
    size: object,
    root_hex: object,
) -> ChainPin | None:
    """The root's chain pin, once an anchor claim is shown to name the checkpoint and that pin; None
    when the root names no chain. The claim's own chain and contract are never used beyond this."""
    if (size, root_hex) != (checkpoint.size, checkpoint.root.hex()):
        raise VerificationError(
            f"the anchor is of size {size}, the checkpoint of size {checkpoint.size}"
        )
    if root.chain is None:
        return None
    if not root.chain.names(chain_id, contract):
        raise VerificationError(
            f"the anchor names contract {contract} on chain {chain_id}; the trusted root pins "
            f"contract {root.chain.contract} on chain {root.chain.chain_id}"
        )
    return root.chain


def verify_package_signature(
    root: TrustRoot,
    public_key: bytes,
    signature: bytes,
    message: bytes,
    signed_at: datetime,
    algorithm: str = ED25519,
) -> PackageKey:
    """The root's `algorithm` package key that made `signature` over `message` at `signed_at`;
    else raise."""
    key = root.package_key(public_key)
    if key is None or key.algorithm != algorithm:
        raise VerificationError(
            f"the package is signed by key {package_key_id(public_key)} ({algorithm}), which "
            f"the trusted root for origin {root.log_origin!r} (fingerprint "
            f"{root.fingerprint}) does not list as an {algorithm} package key"
        )
    _verify(
        algorithm,
        public_key,
        signature,
        message,
        f"the package's {algorithm} signature by key {key.key_id} does not verify",
    )
    if not key.covers(signed_at):
        raise VerificationError(
            f"the package says it was signed at {format_time(signed_at)} by key "
            f"{key.key_id}, which the trusted root allows only {key.period()}"
        )
    return key


def _verify(
    algorithm: str, public_key: bytes, signature: bytes, message: bytes, failure: str
) -> None:
    if algorithm == SM2:
        if not sm2.verify(public_key, signature, message):
            raise VerificationError(failure)
        return
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        raise VerificationError(failure) from None


# --- one root replacing another ---------------------------------------------------------------


def replacement_message(new_fingerprint: str) -> bytes:
    """What an old root's package key signs to vouch for its successor: the new fingerprint's
    ASCII."""
    return new_fingerprint.encode()


def sign_replacement(
    document: dict[str, Any], previous: TrustRoot, signing_key: Ed25519PrivateKey
) -> dict[str, Any]:
    """`document` naming `previous` as the root it replaces, signed by `signing_key`."""
    unsigned = {
        **{k: v for k, v in document.items() if k != "signatures"},
        "replaces": previous.fingerprint,
    }
    public = signing_key.public_key().public_bytes_raw()
    signature = signing_key.sign(replacement_message(fingerprint(unsigned)))
    entry = {
        "algorithm": "ed25519",
        "key_id": package_key_id(public),
        "signature": base64.b64encode(signature).decode(),
    }
    return {**unsigned, "signatures": [entry]}


def verify_replacement(old: TrustRoot, new: TrustRoot) -> PackageKey:
    """The package key of `old` that vouches for `new`; raise unless `new` properly replaces
    `old`."""
    if new.replaces != old.fingerprint:
        raise VerificationError(
            f"root {new.fingerprint} does not name {old.fingerprint} as the root it replaces"
        )
    if new.log_origin != old.log_origin:
        raise VerificationError(
            f"root {new.fingerprint} is for log {new.log_origin!r}, not {old.log_origin!r}"
        )
    message = replacement_message(new.fingerprint)
    for entry in new.signatures:
        for key in old.current_package_keys():
            if key.key_id == entry["key_id"] and _valid(
                key.public_key, entry["signature"], message
            ):
                return key
    raise VerificationError(
        f"root {new.fingerprint} carries no valid signature by a current package "
        f"key of root {old.fingerprint}"
    )


def _valid(public_key: bytes, signature_b64: str, message: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


def successor_chain(trusted: TrustRoot, candidates: Iterable[TrustRoot]) -> list[TrustRoot]:
    """The roots that replace `trusted` one after another, each vouched for by its predecessor.

    Two different successors of one root are refused: the agency published a split history.
    """
    by_replaced: dict[str, dict[str, TrustRoot]] = {}
    for candidate in candidates:
        if candidate.replaces:
            by_replaced.setdefault(candidate.replaces, {})[candidate.fingerprint] = candidate
    chain: list[TrustRoot] = []
    current = trusted
    while current.fingerprint in by_replaced and len(chain) < MAX_KEYS:
        successors = by_replaced[current.fingerprint]
        if len(successors) > 1:
            raise VerificationError(
                f"roots {' and '.join(sorted(successors))} both replace "
                f"{current.fingerprint}: a split history"
            )
        [successor] = successors.values()
        verify_replacement(current, successor)
        chain.append(successor)
        current = successor
    return chain


# --- parsing ------------------------------------------------------------------------------------


class _Parser:
    """Checks a root member by member; every refusal names the member and the rule."""

    def __init__(self, what: str) -> None:
        self.what = what

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.what}: {message}")

    def root(self, doc: Any) -> TrustRoot:
        if not isinstance(doc, dict):
            raise self.fail("is not a JSON object")
        unknown, missing = sorted(set(doc) - _MEMBERS), sorted(_REQUIRED - set(doc))
        if unknown or missing:
            raise self.fail(f"unknown members {unknown}, missing members {missing}")
        if doc["format"] != TRUST_ROOT_FORMAT:
            raise self.fail(f"format is {doc['format']!r}, not {TRUST_ROOT_FORMAT!r}")
        origin = self.text(doc["log_origin"], "log_origin", _KEY_NAME)
        witnesses = self.witnesses(doc["witnesses"])
        quorum = self.integer(doc["witness_quorum"], "witness_quorum", len(witnesses))
        chain = None if doc["chain"] is None else self.chain(doc["chain"])
        require_chain = self.boolean(doc["require_chain_check"], "require_chain_check")
        if require_chain and chain is None:
            raise self.fail("require_chain_check is true but no chain is named")
        return TrustRoot(
            document=doc,
            fingerprint=fingerprint(doc),
            agency=self.text(doc["agency"], "agency"),
            log_origin=origin,
            checkpoint_keys=self.checkpoint_keys(doc["checkpoint_keys"], origin),
            package_keys=self.package_keys(doc["package_keys"]),
            chain=chain,
            witnesses=witnesses,
            witness_quorum=quorum,
            tsa=None if doc["tsa"] is None else self.text(doc["tsa"], "tsa"),
            require_chain_check=require_chain,
            replaces=self.replaces(doc.get("replaces")),
            signatures=self.signatures(doc.get("signatures", [])),
        )

    def text(self, value: Any, name: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value or len(value) > 64 << 10:
            raise self.fail(f"{name} must be a non-empty string")
        if has_control_character(value, but="\t\n\r"):  # a PEM field has lines
            raise self.fail(f"{name} holds a control character")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(f"{name} {value[:80]!r} has the wrong form")
        return value

    def integer(self, value: Any, name: str, maximum: int = _MAX_U64) -> int:
        if type(value) is not int or not 0 <= value <= maximum:
            raise self.fail(f"{name} must be a whole number from 0 to {maximum}")
        return value

    def boolean(self, value: Any, name: str) -> bool:
        if type(value) is not bool:
            raise self.fail(f"{name} must be true or false")
        return value

    def moment(self, value: Any, name: str) -> datetime:
        text = self.text(value, name)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{name} {text!r} is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise self.fail(f"{name} {text!r} has no time zone")
        return parsed

    def public_key(self, value: Any, name: str, algorithm: str = ED25519) -> bytes:
        text = self.text(value, name)
        digits = 2 * _RAW_SIZES[algorithm]
        if not re.fullmatch(f"[0-9a-f]{{{digits}}}", text):
            raise self.fail(f"{name} must be {digits} lowercase hex digits (a raw {algorithm} key)")
        raw = bytes.fromhex(text)
        if algorithm == SM2 and not sm2.is_public_key(raw):
            raise self.fail(f"{name} is not a point of the SM2 curve (04 || x || y)")
        return raw

    def entries(
        self, value: Any, name: str, members: set[str], required: set[str], limit: int = MAX_KEYS
    ) -> list[dict[str, Any]]:
        if not isinstance(value, list) or len(value) > limit:
            raise self.fail(f"{name} must be a list of at most {limit} entries")
        for i, entry in enumerate(value):
            if not isinstance(entry, dict) or set(entry) - members or required - set(entry):
                raise self.fail(
                    f"{name}[{i}] must hold {sorted(required)} and only {sorted(members)}"
                )
        return value

    def algorithm(self, entry: dict[str, Any], name: str) -> str:
        if not isinstance(entry["algorithm"], str) or entry["algorithm"] not in _NOTE_TYPES:
            raise self.fail(
                f"{name}: algorithm {entry['algorithm']!r} is not supported "
                f"(only {', '.join(sorted(_NOTE_TYPES))})"
            )
        return str(entry["algorithm"])

    def recomputed_key_id(self, given: Any, computed: str, name: str) -> str:
        if given != computed:
            raise self.fail(f"{name}: key_id {given!r} is not the key's, which is {computed}")
        return computed

    def checkpoint_keys(self, value: Any, origin: str) -> tuple[CheckpointKey, ...]:
        members = {"algorithm", "public_key", "key_id", "valid_from_size", "valid_until_size"}
        entries = self.entries(value, "checkpoint_keys", members, members - {"valid_until_size"})
        if not entries:
            raise self.fail("checkpoint_keys is empty")
        keys = []
        for i, entry in enumerate(entries):
            name = f"checkpoint_keys[{i}]"
            algorithm = self.algorithm(entry, name)
            raw = self.public_key(entry["public_key"], f"{name}.public_key", algorithm)
            start = self.integer(entry["valid_from_size"], f"{name}.valid_from_size")
            end = entry.get("valid_until_size")
            if end is not None and self.integer(end, f"{name}.valid_until_size") <= start:
                raise self.fail(f"{name}: valid_until_size must exceed valid_from_size")
            computed = checkpoint_key_id(origin, raw, algorithm)
            key_id = self.recomputed_key_id(entry["key_id"], computed, name)
            keys.append(CheckpointKey(raw, key_id, start, end, algorithm))
        return tuple(keys)

    def package_keys(self, value: Any) -> tuple[PackageKey, ...]:
        members = {"algorithm", "public_key", "key_id", "valid_from", "valid_until"}
        entries = self.entries(value, "package_keys", members, members - {"valid_until"})
        if not entries:
            raise self.fail("package_keys is empty")
        keys = []
        for i, entry in enumerate(entries):
            name = f"package_keys[{i}]"
            algorithm = self.algorithm(entry, name)
            raw = self.public_key(entry["public_key"], f"{name}.public_key", algorithm)
            start = self.moment(entry["valid_from"], f"{name}.valid_from")
            end = entry.get("valid_until")
            until = None if end is None else self.moment(end, f"{name}.valid_until")
            if until is not None and until <= start:
                raise self.fail(f"{name}: valid_until must be after valid_from")
            key_id = self.recomputed_key_id(entry["key_id"], package_key_id(raw), name)
            keys.append(PackageKey(raw, key_id, start, until, algorithm))
        return tuple(keys)

    def chain(self, value: Any) -> ChainPin:
        members = {"chain_id", "contract", "deployment_block", "confirmations"}
        if not isinstance(value, dict) or set(value) != members:
            raise self.fail(f"chain must hold exactly {sorted(members)}")
        chain_id = self.integer(value["chain_id"], "chain.chain_id")
        if chain_id == 0:
            raise self.fail("chain.chain_id must be positive")
        return ChainPin(
            chain_id,
            self.text(value["contract"], "chain.contract", _ADDRESS),
            self.integer(value["deployment_block"], "chain.deployment_block"),
            self.integer(value["confirmations"], "chain.confirmations", 1 << 20),
        )

    def witnesses(self, value: Any) -> tuple[Witness, ...]:
        members = {"name", "public_key", "key_id", "url"}
        entries = self.entries(value, "witnesses", members, members - {"url"}, MAX_WITNESSES)
        found = []
        for i, entry in enumerate(entries):
            label = f"witnesses[{i}]"
            name = self.text(entry["name"], f"{label}.name", _KEY_NAME)
            raw = self.public_key(entry["public_key"], f"{label}.public_key")
            key_id = self.recomputed_key_id(
                entry["key_id"], cosigner_key_id(name, raw).hex(), label
            )
            url = entry.get("url")
            found.append(
                Witness(name, raw, key_id, None if url is None else self.text(url, f"{label}.url"))
            )
        if len({w.name for w in found}) != len(found):
            raise self.fail("witnesses names one witness twice")
        return tuple(found)

    def replaces(self, value: Any) -> str | None:
        if value is None:
            return None
        return self.text(value, "replaces", _HEX64)

    def signatures(self, value: Any) -> tuple[dict[str, str], ...]:
        members = {"algorithm", "key_id", "signature"}
        entries = self.entries(value, "signatures", members, members, 16)
        for i, entry in enumerate(entries):
            for member in members:
                self.text(entry[member], f"signatures[{i}].{member}")
        return tuple(entries)


def document_of(
    *,
    agency: str,
    log_origin: str,
    checkpoint_keys: list[dict[str, Any]],
    package_keys: list[dict[str, Any]],
    chain: dict[str, Any] | None,
    witnesses: list[dict[str, Any]] | None = None,
    witness_quorum: int = 0,
    tsa: str | None = None,
    require_chain_check: bool = False,
) -> dict[str, Any]:
    """A root document from its parts, members in the order DESIGN.md lists them."""
    return {
        "format": TRUST_ROOT_FORMAT,
        "agency": agency,
        "log_origin": log_origin,
        "checkpoint_keys": checkpoint_keys,
        "package_keys": package_keys,
        "chain": chain,
        "witnesses": witnesses or [],
        "witness_quorum": witness_quorum,
        "tsa": tsa,
        "require_chain_check": require_chain_check,
    }


def checkpoint_key_entry(
    origin: str,
    public_key: bytes,
    valid_from_size: int,
    valid_until_size: int | None = None,
    algorithm: str = ED25519,
) -> dict[str, Any]:
    """A `checkpoint_keys` entry, its key id computed."""
    entry: dict[str, Any] = {
        "algorithm": algorithm,
        "public_key": public_key.hex(),
        "key_id": checkpoint_key_id(origin, public_key, algorithm),
        "valid_from_size": valid_from_size,
    }
    if valid_until_size is not None:
        entry["valid_until_size"] = valid_until_size
    return entry


def package_key_entry(
    public_key: bytes,
    valid_from: datetime,
    valid_until: datetime | None = None,
    algorithm: str = ED25519,
) -> dict[str, Any]:
    """A `package_keys` entry, its key id computed and its times in RFC 3339 UTC."""
    entry: dict[str, Any] = {
        "algorithm": algorithm,
        "public_key": public_key.hex(),
        "key_id": package_key_id(public_key),
        "valid_from": format_time(valid_from),
    }
    if valid_until is not None:
        entry["valid_until"] = format_time(valid_until)
    return entry


def witness_entry(name: str, public_key: bytes, url: str | None = None) -> dict[str, Any]:
    """A `witnesses` entry, its key id computed as tlog-cosignature defines it."""
    entry: dict[str, Any] = {
        "name": name,
        "public_key": public_key.hex(),
        "key_id": cosigner_key_id(name, public_key).hex(),
    }
    if url is not None:
        entry["url"] = url
    return entry


class TrustRoots:
    """The roots a verifier trusts, looked up by the log origin a package or receipt names."""

    def __init__(self, roots: Iterable[TrustRoot] = ()) -> None:
        self.roots = list(roots)

    def for_origin(self, origin: str) -> TrustRoot | None:
        return next((r for r in self.roots if r.log_origin == origin), None)

    def origins(self) -> list[str]:
        return sorted({r.log_origin for r in self.roots})
