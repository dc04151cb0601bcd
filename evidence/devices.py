"""The device registry (非现场执法): bodycams and fixed cameras, their keys, and recording
continuity.

Registering and revoking a device are events of the log's registry chain; the `devices` table is
their projection, for listing. Whether a device is certified and which key it signs with is read
from the log, never from the row alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence import projection
from evidence.errors import DeviceRefused
from evidence.integrity import check_item
from evidence.meta import UploadMeta, signed_message
from evidence.models import Device, EvidenceItem
from evidence.projection import CERTIFIED, DeviceRow, Registry
from ledger import sm2
from ledger.cases import CaseService
from ledger.errors import InvalidInput, NotFound
from ledger.event_types import DEVICE_ISSUED, DEVICE_REGISTERED, DEVICE_REVOKED
from ledger.events import Event
from ledger.models import User
from ledger.projection import REGISTRY
from ledger.roles import Role
from ledger.storage import LogTransaction, case_leaves
from ledger.users import Action, Actor

KINDS = ("bodycam", "camera")
_SERIAL = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_UNIT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")  # a code: the unit goes into the log


class DeviceRegistry:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.sessions = cases.sessions

    def register(
        self, actor: Actor, serial: str, kind: str, unit: str, public_key_pem: bytes
    ) -> dict[str, Any]:
        """Add a certified device with its Ed25519, ECDSA P-256 or SM2 public key (PEM)."""
        actor.require(Action.MANAGE_DEVICES)
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        if not _SERIAL.fullmatch(serial) or not _UNIT.fullmatch(unit):
            raise InvalidInput(
                "serial is letters, digits and -_. (64 at most); unit a lowercase code"
            )
        algorithm, raw = _load_key(public_key_pem)
        payload = {
            "serial": serial,
            "kind": kind,
            "unit": unit,
            "algorithm": algorithm,
            "public_key": raw.hex(),
        }

        def work(tx: LogTransaction) -> dict[str, Any]:
            if serial in registry(tx.session).devices or tx.session.get(Device, serial) is not None:
                raise InvalidInput(f"device {serial} is already registered")
            self.cases.append_chain_event(tx, actor, REGISTRY, DEVICE_REGISTERED, payload)
            tx.session.add(
                Device(
                    serial=serial,
                    kind=kind,
                    unit=unit,
                    status=CERTIFIED,
                    algorithm=algorithm,
                    public_key=raw,
                    registered_at=datetime.now(UTC),
                )
            )
            return {
                "serial": serial,
                "kind": kind,
                "unit": unit,
                "status": CERTIFIED,
                "algorithm": algorithm,
            }

        return self.cases.write(actor, None, work)

    def revoke(self, actor: Actor, serial: str) -> None:
        actor.require(Action.MANAGE_DEVICES)

        def work(tx: LogTransaction) -> dict[str, Any]:
            device = tx.session.get(Device, serial)
            if device is None or serial not in registry(tx.session).devices:
                raise NotFound(f"no device {serial}")
            self.cases.append_chain_event(tx, actor, REGISTRY, DEVICE_REVOKED, {"serial": serial})
            device.status = projection.REVOKED
            return {}

        self.cases.write(actor, None, work)

    def issue(self, actor: Actor, serial: str, officer: str) -> dict[str, Any]:
        """Hand a certified bodycam to an officer (admin), by account code: what the docking
        station ingests from it is that officer's until it is issued to another."""
        actor.require(Action.MANAGE_DEVICES)

        def work(tx: LogTransaction) -> dict[str, Any]:
            device = tx.session.get(Device, serial) if _SERIAL.fullmatch(serial) else None
            logged = registry(tx.session).devices.get(serial)
            if device is None or logged is None:
                raise NotFound(f"no device {serial[:64]}")
            if logged.status != CERTIFIED or logged.kind != "bodycam":
                raise InvalidInput(
                    f"device {serial} is a {logged.status} {logged.kind}: only a certified bodycam "
                    "is issued to an officer"
                )
            _check_officer(tx.session, officer)
            if logged.issued_to != officer:
                payload = {"serial": serial, "officer": officer}
                self.cases.append_chain_event(tx, actor, REGISTRY, DEVICE_ISSUED, payload)
                device.issued_to = officer
            return {"serial": serial, "issued_to": officer}

        return self.cases.write(actor, None, work)

    def identity(self, actor: Actor, serial: str) -> dict[str, Any]:
        """What a docking station reads of a recorder it meets: kind, status and the officer who
        carries it, as the log's registry chain says."""
        actor.require(Action.INTAKE_EVIDENCE)
        with self.sessions() as session:
            device = registry(session).devices.get(serial) if _SERIAL.fullmatch(serial) else None
        if device is None:
            raise NotFound(f"no device {serial[:64]}")
        return {
            "serial": device.serial,
            "kind": device.kind,
            "status": device.status,
            "issued_to": device.issued_to,
        }

    def check_intake(self, actor: Actor, serial: str | None) -> None:
        """Refuse intake footage unless it comes from a certified bodycam issued to an officer:
        footage nobody carried cannot be linked to anyone's cases."""
        actor.require(Action.INTAKE_EVIDENCE)
        with self.sessions() as session:
            device = registry(session).devices.get(serial or "")
        if device is None:
            raise DeviceRefused(f"device {serial} is not registered")
        if device.status != CERTIFIED or device.kind != "bodycam" or device.issued_to is None:
            issued = "issued" if device.issued_to else "never issued"
            raise DeviceRefused(
                f"device {serial} is a {device.status} {device.kind}, {issued}: a docking station "
                "ingests only from certified bodycams issued to an officer"
            )

    def check_signature(self, meta: UploadMeta, sha256: str) -> bool:
        """True when the named device signed this file; False when it did not sign; refused when the
        device is unknown or revoked in the log, or the signature does not verify."""
        with self.sessions() as session:
            device = registry(session).devices.get(meta.device or "")
        if device is None:
            raise DeviceRefused(f"device {meta.device} is not registered")
        if device.status != CERTIFIED:
            raise DeviceRefused(f"device {meta.device} is {device.status}")
        if meta.signature is None:
            if meta.segment_seq is not None or meta.segment_prev is not None:
                raise DeviceRefused(
                    "only an upload signed by the device's key may claim a place in its "
                    "sequence (segment_seq, segment_prev)"
                )
            return False
        try:
            _verify(device, meta.signature, signed_message(meta, sha256))
        except InvalidSignature:
            raise DeviceRefused(
                f"the signature does not verify with device {meta.device}'s key"
            ) from None
        return True

    def continuity(self, session: Session, meta: UploadMeta) -> str | None:
        """Why this segment does not follow the device's latest one (a gap, an insertion, a
        reordering), the latest one's row checked against its registration event first."""
        last = session.scalars(
            select(EvidenceItem)
            .where(
                EvidenceItem.device == meta.device,
                EvidenceItem.segment_seq.is_not(None),
                EvidenceItem.device_signed == 1,
            )
            .order_by(EvidenceItem.segment_seq.desc())
            .limit(1)
        ).first()
        if last is not None:
            check_item(session, last)
        return projection.continuity_problem(
            None if last is None or last.segment_seq is None else (last.segment_seq, last.sha256),
            meta.segment_seq,
            meta.segment_prev,
        )


