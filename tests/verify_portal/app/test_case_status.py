"""The citizen's status card: stage, sums and statutory deadlines from the log's dates."""

from datetime import date

from verify_portal.app.case_status import (
    add_months,
    add_working_days,
    beijing_date,
    case_status,
    fen_of,
    yuan,
)


def _step(event_type, time, **detail):
    return {"type": event_type, "time": time, "detail": detail, "index": 0, "leaf_hash": ""}


REPORTED = _step("case.reported", "2026-03-02T01:00:00Z", violation_type="stall", source="patrol")
# Friday 2026-03-06, 20:30 UTC is already Saturday 7 March in Beijing.
NOTIFIED = _step("case.notified", "2026-03-06T20:30:00Z", proposed_amount_fen=20000)
DECIDED = _step(
    "case.decided", "2026-08-31T02:00:00Z", outcome="fine", amount_fen=20000, legal_basis="cgl-20"
)


def _due(status):
    return {step.key: step.due for step in status.next_steps}


def test_a_utc_time_late_in_the_evening_is_the_next_day_in_beijing():
    assert beijing_date("2026-03-06T20:30:00Z") == date(2026, 3, 7)


def test_working_days_skip_saturdays_and_sundays():
    assert add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)  # Fri -> Wed
    assert add_working_days(date(2026, 3, 7), 5) == date(2026, 3, 13)  # Sat -> next Fri


def test_six_months_after_the_last_day_of_august_is_the_last_day_of_february():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 15), 6) == date(2026, 9, 15)


def test_yuan_has_two_decimals_and_thousands_separators():
    assert yuan(20000) == "200.00"
    assert yuan(1234567) == "12,345.67"
    assert yuan(5) == "0.05"


def test_a_case_without_steps_has_no_status():
    assert case_status([], date(2026, 3, 1)) is None


def test_a_case_under_investigation_offers_nothing_to_do_yet():
    status = case_status([REPORTED], date(2026, 3, 3))
    assert (status.stage, status.next_steps) == ("reported", ())


def test_at_the_notice_stage_the_party_may_state_their_case_and_ask_for_a_hearing():
    status = case_status([REPORTED, NOTIFIED], date(2026, 3, 9))
    assert status.stage == "notified" and status.proposed_fen == 20000
    assert _due(status) == {"statement": date(2026, 3, 11), "hearing": date(2026, 3, 13)}
    assert not any(step.passed for step in status.next_steps)


def test_a_notice_without_a_proposed_fine_offers_no_hearing():
    notice = _step("case.notified", "2026-03-06T02:00:00Z")
    assert set(_due(case_status([REPORTED, notice], date(2026, 3, 6)))) == {"statement"}


def test_a_fine_is_due_in_15_days_reconsideration_60_days_and_a_lawsuit_6_months():
    status = case_status([REPORTED, NOTIFIED, DECIDED], date(2026, 9, 1))
    assert (status.stage, status.fine_fen, status.legal_basis) == ("decided_fine", 20000, "cgl-20")
    assert _due(status) == {
        "pay": date(2026, 9, 15),
        "reconsideration": date(2026, 10, 30),
        "lawsuit": date(2027, 2, 28),
    }
    assert [step.key for step in status.next_steps] == ["pay", "reconsideration", "lawsuit"]


def test_a_deadline_before_today_is_marked_passed():
    status = case_status([REPORTED, NOTIFIED, DECIDED], date(2026, 9, 16))
    assert {step.key: step.passed for step in status.next_steps} == {
        "pay": True,
        "reconsideration": False,
        "lawsuit": False,
    }


def test_after_paying_the_party_may_still_seek_reconsideration_or_sue():
    paid = _step("case.paid", "2026-09-02T02:00:00Z", amount_fen=20000)
    status = case_status([REPORTED, NOTIFIED, DECIDED, paid], date(2026, 9, 2))
    assert status.stage == "paid" and set(_due(status)) == {"reconsideration", "lawsuit"}


def test_a_first_offence_exemption_has_nothing_to_pay():
    exempt = _step("case.decided", "2026-03-20T02:00:00Z", outcome="first_offence_exempt")
    status = case_status([REPORTED, NOTIFIED, exempt], date(2026, 3, 21))
    assert (status.stage, status.fine_fen, status.next_steps) == (
        "decided_first_offence_exempt",
        None,
        (),
    )


def test_an_appeal_names_its_kind_and_closed_cases_offer_nothing():
    appeal = _step("case.appealed", "2026-09-03T02:00:00Z", kind="litigation")
    status = case_status([REPORTED, NOTIFIED, DECIDED, appeal], date(2026, 9, 4))
    assert (status.stage, status.appeal_kind, status.next_steps) == ("appealed", "litigation", ())
    closed = _step("case.closed", "2026-09-05T02:00:00Z")
    assert case_status([REPORTED, closed], date(2026, 9, 6)).next_steps == ()


def test_evidence_and_statements_do_not_change_the_stage():
    photo = _step("evidence.registered", "2026-03-08T02:00:00Z", media_type="image/jpeg")
    assert case_status([REPORTED, NOTIFIED, photo], date(2026, 3, 9)).stage == "notified"


def test_amounts_typed_in_yuan_become_fen_and_anything_else_is_refused():
    assert fen_of("200") == 20000 and fen_of("200.5") == 20050 and fen_of("1,200.05") == 120005
    assert [fen_of(x) for x in ("", "-5", "1.234", "1e3", "二百", "9" * 10, "12.")] == [
        None,
        None,
        None,
        None,
        None,
        None,
        1200,
    ]
