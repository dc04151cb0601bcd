"""Reading anchor records: the public anchor list and the anchor that covers a leaf."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anchor.models import AnchorRecord, AnchorStatus, WorkerStatus
from anchor.receipt import FORMAT as RECEIPT_FORMAT
from ledger.checkpoint import SignedHead
from ledger.events import as_utc
from ledger.merkle import InclusionProof

ON_CHAIN = (AnchorStatus.MINED, AnchorStatus.FINAL)
MAX_PAGE = 1000


def to_json(record: AnchorRecord) -> dict[str, object]:
    """One anchor as the public API shows it (DESIGN.md: /api/v1/log/anchors)."""
    return {
        "size": record.size,
        "root": record.root.hex(),
        "tx_hash": "0x" + record.tx_hash.hex(),
        "block_number": record.block_number,
        "block_hash": None if record.block_hash is None else "0x" + record.block_hash.hex(),
        "final": record.status == AnchorStatus.FINAL,
    }


def receipt(origin: str, head: SignedHead, proof: InclusionProof, record: AnchorRecord,
            event: bytes | None = None, trust_root: str | None = None) -> dict[str, object]:
    """The receipt (anchor/receipt.py) of the leaf `proof.index` to the anchored checkpoint `head`."""
    anchored_at = None if record.mined_at is None else as_utc(record.mined_at).strftime("%Y-%m-%dT%H:%M:%SZ")
    built: dict[str, object] = {
        "format": RECEIPT_FORMAT,
        "log": {"origin": origin, "trust_root": trust_root},
        "leaf_index": proof.index,
        "leaf_hash": proof.leaf_hash.hex(),
        "inclusion": {"size": proof.size, "root": proof.root.hex(), "proof": [h.hex() for h in proof.proof]},
        "checkpoint": head.note,
        "anchor": {"chain_id": record.chain_id, "contract": record.contract, **to_json(record),
                   "anchored_at": anchored_at},
    }
    if event is not None:
        built["event"] = event.decode()
    return built


def anchors(session: Session, chain_id: int, contract: str, limit: int = 100,
            before: int | None = None) -> list[AnchorRecord]:
    """Anchors in blocks (mined or final), newest first; `before` pages back by size."""
    query = select(AnchorRecord).where(AnchorRecord.chain_id == chain_id, AnchorRecord.contract == contract,
                                       AnchorRecord.status.in_(ON_CHAIN))
    if before is not None:
        query = query.where(AnchorRecord.size < before)
    return list(session.scalars(query.order_by(AnchorRecord.size.desc()).limit(min(limit, MAX_PAGE))))


def count(session: Session, chain_id: int, contract: str) -> int:
    """Anchors in blocks (mined or final)."""
    return session.scalar(select(func.count()).select_from(AnchorRecord).where(
        AnchorRecord.chain_id == chain_id, AnchorRecord.contract == contract, AnchorRecord.status.in_(ON_CHAIN))) or 0


def for_receipts(session: Session, chain_id: int, contract: str, index: int) -> AnchorRecord | None:
    """The anchor a receipt for leaves up to `index` should name: the newest final one that holds the
    leaf, else the newest one in a block (which a reorganisation may still drop); None if none holds it."""
    mine = select(AnchorRecord).where(AnchorRecord.chain_id == chain_id, AnchorRecord.contract == contract,
                                      AnchorRecord.size > index).order_by(AnchorRecord.size.desc()).limit(1)
    final = session.scalars(mine.where(AnchorRecord.status == AnchorStatus.FINAL)).first()
    return final or session.scalars(mine.where(AnchorRecord.status == AnchorStatus.MINED)).first()


def first_covering(session: Session, chain_id: int, contract: str, index: int) -> AnchorRecord | None:
    """The first anchor in a block that holds leaf `index`: a receipt pinned to it names the same block
    however many anchors follow."""
    query = select(AnchorRecord).where(AnchorRecord.chain_id == chain_id, AnchorRecord.contract == contract,
                                       AnchorRecord.status.in_(ON_CHAIN), AnchorRecord.size > index)
    return session.scalars(query.order_by(AnchorRecord.size).limit(1)).first()


def worker_status(session: Session) -> WorkerStatus | None:
    return session.get(WorkerStatus, 1)
