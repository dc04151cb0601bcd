"""Cases whose events are stamped years ago, for the retention tests (evidence/retention.py)."""

from datetime import UTC, datetime, timedelta

from ledger.events import utc_now
from tests.support.api import move, open_case, upload_evidence


def years_ago(years: float) -> str:
    """An event time `years` years before now."""
    moment = datetime.now(UTC) - timedelta(days=365.25 * years)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def case_with_a_photo(client, tokens, services, photo, years, ended=True):
    """A case opened, given `photo` and (if `ended`) withdrawn `years` years ago: its events are
    stamped as the case service's clock said then. Its number and the item's id."""
    services.cases.clock = lambda: years_ago(years)
    try:
        case_no = open_case(client, tokens["officer"])
        answer = upload_evidence(client, tokens["officer"], case_no, photo)
        assert answer.status_code == 201, answer.json
        steps = ("FILED", ("WITHDRAWN", {"reason": "duplicate"})) if ended else ("FILED",)
        move(client, tokens["officer"], case_no, *steps)
    finally:
        services.cases.clock = utc_now
    return case_no, answer.json["evidence"]["evidence_id"]


def docked_long_ago(client, tokens, services, photo, years, tag="a"):
    """A docked photo (tests/support/intake.py) whose bodycam was issued and whose registration
    was logged `years` years ago. Its evidence id."""
    from tests.support.intake import docked_photo

    services.cases.clock = lambda: years_ago(years)
    try:
        return docked_photo(client, tokens, photo, serial=f"DSJ-{tag}", tag=tag)
    finally:
        services.cases.clock = utc_now
