"""Evidence rows checked against the log before anything is decided or served from them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from evidence import projection
from evidence.models import EvidenceItem
from ledger.errors import StoredStateMismatch
from ledger.event_types import EVIDENCE_LINKED, EVIDENCE_REGISTERED
from ledger.events import Event
from ledger.models import Leaf
from ledger.projection import differences


def _linked(
    session: Session, item: EvidenceItem, registered: projection.ItemRow, leaf_hash: bytes
) -> projection.ItemRow:
    """The row of intake footage its link event determines; StoredStateMismatch when the leaf the
    row names does not link it."""
    leaf = session.get(Leaf, item.linked_leaf)
    link = None if leaf is None else Event.decode(leaf.data)
    if link is None or link.type != EVIDENCE_LINKED:
        problem: str | None = "it is no link event"
    else:
        problem = projection.link_problem(registered, leaf_hash, link)
    if problem is not None or link is None or item.linked_leaf is None:
        raise StoredStateMismatch(
            f"evidence {item.id}'s row names link leaf {item.linked_leaf}: {problem}; "
            "run `lianzheng audit`"
        )
    return projection.linked(registered, item.linked_leaf, link)


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
    expected = projection.item_of(item.leaf_index, event)
    if item.linked_leaf is not None and leaf is not None:
        expected = _linked(session, item, expected, leaf.leaf_hash)
    found = differences(expected, projection.as_row(item))
    if found:
        raise StoredStateMismatch(
            f"evidence {item.id}'s stored row disagrees with its log ({found[0]}): "
            "run `lianzheng audit`",
            differences=[str(d) for d in found],
        )
