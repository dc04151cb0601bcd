"""The event types are part of the log's fixed format: leaves already written and verifiers already
shipped read these exact names, so none may change."""

import pytest

from ledger import event_types
from ledger.errors import InvalidInput
from ledger.lifecycle import State

FIXED = {
    "case.reported",
    "case.filed",
    "case.investigating",
    "case.notified",
    "case.decided",
    "case.paid",
    "case.appealed",
    "case.closed",
    "case.withdrawn",
    "party.erased",
    "party.statement",
    "evidence.registered",
    "evidence.custody",
    "evidence.gap-acknowledged",
    "evidence.ingest-reported",
    "evidence.linked",
    "evidence.link-declined",
    "evidence.intake-linked",
    "device.registered",
    "device.revoked",
    "device.issued",
    "recipient.registered",
}


def test_the_registry_names_exactly_the_event_types_of_the_fixed_format():
    assert event_types.ALL == FIXED


def test_every_state_of_the_lifecycle_has_its_case_event():
    assert set(event_types.CASE_EVENTS) == set(State)
    assert event_types.CASE_EVENTS[State.FILED] == "case.filed"


HASH = "ab" * 32
CUSTODY = {
    "evidence_id": "EV-0123456789abcdef0123",
    "sha256": HASH,
    "action": "view",
    "role": "officer",
    "reason": "case-review",
}


def test_every_event_type_has_a_payload_shape():
    shaped = set(event_types.PAYLOAD_SHAPES) | set(event_types.CASE_EVENTS.values())
    assert shaped == event_types.ALL


def test_a_payload_of_its_shape_is_accepted():
    event_types.check_payload("evidence.custody", CUSTODY)
    event_types.check_payload(
        "case.decided",
        {"outcome": "fine", "amount_fen": 20000, "party": {"commitment": HASH, "key": HASH}},
    )


@pytest.mark.parametrize(
    ("type_", "payload", "field"),
    [
        ("evidence.custody", {**CUSTODY, "note": "the officer's own words"}, "note"),
        ("evidence.custody", {**CUSTODY, "reason": "他说要看"}, "reason"),
        ("evidence.custody", {**CUSTODY, "sha256": "not a hash"}, "sha256"),
        (
            "party.statement",
            {"commitment": HASH, "channel": "portal", "photos": [], "text": "我没有占道"},
            "text",
        ),
        ("device.revoked", {"serial": "CAM 01 张三"}, "serial"),
        ("case.filed", {"party": {"commitment": HASH, "key": HASH, "name": "张三"}}, "name"),
        ("case.paid", {"amount_fen": "200"}, "amount_fen"),
    ],
)
def test_a_payload_with_free_text_or_a_field_its_type_does_not_have_is_refused(
    type_, payload, field
):
    with pytest.raises(InvalidInput) as refused:
        event_types.check_payload(type_, payload)
    assert any(field in e["field"] for e in refused.value.details["errors"])
    assert "张三" not in str(refused.value.details) and "我没有" not in str(refused.value.details)


def test_an_event_type_outside_the_registry_is_refused():
    with pytest.raises(ValueError, match="not an event type"):
        event_types.check_payload("case.deleted", {})
