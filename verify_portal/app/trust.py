"""The deployment's own trust root (DESIGN.md: Trust root): composed, published, and moved forward.

The root is composed from the settings (agency, origin, chain requirements),
the key history (ledger/keyring.py) and where the chain is. Whenever that
composition differs from the latest published root, a new root is published
that names the old one in `replaces` and is signed by the old root's current
package key, so a court's `lianzheng trust update` can move forward without a
new paper confirmation. Published roots are append-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from evidence.package import Signing
from ledger import keyring, sm2, trust
from ledger.errors import ConfigurationError, InvalidInput
from ledger.events import as_utc
from ledger.keyring import KeyRing, Start
from ledger.models import Leaf, LogKey, TrustRootRecord
from ledger.storage import LogStore
from ledger.trust import TrustRoot
from verify_portal.app import anchoring
from verify_portal.app.settings import Settings
from verify_portal.app.timestamping import authority_pem
from verify_portal.app.witnessing import configured

KINDS = (keyring.CHECKPOINT, keyring.PACKAGE, keyring.CHECKPOINT_SM2, keyring.PACKAGE_SM2)


@dataclass
class TrustService:
    settings: Settings
    sessions: sessionmaker[Session]
    store: LogStore
    package_ring: KeyRing[Ed25519PrivateKey]
    package_sm2_ring: KeyRing[sm2.PrivateKey] | None  # None: a deployment from before SM2

    def kinds(self) -> tuple[str, ...]:
        """The kinds of key this deployment signs with: all of KINDS, unless it predates SM2."""
        return tuple(kind for kind in KINDS if self._rings()[kind] is not None)

    def _rings(self) -> dict[str, KeyRing[Any] | None]:
        return {
            keyring.CHECKPOINT: self.store.ring,
            keyring.PACKAGE: self.package_ring,
            keyring.CHECKPOINT_SM2: self.store.sm2_ring,
            keyring.PACKAGE_SM2: self.package_sm2_ring,
        }

    def ring(self, kind: str) -> KeyRing[Any]:
        """The key files of `kind`: one of `kinds()`."""
        found = self._rings().get(kind)
        if found is None:
            kinds = ", ".join(self.kinds())
            raise InvalidInput(f"a key kind of this deployment is one of {kinds}, not {kind!r}")
        return found

    # --- reading ---------------------------------------------------------------------------------

    def latest(self) -> TrustRoot:
        """The latest published root; the first one is published on first use."""
        with self.sessions() as session:
            record = _latest_record(session)
        if record is None:
            return self.publish()
        return TrustRoot.parse(record.document)

    def latest_text(self) -> str:
        """The latest root's JSON text, exactly as published (its fingerprint is over these
        members)."""
        self.latest()
        with self.sessions() as session:
            record = _latest_record(session)
        assert record is not None  # published just above
        return record.document

    def history(self) -> list[dict[str, Any]]:
        """Every published root, oldest first: how a verifier walks from its root to the latest."""
        self.latest()
        with self.sessions() as session:
            texts = session.scalars(select(TrustRootRecord.document).order_by(TrustRootRecord.seq))
            return [json.loads(text) for text in texts]

    # --- writing ---------------------------------------------------------------------------------

    def publish(self) -> TrustRoot:
        """Publish the composed root if it differs from the latest; return the latest either way."""
        with self.sessions.begin() as session:
            self.store.lock(session)  # one publisher at a time, in order with rotations
            return self._publish(session)

    def rotate(self, kind: str) -> TrustRoot:
        """A new key of `kind` from now on (the next tree size, or this moment); the root that says
        so.

        The new key file is written first: if the database step fails, an unused key file remains
        and nothing else changed.
        """
        ring = self.ring(kind)
        new_key = ring.add_new()
        with self.sessions.begin() as session:
            size = self.store.lock(session)
            self._ensure(session, kind)
            by_size = kind in keyring.BY_SIZE
            boundary = Start(size=size + 1) if by_size else Start(time=_now())
            keyring.rotate(session, kind, ring, new_key, boundary)
            return self._publish(session)

    def seal(self) -> Signing:
        """The package keys in use and the signing time, read in order with rotations."""
        with self.sessions.begin() as session:
            self.store.lock(session)
            period = self._ensure(session, keyring.PACKAGE)
            signing = Signing(self.package_ring.private(period.public_key), _now())
            if self.package_sm2_ring is None:
                return signing
            first_sm2 = keyring.current(session, keyring.PACKAGE_SM2) is None
            sm2_period = self._ensure(session, keyring.PACKAGE_SM2)
            if first_sm2:  # a deployment from before 国密: its root lists the key before it signs
                self._publish(session)
            sm2_key = self.package_sm2_ring.private(sm2_period.public_key)
            return Signing(signing.key, signing.signed_at, sm2_key)

    def check_keys(self) -> None:
        """Refuse to start when a key in use has no key file: never sign with a different key."""
        with self.sessions.begin() as session:
            self.store.lock(session)
            for kind in self.kinds():
                self.ring(kind).private(self._ensure(session, kind).public_key)

    def _ensure(self, session: Session, kind: str) -> LogKey:
        """The open period of `kind`, recorded on first use: the first Ed25519 keys cover the log
        from its start; the SM2 keys, added later to a running log, from the next tree size and
        from now (what is signed already has no SM2 signature)."""
        if kind == keyring.CHECKPOINT_SM2:
            found = self.store.sm2_period(session)
            if found is None:
                raise ConfigurationError("the log has no SM2 checkpoint key")
            return found
        start = {
            keyring.CHECKPOINT: Start(size=0),
            keyring.PACKAGE: Start(time=_first_time(session)),
            keyring.PACKAGE_SM2: Start(time=_now()),
        }[kind]
        return keyring.ensure(session, kind, self.ring(kind), start)

    def _publish(self, session: Session) -> TrustRoot:
        document = self.compose(session)
        record = _latest_record(session)
        latest = None if record is None else TrustRoot.parse(record.document)
        if latest is not None and _unsigned(latest.document) == document:
            return latest
        if latest is not None:
            document = trust.sign_replacement(document, latest, self._vouching_key(latest))
        root = TrustRoot.from_document(document)
        session.add(
            TrustRootRecord(
                seq=1 if record is None else record.seq + 1,
                fingerprint=root.fingerprint,
                published_at=_now(),
                document=json.dumps(document, ensure_ascii=False, indent=2),
            )
        )
        return root

    def _vouching_key(self, latest: TrustRoot) -> Ed25519PrivateKey:
        current = latest.current_package_keys()
        if not current:
            raise ConfigurationError(
                f"trust root {latest.fingerprint} has no current package key to sign its successor"
            )
        return self.package_ring.private(current[0].public_key)

    def compose(self, session: Session) -> dict[str, Any]:
        """The root as the settings, the key history and the chain say it is now."""
        for kind in self.kinds():
            self._ensure(session, kind)
        origin = self.store.origin
        witnessing = configured(self.settings)
        return trust.document_of(
            agency=self.settings.agency,
            log_origin=origin,
            checkpoint_keys=[
                trust.checkpoint_key_entry(
                    origin, p.public_key, p.valid_from_size or 0, p.valid_until_size, p.algorithm
                )
                for kind in (keyring.CHECKPOINT, keyring.CHECKPOINT_SM2)
                for p in keyring.periods(session, kind)
            ],
            package_keys=[
                trust.package_key_entry(
                    p.public_key,
                    as_utc(_given(p.valid_from)),
                    None if p.valid_until is None else as_utc(p.valid_until),
                    p.algorithm,
                )
                for kind in (keyring.PACKAGE, keyring.PACKAGE_SM2)
                for p in keyring.periods(session, kind)
            ],
            chain=self._chain(),
            witnesses=witnessing.trust_entries(),
            witness_quorum=witnessing.quorum,
            tsa=authority_pem(self.settings),
            require_chain_check=self.settings.require_chain_check,
        )

    def _chain(self) -> dict[str, Any] | None:
        ident = anchoring.identity(self.settings)
        if ident is None:
            return None
        return {
            "chain_id": ident.chain_id,
            "contract": ident.contract,
            "deployment_block": anchoring.deployment_block(self.settings),
            "confirmations": self.settings.chain.anchor_confirmations,
        }


def _latest_record(session: Session) -> TrustRootRecord | None:
    top = select(func.max(TrustRootRecord.seq)).scalar_subquery()
    return session.scalars(select(TrustRootRecord).where(TrustRootRecord.seq == top)).one_or_none()


def _unsigned(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("replaces", "signatures")}


def _given(moment: datetime | None) -> datetime:
    if moment is None:
        raise ConfigurationError("a package key period has no start time")
    return moment


def _first_time(session: Session) -> datetime:
    """Where the first package key's period begins: the first leaf's time, or now on a new log."""
    first = session.scalar(select(func.min(Leaf.appended_at)))
    now = _now()
    return now if first is None else min(now, as_utc(first))


def _now() -> datetime:
    return datetime.now(UTC)
