"""The retention rules, folded from a case's events (evidence/retention.py): pure, no I/O."""

from datetime import UTC, datetime

import pytest

from evidence.retention import Rules, add_months, add_years, fold, rule_months, rule_years
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


def _intake(*later):
    """The intake chain with one docked item registered on 2026-01-31, then `later` events."""
    registered = _event(
        "evidence.registered", 0, "2026-01-31T10:00:00Z", evidence_id="EV-2", sha256="b" * 64
    )
    return fold([registered, *later], intake=True)


def _linked():
    return _event(
        "evidence.intake-linked",
        1,
        "2026-02-01T00:00:00Z",
        evidence_id="EV-2",
        sha256="b" * 64,
        case_no="CG-2026-000001",
        link_index=7,
    )


def test_months_are_calendar_months_and_a_missing_day_becomes_the_first_of_the_next():
    assert add_months(_at("2026-01-15T08:00:00"), 6) == _at("2026-07-15T08:00:00")
    assert add_months(_at("2026-08-31T08:00:00"), 6) == _at("2027-03-01T08:00:00")
    assert add_months(_at("2026-12-31T08:00:00"), 2) == _at("2027-03-01T08:00:00")
    assert add_months(_at("2026-11-30T08:00:00"), 14) == _at("2028-01-30T08:00:00")


def test_docked_footage_no_case_holds_is_due_six_calendar_months_after_its_registration():
    rules = Rules(10, 6)
    assert rules.unlinked_code == "unlinked-plus-6m" and rule_months(rules.unlinked_code) == 6
    intake = _intake()
    assert intake.due(rules, _at("2026-07-31T09:59:59")) == []
    assert [i.evidence_id for i in intake.due(rules, _at("2026-07-31T10:00:00"))] == ["EV-2"]


def test_docked_footage_once_linked_is_never_due_as_unlinked():
    assert _intake(_linked()).due(Rules(10, 6), _at("2036-01-01T00:00:00")) == []


@pytest.mark.parametrize(
    ("later", "rule", "at", "problem"),
    [
        ([], "unlinked-plus-6m", "2026-07-31T10:00:00", None),
        ([], "unlinked-plus-6m", "2026-07-30T00:00:00", "before 2026-07-31"),
        ([_linked()], "unlinked-plus-6m", "2027-01-01T00:00:00", "linked to case CG-2026-000001"),
        ([], "case-ended-plus-10y", "2040-01-01T00:00:00", "no rule for unlinked footage"),
    ],
)
def test_the_audit_judges_a_purge_of_docked_footage_by_the_unlinked_rule(later, rule, at, problem):
    found = _intake(*later).purge_problem("EV-2", rule, _at(at.removesuffix("Z")))
    assert found == problem if problem is None else problem in found


def test_a_cases_evidence_purged_under_the_unlinked_rule_is_a_finding():
    found = _case().purge_problem("EV-1", "unlinked-plus-6m", _at("2030-01-01T00:00:00"))
    assert "rule for unlinked footage" in found


@pytest.mark.parametrize("months", [0, 1201])
def test_unlinked_footage_is_kept_one_to_twelve_hundred_months(months):
    with pytest.raises(ValueError, match="1 to 1200 months"):
        Rules(10, months)
