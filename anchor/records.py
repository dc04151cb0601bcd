"""Reading anchor records: the public anchor list and the anchor that covers a leaf."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anchor.models import AnchorRecord, AnchorStatus, WorkerStatus
from anchor.receipt import RECEIPT_FORMAT
from ledger.checkpoint import SignedHead
from ledger.events import as_utc
from ledger.merkle import InclusionProof
from ledger.models import Leaf
from ledger.storage import LogStore

ON_CHAIN = (AnchorStatus.MINED, AnchorStatus.FINAL)
MAX_PAGE = 1000


def to_json(record: AnchorRecord, with_chain: bool = False) -> dict[str, object]:
    """One anchor as the public API shows it (DESIGN.md: /api/v1/log/anchors); `with_chain` adds the
    chain and contract, for what leaves the service on its own (packages, receipts,
    registrations)."""
    shown: dict[str, object] = {
        "size": record.size,
        "root": record.root.hex(),
        "tx_hash": "0x" + record.tx_hash.hex(),
        "block_number": record.block_number,
        "block_hash": None if record.block_hash is None else "0x" + record.block_hash.hex(),
        "final": record.status == AnchorStatus.FINAL,
    }
    if with_chain:
        shown |= {"chain_id": record.chain_id, "contract": record.contract}
    return shown


def receipt(
    origin: str,
    head: SignedHead,
    proof: InclusionProof,
    record: AnchorRecord,
    event: bytes | None = None,
    trust_root: str | None = None,
) -> dict[str, object]:
    """The receipt (anchor/receipt.py) of the leaf `proof.index` to the anchored checkpoint
    `head`."""
    anchored_at = (
        None if record.mined_at is None else as_utc(record.mined_at).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    built: dict[str, object] = {
        "format": RECEIPT_FORMAT,
        "log": {"origin": origin, "trust_root": trust_root},
        "leaf_index": proof.index,
        "leaf_hash": proof.leaf_hash.hex(),
        "inclusion": {
            "size": proof.size,
            "root": proof.root.hex(),
            "proof": [h.hex() for h in proof.proof],
        },
        "checkpoint": head.note,
        "anchor": {**to_json(record, with_chain=True), "anchored_at": anchored_at},
    }
    if event is not None:
        built["event"] = event.decode()
    return built


def receipts(
    session: Session,
    store: LogStore,
    chain_id: int,
    contract: str,
    indexes: list[int],
    with_events: bool,
    trust_root: str | None,
) -> tuple[list[dict[str, object]], list[int]]:
    """Receipts of the leaves at `indexes`, in index order, each pinned to the first anchor that
    covers it; and the indexes no anchor covers yet. Leaves under one anchor share its
    checkpoint."""
    by_anchor: dict[int, tuple[AnchorRecord, list[int]]] = {}
    waiting: list[int] = []
    for index in sorted(set(indexes)):
        record = first_covering(session, chain_id, contract, index)
        if record is None:
            waiting.append(index)
        else:
            by_anchor.setdefault(record.size, (record, []))[1].append(index)
    built: list[tuple[int, dict[str, object]]] = []
    for size, (record, covered) in by_anchor.items():
        head = store.checkpoint(session, size)
        events = {i: session.get_one(Leaf, i).data for i in covered} if with_events else {}
        built += [
            (
                proof.index,
                receipt(store.origin, head, proof, record, events.get(proof.index), trust_root),
            )
            for proof in store.inclusion_proofs(session, covered, size)
        ]
    return [shown for _, shown in sorted(built, key=lambda pair: pair[0])], waiting


def anchors(
    session: Session, chain_id: int, contract: str, limit: int = 100, before: int | None = None
) -> list[AnchorRecord]:
    """Anchors in blocks (mined or final), newest first; `before` pages back by size."""
    query = select(AnchorRecord).where(
        AnchorRecord.chain_id == chain_id,
        AnchorRecord.contract == contract,
        AnchorRecord.status.in_(ON_CHAIN),
    )
    if before is not None:
        query = query.where(AnchorRecord.size < before)
    return list(
        session.scalars(query.order_by(AnchorRecord.size.desc()).limit(min(limit, MAX_PAGE)))
    )


def count(session: Session, chain_id: int, contract: str) -> int:
    """Anchors in blocks (mined or final)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AnchorRecord)
            .where(
                AnchorRecord.chain_id == chain_id,
                AnchorRecord.contract == contract,
                AnchorRecord.status.in_(ON_CHAIN),
            )
        )
        or 0
    )


def for_receipts(session: Session, chain_id: int, contract: str, index: int) -> AnchorRecord | None:
    """The anchor a receipt for leaves up to `index` should name: the newest final one that holds
    the leaf, else the newest one in a block (which a reorganisation may still drop); None if none
    holds it."""
    mine = (
        select(AnchorRecord)
        .where(
            AnchorRecord.chain_id == chain_id,
            AnchorRecord.contract == contract,
            AnchorRecord.size > index,
        )
        .order_by(AnchorRecord.size.desc())
        .limit(1)
    )
    final = session.scalars(mine.where(AnchorRecord.status == AnchorStatus.FINAL)).first()
    return final or session.scalars(mine.where(AnchorRecord.status == AnchorStatus.MINED)).first()


def first_covering(
    session: Session, chain_id: int, contract: str, index: int
) -> AnchorRecord | None:
    """The first anchor in a block that holds leaf `index`: a receipt pinned to it names the same
    block however many anchors follow."""
    query = select(AnchorRecord).where(
        AnchorRecord.chain_id == chain_id,
        AnchorRecord.contract == contract,
        AnchorRecord.status.in_(ON_CHAIN),
        AnchorRecord.size > index,
    )
    return session.scalars(query.order_by(AnchorRecord.size).limit(1)).first()


def worker_status(session: Session) -> WorkerStatus | None:
    return session.get(WorkerStatus, 1)
