"""The staff case list: search, filters, sorting and pages over every case a user may see, and the
same list as CSV. Case numbers, codes, pseudonyms and counts only: no personal data.

The filters come from a URL, so every one is checked and bounded before it reaches the database:
strings by length and alphabet, pages by range, dates by format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session

from evidence.models import EvidenceItem
from ledger.errors import InvalidInput
from ledger.events import BEIJING
from ledger.lifecycle import State
from ledger.models import Case
from ledger.users import Action, Actor, Role
from verify_portal.app.figures import UNDECIDED, latest_audit

if TYPE_CHECKING:  # the wiring passes the services in: importing it would put this above it
    from verify_portal.app.services import Services

PAGE_SIZES = (25, 50, 100, 200)
MAX_PAGE = 100_000
SORTS = ("updated", "created", "case_no", "state")
MAX_CSV_ROWS = 200_000  # a whole province's year fits; more is a query to narrow
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_CASE_PREFIX = re.compile(r"^[A-Z0-9-]{1,32}$")
_PARTY_KEY = re.compile(r"^[0-9a-f]{64}$")
# States sort in the order a case moves through them (DESIGN.md: Case lifecycle), not by name.
LIFECYCLE_ORDER = {state.value: position for position, state in enumerate(State)}


@dataclass(frozen=True)
class CaseFilter:
    """What the list shows: each field narrows it; the defaults show every visible case."""

    q: str = ""  # a case number or its beginning, or a party's pseudonymous key
    officer: str = ""
    device: str = ""
    states: tuple[str, ...] = ()
    violation_type: str = ""
    district: str = ""
    created_from: date | None = None
    created_to: date | None = None
    overdue: bool = False
    finding: bool = False
    sort: str = "updated"
    descending: bool = True
    page: int = 1
    per_page: int = 50

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> CaseFilter:
        """The filter from a query string's values (one string each; `state` may repeat as a
        list); raise InvalidInput naming the first bad one."""
        states = args.get("state") or []
        states = [states] if isinstance(states, str) else list(states)
        return cls(
            q=_query(args.get("q", "")),
            officer=_code(args, "officer"),
            device=_code(args, "device"),
            states=tuple(_state(s) for s in states[: len(State)] if s),
            violation_type=_code(args, "violation_type"),
            district=_code(args, "district"),
            created_from=_date(args, "from"),
            created_to=_date(args, "to"),
            overdue=args.get("overdue") == "1",
            finding=args.get("finding") == "1",
            sort=_choice(args, "sort", SORTS, "updated"),
            descending=args.get("order", "desc") != "asc",
            page=_bounded(args, "page", 1, MAX_PAGE, 1),
            per_page=_page_size(args),
        )


@dataclass(frozen=True)
class CasePage:
    """One page of the list with the totals a person pages by."""

    rows: list[Any]  # Case rows
    total: int
    page: int
    per_page: int
    overdue_total: int = 0
    finding_cases: frozenset[str] = field(default_factory=frozenset)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))  # ceiling division


def search(services: Services, actor: Actor, wanted: CaseFilter) -> CasePage:
    """The page of cases `wanted` asks for, among those `actor` may see."""
    actor.require(Action.READ_CASE)
    with services.sessions() as session:
        findings = finding_cases(session)
        where = _conditions(services, actor, wanted, findings)
        total = session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()
        rows = session.scalars(
            _ordered(select(Case).where(*where), wanted)
            .offset((wanted.page - 1) * wanted.per_page)
            .limit(wanted.per_page)
        ).all()
        overdue = _conditions(services, actor, CaseFilter(overdue=True), findings)
        overdue_total = session.execute(
            select(func.count()).select_from(Case).where(*overdue)
        ).scalar_one()
    return CasePage(
        list(rows), total, wanted.page, wanted.per_page, overdue_total, frozenset(findings)
    )


def rows_for_csv(services: Services, actor: Actor, wanted: CaseFilter) -> Iterator[list[str]]:
    """Every case of the filter (all pages, at most MAX_CSV_ROWS), as CSV cells, header first."""
    actor.require(Action.READ_CASE)
    yield list(CSV_COLUMNS)
    with services.sessions() as session:
        where = _conditions(services, actor, wanted, finding_cases(session))
        query = _ordered(select(Case).where(*where), wanted).limit(MAX_CSV_ROWS)
        for row in session.scalars(query.execution_options(yield_per=1000)):
            yield [_cell(getattr(row, name)) for name in CSV_COLUMNS]


CSV_COLUMNS = (
    "case_no",
    "state",
    "violation_type",
    "district",
    "source",
    "officer",
    "outcome",
    "amount_fen",
    "created_at",
    "updated_at",
)


def finding_cases(session: Session) -> set[str]:
    """The cases the latest finished audit found something wrong with."""
    audit = latest_audit(session)
    if audit is None or audit.clean:
        return set()
    return {f["case_no"] for f in json.loads(audit.findings) if f.get("case_no")}


def _conditions(
    services: Services, actor: Actor, wanted: CaseFilter, findings: set[str]
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if actor.role is Role.OFFICER and actor.district is not None:
        where.append(Case.district == actor.district)  # officers see their district only
    if wanted.q:
        where.append(_matches_query(wanted.q))
    if wanted.officer:
        registered = select(EvidenceItem.case_no).where(EvidenceItem.officer == wanted.officer)
        where.append(or_(Case.officer == wanted.officer, Case.case_no.in_(registered)))
    if wanted.device:
        where.append(
            Case.case_no.in_(
                select(EvidenceItem.case_no).where(EvidenceItem.device == wanted.device)
            )
        )
    where += _field_conditions(wanted)
    if wanted.overdue:
        limit = datetime.now(UTC) - timedelta(days=services.settings.overdue_days)
        where += [Case.state.in_(UNDECIDED), Case.created_at < limit]
    if wanted.finding:
        where.append(Case.case_no.in_(sorted(findings)))
    return where


def _field_conditions(wanted: CaseFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if wanted.states:
        where.append(Case.state.in_(wanted.states))
    if wanted.violation_type:
        where.append(Case.violation_type == wanted.violation_type)
    if wanted.district:
        where.append(Case.district == wanted.district)
    if wanted.created_from:
        where.append(Case.created_at >= _beijing_midnight(wanted.created_from))
    if wanted.created_to:
        where.append(Case.created_at < _beijing_midnight(wanted.created_to + timedelta(days=1)))
    return where


def _matches_query(q: str) -> ColumnElement[bool]:
    if _PARTY_KEY.match(q):
        return Case.party_key == q
    # A prefix of a case number: "CG-2026-0001" finds CG-2026-000100 to CG-2026-000199.
    # _CASE_PREFIX admits no LIKE wildcard (% or _), so the prefix needs no escaping.
    return Case.case_no.like(f"{q.upper()}%")


def _ordered(query: Select[Case], wanted: CaseFilter) -> Select[Case]:
    key: Any = {
        "updated": Case.updated_at,
        "created": Case.created_at,
        "case_no": Case.serial,
        "state": case(LIFECYCLE_ORDER, value=Case.state, else_=len(LIFECYCLE_ORDER)),
    }[wanted.sort]
    first = key.desc() if wanted.descending else key.asc()
    # The serial breaks ties, so that pages never overlap or skip a case.
    return query.order_by(first, Case.serial.desc() if wanted.descending else Case.serial.asc())


def _beijing_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _query(value: object) -> str:
    text = str(value).strip()
    if not text:
        return ""
    if _PARTY_KEY.match(text) or _CASE_PREFIX.match(text.upper()):
        return text
    raise InvalidInput("q: a case number (or its beginning) or a party key of 64 hex digits")


def _code(args: Mapping[str, Any], name: str) -> str:
    value = str(args.get(name, "")).strip()
    if value and not _CODE.match(value):
        raise InvalidInput(f"{name}: letters, digits and - _ . @ only, at most 64")
    return value


def _state(value: str) -> str:
    if value not in LIFECYCLE_ORDER:
        raise InvalidInput(f"state: one of {', '.join(LIFECYCLE_ORDER)}")
    return value


def _date(args: Mapping[str, Any], name: str) -> date | None:
    value = str(args.get(name, "")).strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]) if len(value) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> date:
    raise InvalidInput(f"{name}: a date as YYYY-MM-DD")


def _choice(args: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(args.get(name, "") or default)
    if value not in allowed:
        raise InvalidInput(f"{name}: one of {', '.join(allowed)}")
    return value


def _bounded(args: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = str(args.get(name, "") or default)
    # Length first: int() of thousands of digits is slow, and refuses past 4,300 of them.
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and low <= int(value) <= high):
        raise InvalidInput(f"{name}: a whole number from {low} to {high}")
    return int(value)


def _page_size(args: Mapping[str, Any]) -> int:
    size = _bounded(args, "per_page", 1, max(PAGE_SIZES), 50)
    if size not in PAGE_SIZES:
        raise InvalidInput(f"per_page: one of {', '.join(map(str, PAGE_SIZES))}")
    return size
