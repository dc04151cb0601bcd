"""The event types are part of the log's fixed format: leaves already written and verifiers already
shipped read these exact names, so none may change."""

from ledger import event_types
from ledger.lifecycle import State

FIXED = {
    "case.reported", "case.filed", "case.investigating", "case.notified", "case.decided", "case.paid",
    "case.appealed", "case.closed", "case.withdrawn",
    "party.erased", "party.statement",
    "evidence.registered", "evidence.custody", "evidence.gap-acknowledged",
    "device.registered", "device.revoked", "recipient.registered",
}


def test_the_registry_names_exactly_the_event_types_of_the_fixed_format():
    assert event_types.ALL == FIXED


def test_every_state_of_the_lifecycle_has_its_case_event():
    assert set(event_types.CASE_EVENTS) == set(State)
    assert event_types.CASE_EVENTS[State.FILED] == "case.filed"
