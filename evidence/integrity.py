"""Evidence rows checked against the log before anything is decided or served from them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from evidence import projection
from evidence.models import EvidenceItem
from ledger.errors import StoredStateMismatch
from ledger.event_types import EVIDENCE_REGISTERED
from ledger.events import Event
from ledger.models import Leaf
from ledger.projection import differences


def check_item(session: Session, item: EvidenceItem) -> None:
    """An item's row against its registration event; StoredStateMismatch when they disagree (the row
    or the log was altered: nothing is served or decided from it until the audit says which)."""
    leaf = session.get(Leaf, item.leaf_index)
    event = None if leaf is None else Event.decode(leaf.data)
    if (
        event is None
        or event.type != EVIDENCE_REGISTERED
        or event.payload.get("evidence_id") != item.id
    ):
        raise StoredStateMismatch(
            f"evidence {item.id}'s row names leaf {item.leaf_index}, which does not "
            "register it: run `lianzheng audit`"
        )
    found = differences(projection.item_of(item.leaf_index, event), projection.as_row(item))
    if found:
        raise StoredStateMismatch(
            f"evidence {item.id}'s stored row disagrees with its log ({found[0]}): "
            "run `lianzheng audit`",
            differences=[str(d) for d in found],
        )