def _check_officer(session: Session, officer: str) -> None:
    """Refuse anything but the account code of an active officer."""
    user = session.scalar(select(User).where(User.username == officer)) if officer else None
    if user is None or user.role != Role.OFFICER.value or not user.active:
        raise InvalidInput(f"{officer[:64]!r} is not the account code of an active officer")


def registry_events(session: Session) -> list[Event]:
    """The registry chain's events, in log order."""
    return [Event.decode(leaf.data) for leaf in case_leaves(session, REGISTRY)]


def registry(session: Session) -> Registry:
    """The registry chain folded: devices and recipients as the log says."""
    return projection.registry_of(registry_events(session))


def _load_key(pem: bytes) -> tuple[str, bytes]:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raw = sm2.public_key_of_pem(pem)  # a GB 35114 recorder's key: cryptography has no SM2
        if raw is not None:
            return sm2.ALGORITHM, raw
        raise InvalidInput("the device key is not a PEM public key") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "p256", key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    raise InvalidInput("device keys must be Ed25519, ECDSA P-256 or SM2")


def _verify(device: DeviceRow, signature: bytes, message: bytes) -> None:
    if device.algorithm == sm2.ALGORITHM:
        if not sm2.verify(device.public_key, signature, message):
            raise InvalidSignature
    elif device.algorithm == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(device.public_key).verify(signature, message)
    else:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), device.public_key)
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
