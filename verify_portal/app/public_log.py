"""The public log browser (like crt.sh for this log): the latest checkpoints with their witnesses,
the anchors on chain, and any leaf's hash with its inclusion proof. Hashes, sizes and names of
witnesses only: the events themselves, and so every officer and case, stay off these pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from anchor import records
from ledger.errors import NotFound
from ledger.models import CheckpointCosignature, CheckpointRecord
from verify_portal.app import anchoring

if TYPE_CHECKING:  # the wiring passes the services in: importing it would put this above it
    from verify_portal.app.services import Services

SHOWN = 20


@dataclass(frozen=True)
class CheckpointView:
    size: int
    root: str
    signed_at: datetime
    witnesses: list[str]


@dataclass(frozen=True)
class LeafView:
    index: int
    leaf_hash: str
    size: int  # the checkpoint the proof leads to
    root: str
    proof: list[str]
    anchor: dict[str, Any] | None  # the first anchor that covers the leaf, if any


def overview(services: Services) -> tuple[list[CheckpointView], list[dict[str, Any]], Any]:
    """The newest checkpoints (with who cosigned each), the newest anchors, and the chain."""
    ident = anchoring.identity(services.settings)
    with services.sessions() as session:
        heads = session.scalars(
            select(CheckpointRecord).order_by(CheckpointRecord.size.desc()).limit(SHOWN)
        ).all()
        cosigned: dict[int, list[str]] = {}
        if heads:
            lines = session.execute(
                select(CheckpointCosignature.size, CheckpointCosignature.witness).where(
                    CheckpointCosignature.size >= heads[-1].size
                )
            )
            for size, witness in lines:
                cosigned.setdefault(size, []).append(witness)
        anchors = (
            []
            if ident is None
            else records.anchors(session, ident.chain_id, ident.contract, limit=SHOWN)
        )
        return (
            [
                CheckpointView(h.size, h.root.hex(), h.signed_at, sorted(cosigned.get(h.size, [])))
                for h in heads
            ],
            [records.to_json(a, with_chain=True) for a in anchors],
            ident,
        )


def leaf(services: Services, index: int) -> LeafView:
    """Leaf `index`: its hash and its inclusion proof to the latest checkpoint; NotFound past the
    log's end."""
    ident = anchoring.identity(services.settings)
    with services.sessions() as session:
        size = services.store.latest_size(session)
        if not 0 <= index < size:
            raise NotFound(f"no leaf {index}: the log has {size} leaves")
        proof = services.store.inclusion_proof(session, index, size)
        anchor = (
            None
            if ident is None
            else records.for_receipts(session, ident.chain_id, ident.contract, index)
        )
        return LeafView(
            index,
            proof.leaf_hash.hex(),
            size,
            proof.root.hex(),
            [h.hex() for h in proof.proof],
            None if anchor is None else records.to_json(anchor, with_chain=True),
        )
