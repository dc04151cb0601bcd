"""Cases through the service: each step a leaf, refused steps leave nothing, erasure keeps
proofs."""

import pytest

from ledger import audit, merkle
from ledger.cases import Idempotency
from ledger.errors import (
    FirstOffenceRefused,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
)
from ledger.events import Event
from ledger.users import Role, add_user, by_username

REPORT = {"source": "patrol", "violation_type": "occupy-road", "district": "xuhui"}
ZHANG = {
    "name": "张三",
    "id_type": "resident_id",
    "id_number": "310101199001011234",
    "phone": "13800000000",
}


@pytest.fixture
def officer(services):
    with services.sessions.begin() as session:
        add_user(session, "officer-7", Role.OFFICER)
        add_user(session, "legal-1", Role.LEGAL)
        add_user(session, "supervisor-1", Role.SUPERVISOR)
    with services.sessions() as session:
        return by_username(session, "officer-7")


def _actor(services, name):
    with services.sessions() as session:
        return by_username(session, name)


def _size(services):
    with services.sessions() as session:
        return services.store.latest_size(session)


def _erase(services, actor, case_no):
    return services.cases.write(
        actor, None, lambda tx: services.cases.erase_party(tx, actor, case_no)
    )


def _walk(services, actor, case_no, *steps):
    for to, payload in steps:
        services.cases.transition(actor, case_no, to, payload)


TO_DECISION = [("FILED", {}), ("INVESTIGATING", {}), ("NOTIFIED", {})]


def test_a_case_walks_to_closed_and_its_events_form_a_hash_chain(services, officer):
    case_no = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(
        services,
        officer,
        case_no,
        *TO_DECISION,
        ("DECIDED", {"outcome": "fine", "amount_fen": 20000}),
        ("PAID", {"amount_fen": 20000}),
        ("CLOSED", {}),
    )
    case = services.cases.get(officer, case_no)
    assert case["state"] == "CLOSED"
    events = [Event.from_json(e["event"]) for e in case["events"]]
    assert [e.leaf_hash.hex() for e in events] == [e["leaf_hash"] for e in case["events"]]
    assert [e.type for e in events] == [
        "case.reported",
        "case.filed",
        "case.investigating",
        "case.notified",
        "case.decided",
        "case.paid",
        "case.closed",
    ]
    assert events[0].prev is None
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev == before.leaf_hash.hex() and after.seq == before.seq + 1


def test_no_personal_data_enters_a_leaf(services, officer):
    created = services.cases.create(officer, REPORT, ZHANG)
    leaf = Event.from_json(created["event"]).encode().decode()
    for value in ZHANG.values():
        assert value not in leaf
    assert set(created["event"]["payload"]["party"]) == {"commitment", "key"}


def test_an_illegal_step_names_the_state_and_the_allowed_steps_and_appends_nothing(
    services, officer
):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    before = _size(services)
    with pytest.raises(IllegalTransition) as refused:
        services.cases.transition(officer, case_no, "DECIDED", {"outcome": "no_penalty"})
    assert "is REPORTED" in refused.value.message and "only to: FILED" in refused.value.message
    assert refused.value.details["allowed"] == ["FILED"]
    assert _size(services) == before
    assert services.cases.get(officer, case_no)["state"] == "REPORTED"


def test_a_refused_step_leaves_a_log_line_without_personal_data(services, officer, caplog):
    case_no = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    with caplog.at_level("INFO", logger="ledger.cases"), pytest.raises(IllegalTransition):
        services.cases.transition(officer, case_no, "PAID", {"amount_fen": 1})
    [line] = caplog.messages
    assert case_no in line and "REPORTED to PAID" in line
    assert not any(value in caplog.text for value in ZHANG.values())


def test_a_reported_case_cannot_be_withdrawn_but_a_filed_one_can(services, officer):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    with pytest.raises(IllegalTransition):
        services.cases.transition(officer, case_no, "WITHDRAWN", {"reason": "duplicate"})
    _walk(services, officer, case_no, ("FILED", {}), ("WITHDRAWN", {"reason": "duplicate"}))
    with pytest.raises(IllegalTransition, match="the case is finished"):
        services.cases.transition(officer, case_no, "CLOSED", {})


def test_a_fine_must_be_paid_in_full_before_the_case_closes(services, officer):
    case_no = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(
        services,
        officer,
        case_no,
        *TO_DECISION,
        ("DECIDED", {"outcome": "fine", "amount_fen": 5000}),
    )
    with pytest.raises(IllegalTransition, match="unpaid fine"):
        services.cases.transition(officer, case_no, "CLOSED", {})
    with pytest.raises(IllegalTransition, match="4999 fen does not match the fine of 5000"):
        services.cases.transition(officer, case_no, "PAID", {"amount_fen": 4999})


def test_a_step_with_a_bad_payload_is_refused_before_anything_is_written(services, officer):
    case_no = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(services, officer, case_no, *TO_DECISION)
    before = _size(services)
    for payload in (
        {"outcome": "fine"},
        {"outcome": "fine", "amount_fen": "100"},
        {"outcome": "no_penalty", "amount_fen": 100},
        {"outcome": "fine", "amount_fen": 1, "note": "x"},
    ):
        with pytest.raises(InvalidInput):
            services.cases.transition(officer, case_no, "DECIDED", payload)
    assert _size(services) == before


