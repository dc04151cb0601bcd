"""Trust roots for tests: a deployment's keys and the root that names them, made in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import sm2, trust
from ledger.checkpoint import CheckpointSigner

ORIGIN = "lianzheng.example/cg-log"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Deployment:
    """One agency's keys, as a forger or an honest agency would hold them."""

    origin: str = ORIGIN
    agency: str = "测试执法局 Test enforcement bureau"
    checkpoint_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    package_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    chain_id: int = 31337
    contract: str = CONTRACT
    witnesses: list[tuple[str, Ed25519PrivateKey]] = field(default_factory=list)
    witness_quorum: int = 0
    require_chain_check: bool = False
    tsa: str | None = None  # the time-stamping authority's certificates (PEM)
    checkpoint_sm2: sm2.PrivateKey | None = None  # 国密 keys beside the Ed25519 ones, when given
    package_sm2: sm2.PrivateKey | None = None
    sm2_from_size: int = 0  # where the root's SM2 checkpoint key starts (an upgraded deployment)
    sm2_from: datetime = EPOCH  # where its SM2 package key starts

    @classmethod
    def with_sm2(cls, **fields: Any) -> Deployment:
        """A deployment whose root lists SM2 checkpoint and package keys too, so requires them."""
        return cls(checkpoint_sm2=sm2.generate(), package_sm2=sm2.generate(), **fields)

    @property
    def signer(self) -> CheckpointSigner:
        return CheckpointSigner(self.origin, self.checkpoint_key, self.checkpoint_sm2)

    def _sm2_entries(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        checkpoint, package = [], []
        if self.checkpoint_sm2 is not None:
            public = sm2.public_of(self.checkpoint_sm2)
            checkpoint.append(
                trust.checkpoint_key_entry(self.origin, public, self.sm2_from_size, None, "sm2")
            )
        if self.package_sm2 is not None:
            public = sm2.public_of(self.package_sm2)
            package.append(trust.package_key_entry(public, self.sm2_from, None, "sm2"))
        return checkpoint, package

    def document(self, **changes: Any) -> dict[str, Any]:
        checkpoint_sm2, package_sm2 = self._sm2_entries()
        doc = trust.document_of(
            agency=self.agency,
            log_origin=self.origin,
            checkpoint_keys=[
                trust.checkpoint_key_entry(
                    self.origin, self.checkpoint_key.public_key().public_bytes_raw(), 0
                ),
                *checkpoint_sm2,
            ],
            package_keys=[
                trust.package_key_entry(self.package_key.public_key().public_bytes_raw(), EPOCH),
                *package_sm2,
            ],
            chain={
                "chain_id": self.chain_id,
                "contract": self.contract,
                "deployment_block": 1,
                "confirmations": 1,
            },
            witnesses=[
                trust.witness_entry(name, key.public_key().public_bytes_raw())
                for name, key in self.witnesses
            ],
            witness_quorum=self.witness_quorum,
            tsa=self.tsa,
            require_chain_check=self.require_chain_check,
        )
        return {**doc, **changes}

    def root(self, **changes: Any) -> trust.TrustRoot:
        return trust.TrustRoot.from_document(self.document(**changes))
