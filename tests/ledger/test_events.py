"""Events are RFC 8785 canonical JSON; anything else is refused when read back."""

import pytest

from ledger.errors import VerificationError
from ledger.events import Event

EVENT = Event(
    type="case.filed",
    case_no="CG-2026-000001",
    seq=1,
    actor="officer-7",
    time="2026-11-22T10:00:00.000000Z",
    prev="ab" * 32,
    payload={"b": 2, "a": "中文"},
)


def test_an_event_encodes_to_sorted_compact_utf8_json():
    assert (
        EVENT.encode()
        == (
            '{"actor":"officer-7","case_no":"CG-2026-000001","payload":{"a":"中文","b":2},"prev":"'
            + "ab" * 32
            + '","seq":1,"time":"2026-11-22T10:00:00.000000Z","type":"case.filed","v":1}'
        ).encode()
    )


def test_an_event_survives_a_round_trip():
    assert Event.decode(EVENT.encode()) == EVENT


def test_non_canonical_bytes_of_the_same_event_are_refused():
    with pytest.raises(VerificationError, match="not RFC 8785 canonical"):
        Event.decode(EVENT.encode().replace(b'"seq":1', b'"seq": 1'))


def test_an_event_with_a_missing_or_extra_field_is_refused():
    with pytest.raises(VerificationError, match="expected"):
        Event.decode(b'{"type":"x"}')


def test_garbage_is_not_an_event():
    with pytest.raises(VerificationError, match="not JSON"):
        Event.decode(b"\xff\x00")


def test_a_hostile_leaf_nested_too_deep_is_refused_before_parsing():
    with pytest.raises(VerificationError, match="nests deeper"):
        Event.decode(b"[" * 200_000 + b"]" * 200_000)
