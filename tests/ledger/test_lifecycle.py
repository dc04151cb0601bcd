"""The lifecycle rules on their own, each pinned by a test: which steps follow which, what each step
must carry, the conditions on deciding, paying and closing, and the replay of a recorded case."""

import pytest

from ledger import lifecycle
from ledger.errors import FirstOffenceRefused, IllegalTransition, InvalidInput
from ledger.lifecycle import CaseFacts, Outcome, State

ORDER = [State.REPORTED, State.FILED, State.INVESTIGATING, State.NOTIFIED, State.DECIDED]


def test_the_procedure_moves_forward_one_stage_at_a_time():
    for current, following in zip(ORDER, ORDER[1:], strict=False):
        assert following in lifecycle.NEXT[current]
        for skipped in ORDER[ORDER.index(following) + 1 :]:
            assert skipped not in lifecycle.NEXT[current]


def test_every_state_from_filed_on_can_be_withdrawn_until_the_case_ends():
    assert State.WITHDRAWN not in lifecycle.NEXT[State.REPORTED]
    for state in (
        State.FILED,
        State.INVESTIGATING,
        State.NOTIFIED,
        State.DECIDED,
        State.PAID,
        State.APPEALED,
    ):
        assert State.WITHDRAWN in lifecycle.NEXT[state]
    assert lifecycle.NEXT[State.CLOSED] == lifecycle.NEXT[State.WITHDRAWN] == frozenset()


def test_a_refusal_lists_the_allowed_next_states():
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.check_transition(
            CaseFacts("CG-1", State.DECIDED, True, Outcome.FINE, 100), State.FILED, {}
        )
    assert refused.value.details == {
        "current_state": "DECIDED",
        "allowed": ["APPEALED", "CLOSED", "PAID", "WITHDRAWN"],
    }


def test_a_decision_without_a_penalty_can_close_at_once():
    lifecycle.check_transition(
        CaseFacts("CG-1", State.DECIDED, False, Outcome.NO_PENALTY), State.CLOSED, {}
    )


def test_a_fine_needs_a_party_on_record():
    with pytest.raises(IllegalTransition, match="no party"):
        lifecycle.check_transition(
            CaseFacts("CG-1", State.NOTIFIED), State.DECIDED, {"outcome": "fine", "amount_fen": 100}
        )


def test_unknown_payload_fields_and_wrong_types_are_refused_by_name():
    with pytest.raises(InvalidInput) as refused:
        lifecycle.validate_payload(State.PAID, {"amount_fen": "100", "by": "cash"})
    fields = {e["field"] for e in refused.value.details["errors"]}
    assert fields == {"amount_fen", "by"}


def test_free_text_codes_are_refused_so_no_name_slips_into_a_leaf():
    with pytest.raises(InvalidInput):
        lifecycle.validate_payload(
            State.REPORTED, {"source": "patrol", "violation_type": "张三 selling", "district": "x"}
        )


def test_first_offence_is_refused_counting_the_earlier_cases_without_naming_them():
    lifecycle.check_first_offence("CG-2", [])
    with pytest.raises(FirstOffenceRefused, match="already has 1 case") as refused:
        lifecycle.check_first_offence("CG-2", ["CG-1"])
    assert "CG-1" not in refused.value.message


# DESIGN.md: Case lifecycle. Each state's allowed next steps, exactly.
TABLE = {
    State.REPORTED: {State.FILED},
    State.FILED: {State.INVESTIGATING, State.WITHDRAWN},
    State.INVESTIGATING: {State.NOTIFIED, State.WITHDRAWN},
    State.NOTIFIED: {State.DECIDED, State.WITHDRAWN},
    State.DECIDED: {State.PAID, State.APPEALED, State.CLOSED, State.WITHDRAWN},
    State.APPEALED: {State.PAID, State.CLOSED, State.WITHDRAWN},
    State.PAID: {State.CLOSED, State.WITHDRAWN},
    State.CLOSED: set(),
    State.WITHDRAWN: set(),
}
FINED = CaseFacts("CG-1", State.DECIDED, True, Outcome.FINE, 20000)


@pytest.mark.parametrize("state", list(State))
def test_each_state_allows_exactly_the_steps_of_the_procedure(state):
    assert lifecycle.NEXT[state] == TABLE[state]


def test_every_state_has_its_chinese_name():
    assert set(lifecycle.LABELS_ZH) == set(State)


@pytest.mark.parametrize(
    ("state", "payload"),
    [
        (
            State.REPORTED,
            {"source": "patrol", "violation_type": "occupy-road", "district": "xuhui"},
        ),
        (
            State.REPORTED,
            {"source": "hotline-12345", "violation_type": "occupy-road", "district": "xuhui"},
        ),
        (State.FILED, {}),
        (State.NOTIFIED, {}),
        (State.NOTIFIED, {"proposed_amount_fen": 0}),
        (
            State.DECIDED,
            {"outcome": "fine", "amount_fen": 1, "legal_basis": "sh-city-appearance-art-25"},
        ),
        (State.DECIDED, {"outcome": "fine", "amount_fen": 10**11}),
        (State.DECIDED, {"outcome": "no_penalty"}),
        (State.DECIDED, {"outcome": "first_offence_exempt"}),
        (State.PAID, {"amount_fen": 20000}),
        (State.APPEALED, {"kind": "reconsideration"}),
        (State.APPEALED, {"kind": "litigation"}),
        (State.WITHDRAWN, {"reason": "duplicate"}),
    ],
)
def test_a_step_carrying_what_it_must_is_accepted(state, payload):
    assert lifecycle.validate_payload(state, payload) == payload


