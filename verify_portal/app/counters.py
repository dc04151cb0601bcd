"""Counts of what went wrong for users, for /metrics: packages that failed verification on the court
page, verification codes that did not open a case. Names only, never who or what was checked."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from verify_portal.app.models import Counter

PACKAGE_FAILED = "verification_failures_package"
CODE_REFUSED = "verification_failures_citizen_code"
VERIFICATION_FAILURES = {
    "package": PACKAGE_FAILED,
    "citizen_code": CODE_REFUSED,
}  # the metric's kind label


def add(sessions: sessionmaker[Session], name: str) -> None:
    """Add one to the counter `name` (created at its first use)."""
    for _ in range(2):  # two workers may both create it: the loser finds it there the second time
        try:
            with sessions.begin() as session:
                done = session.execute(
                    update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                )
                if (
                    cast(CursorResult[Any], done).rowcount == 0
                ):  # an UPDATE's result counts its rows
                    session.add(Counter(name=name, value=1))
            return
        except IntegrityError:
            continue


def verification_failures(session: Session) -> dict[str, int]:
    """Each kind of verification failure (VERIFICATION_FAILURES) and how often it happened."""
    values = {name: value for name, value in session.execute(select(Counter.name, Counter.value))}
    return {kind: values.get(name, 0) for kind, name in VERIFICATION_FAILURES.items()}
