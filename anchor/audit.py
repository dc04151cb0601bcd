"""The chain's part of `lianzheng audit`: every anchored root must be the log's root at that size.

The ledger's own audit proves the stored log is self-consistent and signed; a
log rewritten wholesale and re-signed with a stolen key would pass it. The
chain cannot be rewritten, so a root anchored there that the log no longer
has names the rewrite (DESIGN.md: audit compares with the chain).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor.contract import AnchorContract
from anchor.models import AnchorRecord
from anchor.records import ON_CHAIN
from ledger.audit import AuditReport
from ledger.storage import LogStore


def compare(
    session: Session,
    store: LogStore,
    contract: AnchorContract,
    deploy_block: int,
    report: AuditReport,
) -> None:
    """Add a finding for every anchor whose root the log does not have, and every record the chain
    lacks."""
    events = contract.all_anchored_events(deploy_block)
    log_size = store.latest_size(session)
    for event in events:
        where = f"anchor at size {event.size} (block {event.block_number})"
        if event.size > log_size:
            report.add(
                where,
                f"the chain anchored {event.size} leaves but the log holds {log_size}: "
                "acknowledged events are missing",
            )
            continue
        ours = store.root(session, event.size)
        if ours != event.root:
            report.add(
                where,
                f"the chain holds root {event.root.hex()}, the log's root at that size is "
                f"{ours.hex()}: the log was changed after it was anchored",
            )
    _compare_records(session, contract, {e.size: e.root for e in events}, report)
    report.anchors = len(events)


def _compare_records(
    session: Session, contract: AnchorContract, on_chain: dict[int, bytes], report: AuditReport
) -> None:
    query = select(AnchorRecord).where(
        AnchorRecord.chain_id == contract.chain.chain_id,
        AnchorRecord.contract == contract.address,
        AnchorRecord.status.in_(ON_CHAIN),
    )
    for record in session.scalars(query):
        if on_chain.get(record.size) != record.root:
            report.add(
                f"anchor record of size {record.size}",
                "recorded as on chain, but the contract holds no such anchor",
            )
