"""The retention rules, folded from a case's events (evidence/retention.py): pure, no I/O."""

from datetime import UTC, datetime

import pytest

from evidence.retention import Rules, add_years, fold, rule_years
from ledger.events import Event

ENDED = "2014-03-01T08:00:00Z"


def _event(type_, seq, time, **payload):
    return Event(
        type=type_,
        case_no="CG-2014-000001",
        seq=seq,
        actor="x",
        time=time,
        prev=None,
        payload=payload,
    )


def _case(*custody):
    """A case with one item, withdrawn at ENDED, then these (action, reason) custody events."""
    events = [
        _event(
            "evidence.registered", 1, "2014-01-01T00:00:00Z", evidence_id="EV-1", sha256="a" * 64
        ),
        _event("case.withdrawn", 2, ENDED),
    ]
    for seq, (action, reason) in enumerate(custody, start=3):
        events.append(
            _event(
                "evidence.custody",
                seq,
                "2020-01-01T00:00:00Z",
                evidence_id="EV-1",
                sha256="a" * 64,
                action=action,
                role="legal",
                reason=reason,
            )
        )
    return fold(events)


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_years_after_a_case_ended_are_calendar_years_and_29_february_becomes_1_march():
    assert add_years(_at("2014-03-01T08:00:00"), 10) == _at("2024-03-01T08:00:00")
    assert add_years(_at("2024-02-29T12:00:00"), 1) == _at("2025-03-01T12:00:00")


@pytest.mark.parametrize("years", [0, 101])
def test_a_rule_keeps_items_one_to_a_hundred_years(years):
    with pytest.raises(ValueError, match="1 to 100 years"):
        Rules(ended_years=years)


def test_a_rule_is_named_by_its_years_and_read_back_from_the_name():
    assert Rules(7).code == "case-ended-plus-7y" and rule_years(Rules(7).code) == 7
    assert rule_years("keep-forever") is None


def test_items_are_due_once_the_case_ended_long_enough_ago_and_no_hold_keeps_them():
    rules = Rules(10)
    assert _case().due(rules, _at("2024-03-01T07:59:59")) == []
    assert [i.evidence_id for i in _case().due(rules, _at("2024-03-01T08:00:00"))] == ["EV-1"]
    assert _case(("legal-hold", "litigation")).due(rules, _at("2060-01-01T00:00:00")) == []
    lifted = _case(("legal-hold", "litigation"), ("hold-lifted", "proceedings-ended"))
    assert len(lifted.due(rules, _at("2060-01-01T00:00:00"))) == 1
    assert _case(("purge", "case-ended-plus-10y")).due(rules, _at("2060-01-01T00:00:00")) == []


@pytest.mark.parametrize(
    ("custody", "item", "rule", "at", "problem"),
    [
        ((), "EV-1", "case-ended-plus-10y", "2024-03-01T08:00:00", None),
        ((), "EV-1", "case-ended-plus-10y", "2024-02-29T00:00:00", "before 2024-03-01"),
        ((), "EV-9", "case-ended-plus-10y", "2030-01-01T00:00:00", "no item registered"),
        ((), "EV-1", "keep-forever", "2030-01-01T00:00:00", "names no retention rule"),
        (
            (("legal-hold", "court-order"),),
            "EV-1",
            "case-ended-plus-1y",
            "2030-01-01T00:00:00",
            "under a legal hold (court-order)",
        ),
        (
            (("purge", "case-ended-plus-1y"),),
            "EV-1",
            "case-ended-plus-1y",
            "2030-01-01T00:00:00",
            "already purged",
        ),
    ],
)
def test_the_audit_names_each_way_a_purge_can_break_the_rules(custody, item, rule, at, problem):
    found = _case(*custody).purge_problem(item, rule, _at(at))
    assert found is None if problem is None else problem in found


def test_a_purge_of_an_item_of_an_open_case_breaks_the_rules():
    registered = _event(
        "evidence.registered", 1, "2014-01-01T00:00:00Z", evidence_id="EV-1", sha256="a" * 64
    )
    problem = fold([registered]).purge_problem("EV-1", "case-ended-plus-1y", _at("2060-01-01"))
    assert problem == "purged it while its case was open"
