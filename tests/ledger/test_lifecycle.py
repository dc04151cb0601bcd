"""The lifecycle rules on their own: which steps follow which."""

import pytest

from ledger import lifecycle
from ledger.errors import FirstOffenceRefused, IllegalTransition, InvalidInput
from ledger.lifecycle import CaseFacts, Outcome, State

ORDER = [State.REPORTED, State.FILED, State.INVESTIGATING, State.NOTIFIED, State.DECIDED]


def test_the_procedure_moves_forward_one_stage_at_a_time():
    for current, following in zip(ORDER, ORDER[1:], strict=False):
        assert following in lifecycle.NEXT[current]
        for skipped in ORDER[ORDER.index(following) + 1:]:
            assert skipped not in lifecycle.NEXT[current]


def test_every_state_from_filed_on_can_be_withdrawn_until_the_case_ends():
    assert State.WITHDRAWN not in lifecycle.NEXT[State.REPORTED]
    for state in (State.FILED, State.INVESTIGATING, State.NOTIFIED, State.DECIDED, State.PAID, State.APPEALED):
        assert State.WITHDRAWN in lifecycle.NEXT[state]
    assert lifecycle.NEXT[State.CLOSED] == lifecycle.NEXT[State.WITHDRAWN] == frozenset()


def test_a_refusal_lists_the_allowed_next_states():
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.check_transition(CaseFacts("CG-1", State.DECIDED, True, Outcome.FINE, 100), State.FILED, {})
    assert refused.value.details == {"current_state": "DECIDED", "allowed": ["APPEALED", "CLOSED", "PAID", "WITHDRAWN"]}


def test_a_decision_without_a_penalty_can_close_at_once():
    lifecycle.check_transition(CaseFacts("CG-1", State.DECIDED, False, Outcome.NO_PENALTY), State.CLOSED, {})


def test_a_fine_needs_a_party_on_record():
    with pytest.raises(IllegalTransition, match="no party"):
        lifecycle.check_transition(CaseFacts("CG-1", State.NOTIFIED), State.DECIDED,
                                   {"outcome": "fine", "amount_fen": 100})


def test_unknown_payload_fields_and_wrong_types_are_refused_by_name():
    with pytest.raises(InvalidInput) as refused:
        lifecycle.validate_payload(State.PAID, {"amount_fen": "100", "by": "cash"})
    fields = {e["field"] for e in refused.value.details["errors"]}
    assert fields == {"amount_fen", "by"}


def test_free_text_codes_are_refused_so_no_name_slips_into_a_leaf():
    with pytest.raises(InvalidInput):
        lifecycle.validate_payload(State.REPORTED,
                                   {"source": "patrol", "violation_type": "张三 selling", "district": "x"})


def test_first_offence_is_refused_counting_the_earlier_cases_without_naming_them():
    lifecycle.check_first_offence("CG-2", [])
    with pytest.raises(FirstOffenceRefused, match="already has 1 case") as refused:
        lifecycle.check_first_offence("CG-2", ["CG-1"])
    assert "CG-1" not in refused.value.message
