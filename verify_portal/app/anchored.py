"""What the service does with its anchors: the anchor worker of this deployment, the receipts of
leaves (each pinned to the first anchor that covered it), the registrations of a file, and the chain
leg of the audit. Which chain and contract these use is `anchoring`'s wiring."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor import audit as chain_audit
from anchor import leader, records
from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.errors import ChainError, NotAnchoredYet
from anchor.worker import AnchorWorker, Target
from evidence.models import EvidenceItem
from ledger.audit import AuditReport
from ledger.errors import NotFound
from ledger.events import as_utc, format_time
from ledger.storage import LogStore
from verify_portal.app.anchoring import identity, local_chain, policy
from verify_portal.app.witnessing import configured

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services


def audit_chain(services: Services, report: AuditReport) -> None:
    """Compare the anchored roots with the log (`lianzheng audit`); an unreachable chain is a
    finding.

    The embedded chain is started for the audit if it is not running, and stopped again.
    """
    ident = identity(services.settings)
    if ident is None:
        return  # nothing was ever anchored: the embedded chain has no contract yet
    stop = None
    try:
        if services.settings.chain.embedded:
            local = local_chain(services.settings)
            running, started = local.up()
            stop = local.down if started else None
            deployment = local.deployment()
            chain, deploy_block = (
                Chain(running.rpc_url),
                deployment.block_number if deployment else 0,
            )
        else:
            chain, deploy_block = (
                Chain(services.settings.chain.rpc_url or ""),
                services.settings.chain.contract_block,
            )
        with services.sessions() as session:
            chain_audit.compare(
                session, services.store, AnchorContract(chain, ident.contract), deploy_block, report
            )
    except ChainError as exc:
        report.add(f"chain {ident.chain_id}", f"anchors not compared: {exc.message}")
    finally:
        if stop is not None:
            stop()


def worker(
    services: Services, target: Target, on_step: Callable[[str], None] | None = None
) -> AnchorWorker:
    """The anchor worker of this deployment, with the lock that fits its database; with a witness
    quorum, it anchors only checkpoints the quorum cosigned."""
    witnessing = configured(services.settings)
    anchorable = None
    if witnessing.quorum:
        store, names, quorum = services.store, witnessing.names, witnessing.quorum
        anchorable = partial(_witnessed, store, names, quorum)
    return AnchorWorker(
        services.sessions,
        services.store,
        target,
        policy(services.settings),
        leader.for_engine(services.engine),
        **({"on_step": on_step} if on_step else {}),
        anchorable=anchorable,
    )


def _witnessed(store: LogStore, names: list[str], quorum: int, session: Session) -> int:
    return store.witnessed_size(session, names, quorum)


def receipts(
    services: Services, indexes: list[int], with_events: bool
) -> tuple[list[dict], list[int]]:
    """Receipts of the leaves at `indexes`, each pinned to the first anchor that covered it, and the
    indexes no anchor covers yet."""
    ident = identity(services.settings)
    if ident is None or not indexes:
        return [], indexes
    fingerprint = services.trust.latest().fingerprint
    with services.sessions() as session:
        return records.receipts(
            session,
            services.store,
            ident.chain_id,
            ident.contract,
            indexes,
            with_events,
            fingerprint,
        )


def registrations(services: Services, sha256: str) -> list[dict]:
    """Every registration of a file's hash, with the anchor (if any) that holds its log event."""
    ident = identity(services.settings)
    with services.sessions() as session:
        items = session.scalars(
            select(EvidenceItem)
            .where(EvidenceItem.sha256 == sha256)
            .order_by(EvidenceItem.leaf_index)
        ).all()
        found = []
        for item in items:
            record = (
                None
                if ident is None
                else records.for_receipts(session, ident.chain_id, ident.contract, item.leaf_index)
            )
            found.append(
                {
                    "evidence_id": item.id,
                    "case_no": item.case_no,
                    "media_type": item.media_type,
                    "registered_at": format_time(as_utc(item.registered_at)),
                    # No officer: whoever holds the file may ask, and a person is not a public
                    # fact of the log. A device is equipment; its signature is what was checked.
                    "device": item.device,
                    "device_signed": bool(item.device_signed),
                    "leaf_index": item.leaf_index,
                    "anchor": None if record is None else records.to_json(record, with_chain=True),
                }
            )
    return found


def receipt_of_leaf(services: Services, index: int) -> dict:
    """The public receipt of one leaf (hashes only); NotAnchoredYet until an anchor covers it."""
    with services.sessions() as session:
        if not 0 <= index < services.store.latest_size(session):
            raise NotFound(f"no leaf {index} in the log")
    built, waiting = receipts(services, [index], with_events=False)
    if waiting:
        raise NotAnchoredYet(
            f"leaf {index} is logged but not anchored yet; the next anchor is due within "
            f"{services.settings.chain.anchor_interval:.0f} s"
        )
    return built[0]
