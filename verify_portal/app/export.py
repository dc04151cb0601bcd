"""Exporting a case as a signed evidence package: gather the plain data the package format needs.

The events go in up to the newest anchor that holds them all, with inclusion
proofs to that anchored checkpoint. Exporting is itself logged: an `export`
custody event per evidence item, appended first (so a failed export is on
record too); those new events are not in this package, which ends at the anchor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from anchor import records
from anchor.errors import NotAnchoredYet
from anchor.models import AnchorRecord
from evidence import package
from evidence import verify as verifier
from evidence.contents import EvidenceFile, PackageContents, custody_of
from evidence.models import EvidenceItem
from evidence.service import item_json
from ledger import trust
from ledger.errors import LianzhengError
from ledger.events import Event, utc_now
from ledger.models import Leaf
from ledger.storage import case_leaves
from ledger.trust import TrustRoots
from ledger.users import Actor
from ledger.verdict import Status
from verify_portal.app import anchoring
from verify_portal.app.integrity import case_disagreements

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services

log = logging.getLogger(__name__)


class ExportRefused(LianzhengError):
    """The case's records disagree with its log, or the package built from them fails verification:
    nothing is released that a court would have to refuse."""

    code = "export-refused"


def export_case(
    services: Services,
    actor: Actor,
    case_no: str,
    out: IO[bytes],
    reason: str = "litigation",
    wait: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the package of `case_no` to `out` (readable too: it is verified there before it is
    released); waits up to `wait` seconds for an anchor to cover the case."""
    disagreements = case_disagreements(services, case_no)
    if disagreements:
        raise ExportRefused(
            f"case {case_no}'s records disagree with its log ({disagreements[0]}): no package "
            "is built from them; run `lianzheng audit`",
            disagreements=disagreements,
        )
    # On record first, whatever happens next; these new events need no anchor for this package.
    items, last_index = services.evidence.log_export(actor, case_no, reason)
    record = _anchor_covering(services, last_index, wait)
    contents = _gather(services, actor, case_no, items, record)
    signing = package.write(contents, out, services.trust.seal, progress)
    _self_check(services, case_no, out)
    return {
        "case_no": case_no,
        "events": len(contents.events),
        "evidence": len(contents.evidence),
        "checkpoint_size": contents.size,
        "anchor_block": record.block_number,
        "signing_key_id": signing.key_id,
        "trust_root": trust.fingerprint(contents.trust_root),
    }


def _self_check(services: Services, case_no: str, out: IO[bytes]) -> None:
    """Verify the package just built against the deployment's own trust root, as a court would."""
    out.flush()
    out.seek(0)
    report = verifier.verify(out, TrustRoots([services.trust.latest()]))
    if not report.passed:
        failed = [f"{c.name}: {c.detail}" for c in report.checks if c.status == Status.FAIL]
        log.error("the package of case %s failed its own verification: %s", case_no, failed)
        raise ExportRefused(
            f"the package built for case {case_no} fails verification against this "
            f"deployment's trust root ({'; '.join(failed)[:300]}); it is not released",
            failed=failed,
        )


def _anchor_covering(services: Services, index: int, wait: float):
    deadline = time.monotonic() + wait
    while True:
        ident = anchoring.identity(services.settings)
        with services.sessions() as session:
            record = (
                None
                if ident is None
                else records.for_receipts(session, ident.chain_id, ident.contract, index)
            )
        if record is not None:
            return record
        if time.monotonic() >= deadline:
            interval = services.settings.chain.anchor_interval
            raise NotAnchoredYet(
                f"the case's latest event (leaf {index}) is not anchored yet; the next "
                f"anchor is due within {interval:.0f} s: export again then, or wait"
            )
        time.sleep(1.0)


def _gather(
    services: Services, actor: Actor, case_no: str, items: list[EvidenceItem], record: AnchorRecord
) -> PackageContents:
    store, blobs = services.store, services.evidence.blobs
    included = [item for item in items if _logged_at(item) < record.size]
    linked = sorted(item.leaf_index for item in included if item.linked_leaf is not None)
    with services.sessions() as session:
        leaves = case_leaves(session, case_no, below=record.size)
        intake = [session.get_one(Leaf, index) for index in linked]
        head = store.checkpoint(session, record.size)
        indexes = [leaf.index for leaf in leaves] + linked
        proofs = store.inclusion_proofs(session, indexes, record.size)
        signed_by = store.checkpoint_key(session, record.size).public_key
        token = store.timestamp(session, record.size)
        stamped = None if token is None else (token, store.signed_note(session, record.size))
    events = [(leaf.index, leaf.data) for leaf in leaves]
    return PackageContents(
        case_no=case_no,
        events=events,
        proofs={p.index: p.proof for p in proofs},
        size=head.size,
        root=head.root,
        checkpoint=head.note,
        log_key={
            "origin": store.origin,
            "key_id": trust.checkpoint_key_id(store.origin, signed_by),
            "algorithm": "ed25519",
            "public_key": signed_by.hex(),
        },
        trust_root=services.trust.latest().document,
        anchor=records.to_json(record, with_chain=True),
        custody=custody_of((i, Event.decode(d)) for i, d in events),
        evidence=[
            EvidenceFile(item_json(item), partial(blobs.open, item.sha256)) for item in included
        ],
        exported_at=utc_now(),
        exported_by=f"{actor.username} ({actor.role.value})",
        timestamp=stamped,
        intake=[(leaf.leaf_index, leaf.data) for leaf in intake],
    )


def _logged_at(item: EvidenceItem) -> int:
    """The leaf that puts an item in its case: its registration, or for docked footage its link."""
    return item.leaf_index if item.linked_leaf is None else item.linked_leaf
