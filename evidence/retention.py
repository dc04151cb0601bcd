"""Retention (DESIGN.md: Storage and scale, Retention): how long an item is kept, what a legal hold
keeps, what the rules let go. Pure: no I/O; the service, the retention run and the audit fold a
case's own events with it, never a table that could be edited behind the log's back.

An item of a case is kept while the case is open, and for `Rules.ended_years` after the event
that closed or withdrew it; a legal hold keeps it however long that is, until the legal role lifts
the hold. Docked footage that no case holds (the intake chain, evidence/intake.py) is kept for
`Rules.unlinked_months` after its registration; once linked it follows its case.

A purge is a custody event naming its rule; the leaf stays, so every proof still
verifies, and the audit tells a purged blob from a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ledger.event_types import (
    CASE_EVENTS,
    EVIDENCE_CUSTODY,
    EVIDENCE_LINKED,
    EVIDENCE_REGISTERED,
    INTAKE_LINKED,
)
from ledger.events import Event, parse_time
from ledger.lifecycle import State

# The custody actions of retention (evidence.custody events, DESIGN.md: The log).
HOLD, LIFT, PURGE = "legal-hold", "hold-lifted", "purge"
# Why the legal role holds evidence, from a fixed list: free text could carry a name into the log.
HOLD_REASONS = ("litigation", "reconsideration", "investigation", "court-order", "complaint")
# Why a hold is lifted.
LIFT_REASONS = ("proceedings-ended", "order-lifted", "set-in-error")
ENDED = frozenset({CASE_EVENTS[State.CLOSED], CASE_EVENTS[State.WITHDRAWN]})
_RULE = re.compile(r"^case-ended-plus-(\d{1,3})y$")
_UNLINKED_RULE = re.compile(r"^unlinked-plus-(\d{1,4})m$")
MAX_YEARS = 100
MAX_MONTHS = 1200


@dataclass(frozen=True)
class Rules:
    """The retention table of a deployment."""

    ended_years: int = 10  # an item of a closed or withdrawn case: kept this long after
    unlinked_months: int = 6  # docked footage no case holds: kept this long after registration

    def __post_init__(self) -> None:
        if not 1 <= self.ended_years <= MAX_YEARS:
            raise ValueError(f"retention after a case ends: 1 to {MAX_YEARS} years")
        if not 1 <= self.unlinked_months <= MAX_MONTHS:
            raise ValueError(f"retention of unlinked footage: 1 to {MAX_MONTHS} months")

    @property
    def code(self) -> str:
        """The case rule's name, as purge events record it."""
        return f"case-ended-plus-{self.ended_years}y"

    @property
    def unlinked_code(self) -> str:
        """The unlinked-footage rule's name, as purge events record it."""
        return f"unlinked-plus-{self.unlinked_months}m"


def rule_years(code: str) -> int | None:
    """The years a rule named in a purge event keeps items after their case ended; None if the
    code names no rule of this table's shape."""
    match = _RULE.match(code)
    return None if match is None else int(match.group(1))


def rule_months(code: str) -> int | None:
    """The months an unlinked-footage rule named in a purge event keeps footage; None if the code
    names no such rule."""
    match = _UNLINKED_RULE.match(code)
    return None if match is None else int(match.group(1))


@dataclass
class ItemState:
    """One evidence item of a case, as its events leave it."""

    evidence_id: str
    sha256: str
    poster_sha256: str | None
    hold: str | None = None  # the reason of the hold in force
    purged: tuple[str, datetime] | None = None  # the rule and the time of the purge
    registered_at: datetime | None = None  # when its registration event was logged
    linked_to: str | None = None  # docked footage: the case it was linked to


