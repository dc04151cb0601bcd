"""Where a citizen's case stands and what they may do next, by which date. Pure.

Computed from the case's steps as the log records them (the timeline of
`verify_portal.app.citizens`), never from a row a database edit could change.
The deadlines are the statutory ones, counted from the date the log records for
the notice or the decision; the law counts them from the day the party received
the document, which is that day or later, so a date shown here is never later
than the real one:

- statement and defence (陈述、申辩) within 3 working days of the prior notice,
  and a hearing (听证) within 5 working days: 行政处罚法 第四十四条, 第六十四条;
  "三日", "五日" are working days by 第八十五条 (public holidays, which only
  extend a period, are not counted out here);
- paying the fine within 15 days of the decision: 行政处罚法 第六十七条, with a
  surcharge of 3 % a day afterwards (第七十二条);
- administrative reconsideration (行政复议) within 60 days: 行政复议法 第二十条;
- an administrative lawsuit (行政诉讼) within 6 months: 行政诉讼法 第四十六条.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ledger.events import BEIJING

STATEMENT_WORKING_DAYS = 3
HEARING_WORKING_DAYS = 5
PAYMENT_DAYS = 15
RECONSIDERATION_DAYS = 60
LAWSUIT_MONTHS = 6


@dataclass(frozen=True)
class NextStep:
    """Something the party may do, with its last day (Beijing date) and whether it has passed."""

    key: str  # statement, hearing, pay, reconsideration, lawsuit
    due: date
    passed: bool


@dataclass(frozen=True)
class CaseStatus:
    """The status card's content: a stage key, the sums in fen, and the next steps in date order."""

    stage: str
    since: date
    fine_fen: int | None = None
    proposed_fen: int | None = None
    legal_basis: str | None = None
    appeal_kind: str | None = None
    next_steps: tuple[NextStep, ...] = ()


def beijing_date(moment: str) -> date:
    """The Beijing calendar day of an RFC 3339 time as events carry it."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(BEIJING).date()


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start`, Saturdays and Sundays not counted."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:  # Monday 0 .. Friday 4
            days -= 1
    return day


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 August + 6 months = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def yuan(fen: int) -> str:
    """An amount in fen as yuan with two decimals and thousands separators: 1234567 -> 12,345.67."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def fen_of(typed: str) -> int | None:
    """An amount typed in yuan ("200", "200.5", "1,200.00") in fen; None unless it is one."""
    text = typed.strip().replace(",", "")
    whole, _, cents = text.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 9):
        return None
    if cents and not (cents.isascii() and cents.isdigit() and len(cents) <= 2):
        return None
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


def case_status(steps: list[dict[str, Any]], today: date) -> CaseStatus | None:
    """The status of a case from its timeline steps (oldest first); None before its first step."""
    moves = [s for s in steps if s["type"].startswith("case.")]
    if not moves:
        return None
    last = moves[-1]
    stage = last["type"].removeprefix("case.")
    if stage == "decided":
        stage = f"decided_{last['detail']['outcome']}"  # fine, first_offence_exempt, no_penalty
    notified = _last(moves, "case.notified")
    decided = _last(moves, "case.decided")
    return CaseStatus(
        stage=stage,
        since=beijing_date(last["time"]),
        proposed_fen=notified["detail"].get("proposed_amount_fen") if notified else None,
        fine_fen=decided["detail"].get("amount_fen") if decided else None,
        legal_basis=decided["detail"].get("legal_basis") if decided else None,
        appeal_kind=last["detail"].get("kind") if stage == "appealed" else None,
        next_steps=_next(stage, moves, today),
    )


def _last(moves: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    found = [m for m in moves if m["type"] == kind]
    return found[-1] if found else None


def _next(stage: str, moves: list[dict[str, Any]], today: date) -> tuple[NextStep, ...]:
    due: list[tuple[str, date]] = []
    if stage == "notified":
        notice = beijing_date(moves[-1]["time"])
        due.append(("statement", add_working_days(notice, STATEMENT_WORKING_DAYS)))
        if moves[-1]["detail"].get("proposed_amount_fen"):
            due.append(("hearing", add_working_days(notice, HEARING_WORKING_DAYS)))
    decided = _last(moves, "case.decided")
    if stage in ("decided_fine", "paid") and decided is not None:
        decision = beijing_date(decided["time"])
        if stage == "decided_fine":
            due.append(("pay", decision + timedelta(days=PAYMENT_DAYS)))
        due.append(("reconsideration", decision + timedelta(days=RECONSIDERATION_DAYS)))
        due.append(("lawsuit", add_months(decision, LAWSUIT_MONTHS)))
    return tuple(NextStep(key, day, day < today) for key, day in sorted(due, key=lambda d: d[1]))