@pytest.mark.parametrize(
    ("state", "payload", "field"),
    [
        (
            State.REPORTED,
            {"source": "wechat", "violation_type": "occupy-road", "district": "xuhui"},
            "source",
        ),
        (
            State.REPORTED,
            {"source": "patrol", "violation_type": "occupy-road", "district": "徐汇区"},
            "district",
        ),
        (State.REPORTED, {"source": "patrol", "violation_type": "occupy-road"}, "district"),
        (State.FILED, {"note": "x"}, "note"),
        (State.CLOSED, {"note": "x"}, "note"),
        (State.NOTIFIED, {"proposed_amount_fen": -1}, "proposed_amount_fen"),
        (State.NOTIFIED, {"proposed_amount_fen": 10**11 + 1}, "proposed_amount_fen"),
        (State.DECIDED, {"outcome": "fine"}, "(body)"),
        (State.DECIDED, {"outcome": "no_penalty", "amount_fen": 100}, "(body)"),
        (State.DECIDED, {"outcome": "fine", "amount_fen": 0}, "amount_fen"),
        (State.DECIDED, {"outcome": "fine", "amount_fen": 10**11 + 1}, "amount_fen"),
        (
            State.DECIDED,
            {"outcome": "fine", "amount_fen": 100, "legal_basis": "第二十五条"},
            "legal_basis",
        ),
        (State.DECIDED, {"outcome": "warning"}, "outcome"),
        (State.PAID, {}, "amount_fen"),
        (State.PAID, {"amount_fen": 0}, "amount_fen"),
        (State.PAID, {"amount_fen": 10**11 + 1}, "amount_fen"),
        (State.APPEALED, {"kind": "petition"}, "kind"),
        (State.WITHDRAWN, {}, "reason"),
        (State.WITHDRAWN, {"reason": "the officer changed his mind"}, "reason"),
    ],
)
def test_a_step_missing_what_it_must_carry_or_carrying_more_is_refused(state, payload, field):
    with pytest.raises(InvalidInput) as refused:
        lifecycle.validate_payload(state, payload)
    assert field in {e["field"] for e in refused.value.details["errors"]}


def test_first_offence_exemption_needs_a_party_on_record_but_no_penalty_does_not():
    notified = CaseFacts("CG-1", State.NOTIFIED)
    with pytest.raises(IllegalTransition, match="no party"):
        lifecycle.check_transition(notified, State.DECIDED, {"outcome": "first_offence_exempt"})
    lifecycle.check_transition(notified, State.DECIDED, {"outcome": "no_penalty"})


def test_only_a_fine_can_be_paid_and_only_in_full():
    lifecycle.check_transition(FINED, State.PAID, {"amount_fen": 20000})
    with pytest.raises(IllegalTransition, match="does not match the fine of 20000"):
        lifecycle.check_transition(FINED, State.PAID, {"amount_fen": 19999})
    exempt = CaseFacts("CG-1", State.DECIDED, True, Outcome.FIRST_OFFENCE_EXEMPT)
    with pytest.raises(IllegalTransition, match="nothing to pay"):
        lifecycle.check_transition(exempt, State.PAID, {"amount_fen": 20000})


def test_an_unpaid_fine_closes_only_after_payment_or_an_appeal():
    with pytest.raises(IllegalTransition, match="unpaid fine"):
        lifecycle.check_transition(FINED, State.CLOSED, {})
    appealed = CaseFacts("CG-1", State.APPEALED, True, Outcome.FINE, 20000)
    lifecycle.check_transition(appealed, State.CLOSED, {})
    lifecycle.check_transition(
        CaseFacts("CG-1", State.PAID, True, Outcome.FINE, 20000), State.CLOSED, {}
    )


PARTY = {"commitment": "ab" * 32, "key": "cd" * 32}
RECORDED = [
    (
        "case.reported",
        {"source": "patrol", "violation_type": "occupy-road", "district": "xuhui", "party": PARTY},
    ),
    ("case.filed", {}),
    ("evidence.registered", {"evidence_id": "EV-1"}),
    ("case.investigating", {}),
    ("case.notified", {"proposed_amount_fen": 20000}),
    ("case.decided", {"outcome": "fine", "amount_fen": 20000}),
]


def test_a_recorded_case_replays_to_its_state_skipping_events_that_are_not_steps():
    assert lifecycle.replay("CG-1", RECORDED) is State.DECIDED
    assert lifecycle.replay("CG-1", [*RECORDED, ("case.paid", {"amount_fen": 20000})]) is State.PAID


def test_replay_carries_the_party_and_the_fine_from_earlier_steps():
    with pytest.raises(IllegalTransition, match="does not match the fine of 20000"):
        lifecycle.replay("CG-1", [*RECORDED, ("case.paid", {"amount_fen": 100})])
    without_party = [
        (RECORDED[0][0], {k: v for k, v in RECORDED[0][1].items() if k != "party"}),
        *RECORDED[1:],
    ]
    with pytest.raises(IllegalTransition, match="no party"):
        lifecycle.replay("CG-1", without_party)


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([], "no case.reported event"),
        ([("case.filed", {})], "begins with case.filed"),
        ([RECORDED[0], ("case.deleted", {})], "unknown type case.deleted"),
        ([RECORDED[0], ("case.decided", {"outcome": "no_penalty"})], "cannot go to DECIDED"),
    ],
)
def test_a_recorded_case_that_breaks_the_rules_names_its_first_wrong_step(steps, words):
    with pytest.raises(IllegalTransition, match=words):
        lifecycle.replay("CG-1", steps)