@dataclass
class CaseRetention:
    """What a case's events say about keeping its evidence."""

    ended_at: datetime | None = None  # when it was closed or withdrawn
    items: dict[str, ItemState] = field(default_factory=dict)
    intake: bool = False  # the intake chain's state (docked footage), not a case's

    def apply(self, event: Event) -> None:
        """Fold the case's next event."""
        payload = event.payload
        if event.type in ENDED:
            self.ended_at = parse_time(event.time)
        elif event.type in (EVIDENCE_REGISTERED, EVIDENCE_LINKED):  # linked: intake footage
            self.items[payload["evidence_id"]] = ItemState(
                payload["evidence_id"],
                payload["sha256"],
                payload.get("poster_sha256"),
                registered_at=parse_time(event.time),
            )
        elif event.type == INTAKE_LINKED and payload["evidence_id"] in self.items:
            self.items[payload["evidence_id"]].linked_to = payload["case_no"]
        elif event.type == EVIDENCE_CUSTODY and payload["evidence_id"] in self.items:
            item = self.items[payload["evidence_id"]]
            if payload["action"] == HOLD:
                item.hold = payload["reason"]
            elif payload["action"] == LIFT:
                item.hold = None
            elif payload["action"] == PURGE:
                item.purged = (payload["reason"], parse_time(event.time))

    def kept_until(self, years: int) -> datetime | None:
        """When a rule of `years` lets the case's items go; None while the case is open."""
        return None if self.ended_at is None else add_years(self.ended_at, years)

    def due(self, rules: Rules, now: datetime) -> list[ItemState]:
        """The items the rules let go at `now`: the case ended long enough ago (docked footage:
        registered long enough ago and never linked), no hold on them, not purged yet."""
        if self.intake:
            return [
                i
                for i in self.items.values()
                if i.linked_to is None
                and i.hold is None
                and i.purged is None
                and unlinked_until(i, rules.unlinked_months) <= now
            ]
        until = self.kept_until(rules.ended_years)
        if until is None or now < until:
            return []
        return [i for i in self.items.values() if i.hold is None and i.purged is None]

    def purge_problem(self, evidence_id: str, rule: str, at: datetime) -> str | None:
        """Why a purge of `evidence_id` under `rule` at `at` broke the rules, folded up to just
        before it; None if it was lawful (the audit's check)."""
        item = self.items.get(evidence_id)
        years = rule_years(rule)
        if item is None:
            return "names no item registered in this case before it"
        if item.purged is not None:
            return "purges an item already purged"
        if item.hold is not None:
            return f"purged it under a legal hold ({item.hold})"
        if self.intake or rule_months(rule) is not None:
            return self._unlinked_purge_problem(item, rule, at)
        if years is None:
            return f"names no retention rule: {rule}"
        until = self.kept_until(years)
        if until is None:
            return "purged it while its case was open"
        if at < until:
            return f"purged it before {until:%Y-%m-%d}, when its rule let it go"
        return None

    def _unlinked_purge_problem(self, item: ItemState, rule: str, at: datetime) -> str | None:
        """`purge_problem` for the intake chain, and for the unlinked rule named in a case."""
        months = rule_months(rule)
        if not self.intake:
            return "purged a case's evidence under the rule for unlinked footage"
        if months is None:
            return f"purged docked footage under {rule}, which is no rule for unlinked footage"
        if item.linked_to is not None:
            return f"purged it after it was linked to case {item.linked_to}"
        until = unlinked_until(item, months)
        if at < until:
            return f"purged it before {until:%Y-%m-%d}, when its rule let it go"
        return None


def unlinked_until(item: ItemState, months: int) -> datetime:
    """When an unlinked-footage rule of `months` lets docked footage go."""
    if item.registered_at is None:
        raise ValueError(f"evidence {item.evidence_id} has no registration time")
    return add_months(item.registered_at, months)


def fold(events: Iterable[Event], intake: bool = False) -> CaseRetention:
    """A case's retention state from its events in log order (the intake chain's with `intake`)."""
    case = CaseRetention(intake=intake)
    for event in events:
        case.apply(event)
    return case


def add_months(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months later; a day the month lacks becomes the first of
    the month after (31 August + 6 months is 1 March)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    try:
        return moment.replace(year=year, month=month)
    except ValueError:  # 29-31 in a shorter month
        return moment.replace(year=year + month // 12, month=month % 12 + 1, day=1)


def add_years(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years later; 29 February becomes 1 March."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, month=3, day=1)