def test_first_offence_exemption_is_granted_once_per_party_and_violation_type(services, officer):
    first = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(services, officer, first, *TO_DECISION, ("DECIDED", {"outcome": "first_offence_exempt"}))

    again = services.cases.create(officer, REPORT, {**ZHANG, "name": "张 三", "phone": None})[
        "case_no"
    ]
    _walk(services, officer, again, *TO_DECISION)
    before = _size(services)
    with pytest.raises(FirstOffenceRefused, match="already has 1 case"):
        services.cases.transition(officer, again, "DECIDED", {"outcome": "first_offence_exempt"})
    assert _size(services) == before


def test_first_offence_exemption_is_refused_after_an_earlier_fine_and_allowed_for_another_type(
    services, officer
):
    fined = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(
        services,
        officer,
        fined,
        *TO_DECISION,
        ("DECIDED", {"outcome": "fine", "amount_fen": 20000}),
    )
    same = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(services, officer, same, *TO_DECISION)
    with pytest.raises(FirstOffenceRefused):
        services.cases.transition(officer, same, "DECIDED", {"outcome": "first_offence_exempt"})

    other = services.cases.create(officer, {**REPORT, "violation_type": "illegal-ad"}, ZHANG)[
        "case_no"
    ]
    _walk(services, officer, other, *TO_DECISION, ("DECIDED", {"outcome": "first_offence_exempt"}))
    assert services.cases.get(officer, other)["outcome"] == "first_offence_exempt"


def test_a_party_can_be_recorded_when_filing(services, officer):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    filed = services.cases.transition(officer, case_no, "FILED", {}, ZHANG)
    assert "party" in filed["event"]["payload"]
    assert services.cases.get(officer, case_no)["party"]["data"]["name"] == "张三"


def test_erasing_a_party_deletes_the_data_and_keeps_every_proof_valid(services, officer):
    case_no = services.cases.create(officer, REPORT, ZHANG)["case_no"]
    _walk(services, officer, case_no, ("FILED", {}))
    with services.sessions() as session:
        before = services.store.inclusion_proof(session, 0)
    legal = _actor(services, "legal-1")
    with pytest.raises(Forbidden):
        _erase(services, officer, case_no)
    erased = _erase(services, legal, case_no)
    assert erased["event"]["type"] == "party.erased"

    case = services.cases.get(legal, case_no)
    assert case["party"] == {
        "erased": True,
        "commitment": case["events"][0]["event"]["payload"]["party"]["commitment"],
    }
    with services.sessions() as session:
        after = services.store.inclusion_proof(session, 0)
        report = audit.run(session, services.trust.latest())
    merkle.verify_inclusion(0, after.size, before.leaf_hash, after.proof, after.root)
    assert report.clean, report.findings
    with pytest.raises(NotFound, match="no personal data"):
        _erase(services, legal, case_no)


def test_a_retried_write_with_the_same_idempotency_key_is_appended_once(services, officer):
    key = Idempotency.of("phone-42-step-1", "POST", "/api/v1/cases", b"{}")
    first = services.cases.create(officer, REPORT, idempotency=key)
    retry = services.cases.create(officer, REPORT, idempotency=key)
    assert retry == first
    assert _size(services) == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(services, officer):
    services.cases.create(
        officer, REPORT, idempotency=Idempotency.of("k1", "POST", "/api/v1/cases", b"{}")
    )
    with pytest.raises(IdempotencyConflict):
        services.cases.create(
            officer, REPORT, idempotency=Idempotency.of("k1", "POST", "/api/v1/cases", b"{ }")
        )
    assert _size(services) == 1


def test_a_supervisor_may_read_but_not_write(services, officer):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    supervisor = _actor(services, "supervisor-1")
    assert services.cases.get(supervisor, case_no)["case_no"] == case_no
    with pytest.raises(Forbidden):
        services.cases.transition(supervisor, case_no, "FILED", {})


def test_an_officer_of_another_district_cannot_see_the_case(services, officer):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    with services.sessions.begin() as session:
        add_user(session, "officer-pudong", Role.OFFICER, district="pudong")
    other = _actor(services, "officer-pudong")
    with pytest.raises(NotFound):
        services.cases.get(other, case_no)
    with pytest.raises(NotFound):
        services.cases.transition(other, case_no, "FILED", {})


def test_a_username_is_a_code_never_a_persons_name(services):
    from ledger.errors import InvalidInput
    from ledger.users import Role, add_user

    with (
        services.sessions.begin() as session,
        pytest.raises(InvalidInput, match="never a person's name"),
    ):
        add_user(session, "张三", Role.OFFICER)


def test_an_event_whose_payload_is_not_of_its_shape_is_refused_and_nothing_is_written(
    services, officer
):
    case_no = services.cases.create(officer, REPORT)["case_no"]
    before = _size(services)
    with pytest.raises(InvalidInput, match="not of its shape"):
        services.cases.write(
            officer,
            None,
            lambda tx: services.cases.append_event(
                tx,
                officer,
                case_no,
                "evidence.gap-acknowledged",
                {"evidence_id": "EV-0123", "device": None, "reason": "the officer forgot"},
            ),
        )
    assert _size(services) == before
    assert [e["event"]["type"] for e in services.cases.get(officer, case_no)["events"]] == [
        "case.reported"
    ]
