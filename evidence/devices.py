"""The device registry (非现场执法): bodycams and fixed cameras, their keys, and recording continuity."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from evidence.errors import DeviceRefused
from evidence.meta import UploadMeta, signed_message
from evidence.models import Device, EvidenceItem
from ledger.errors import InvalidInput, NotFound
from ledger.users import Actor, Role

ADMINS = frozenset({Role.ADMIN})
KINDS = ("bodycam", "camera")
CERTIFIED, REVOKED = "certified", "revoked"


class DeviceRegistry:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def register(self, actor: Actor, serial: str, kind: str, unit: str, public_key_pem: bytes) -> dict:
        """Add a certified device with its Ed25519 or ECDSA P-256 public key (PEM)."""
        actor.require(ADMINS, "register devices")
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        algorithm, raw = _load_key(public_key_pem)
        with self.sessions.begin() as session:
            if session.get(Device, serial) is not None:
                raise InvalidInput(f"device {serial} is already registered")
            session.add(Device(serial=serial, kind=kind, unit=unit, status=CERTIFIED, algorithm=algorithm,
                               public_key=raw, registered_at=datetime.now(UTC)))
        return {"serial": serial, "kind": kind, "unit": unit, "status": CERTIFIED, "algorithm": algorithm}

    def revoke(self, actor: Actor, serial: str) -> None:
        actor.require(ADMINS, "revoke devices")
        with self.sessions.begin() as session:
            device = session.get(Device, serial)
            if device is None:
                raise NotFound(f"no device {serial}")
            device.status = REVOKED

    def check_signature(self, meta: UploadMeta, sha256: str) -> bool:
        """True when the named device signed this file; False when it did not sign; refused when the
        device is unknown or revoked or the signature does not verify."""
        with self.sessions() as session:
            device = session.get(Device, meta.device or "")
        if device is None:
            raise DeviceRefused(f"device {meta.device} is not registered")
        if device.status != CERTIFIED:
            raise DeviceRefused(f"device {meta.device} is {device.status}")
        if meta.signature is None:
            return False
        try:
            _verify(device, meta.signature, signed_message(meta, sha256))
        except InvalidSignature:
            raise DeviceRefused(f"the signature does not verify with device {meta.device}'s key") from None
        return True

    def continuity(self, session: Session, meta: UploadMeta) -> str | None:
        """Why this segment does not follow the device's latest one (a gap, an insertion, a reordering)."""
        last = session.scalars(select(EvidenceItem).where(
            EvidenceItem.device == meta.device, EvidenceItem.segment_seq.is_not(None))
            .order_by(EvidenceItem.segment_seq.desc()).limit(1)).first()
        return continuity_problem(
            None if last is None else (last.segment_seq, last.sha256), meta.segment_seq, meta.segment_prev)


def continuity_problem(last: tuple[int, str] | None, seq: int | None, prev: str | None) -> str | None:
    """The continuity rule, pure: segment n names segment n-1's hash; the first one is 0 or names nothing."""
    if seq is None:
        return None
    if last is None:
        return None if seq == 0 else f"segment {seq} is the first received: segments 0 to {seq - 1} are missing"
    last_seq, last_hash = last
    if seq <= last_seq:
        return f"segment {seq} arrived after segment {last_seq}: out of order or inserted"
    if seq != last_seq + 1:
        missing = f"{last_seq + 1}" if seq == last_seq + 2 else f"{last_seq + 1} to {seq - 1}"
        return f"segment {seq} follows segment {last_seq}: segment {missing} missing"
    if prev != last_hash:
        return f"segment {seq} names {prev or 'no'} previous hash, but segment {last_seq} is {last_hash}"
    return None


def _load_key(pem: bytes) -> tuple[str, bytes]:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise InvalidInput("the device key is not a PEM public key") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "p256", key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    raise InvalidInput("device keys must be Ed25519 or ECDSA P-256")


def _verify(device: Device, signature: bytes, message: bytes) -> None:
    if device.algorithm == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(device.public_key).verify(signature, message)
    else:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), device.public_key)
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
