"""Trust roots for tests: a deployment's keys and the root that names them, made in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import trust
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

    @property
    def signer(self) -> CheckpointSigner:
        return CheckpointSigner(self.origin, self.checkpoint_key)

    def document(self, **changes: Any) -> dict[str, Any]:
        doc = trust.document_of(
            agency=self.agency,
            log_origin=self.origin,
            checkpoint_keys=[
                trust.checkpoint_key_entry(
                    self.origin, self.checkpoint_key.public_key().public_bytes_raw(), 0
                )
            ],
            package_keys=[
                trust.package_key_entry(self.package_key.public_key().public_bytes_raw(), EPOCH)
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
