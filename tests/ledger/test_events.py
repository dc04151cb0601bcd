"""Events are RFC 8785 canonical JSON; anything else is refused when read back."""

import pytest

from ledger.errors import VerificationError
from ledger.events import Event, parse_time

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


def test_an_event_time_is_the_same_moment_whichever_offset_writes_it():
    assert parse_time("2026-03-01T07:00:00.000000Z") == parse_time("2026-03-01T15:00:00+08:00")


@pytest.mark.parametrize("text", ["2026-03-01T07:00:00", "", "²", 1_772_348_400, None, "x" * 5000])
def test_a_time_without_a_zone_or_not_text_is_refused_as_a_verification_error(text):
    with pytest.raises(VerificationError, match="is not an RFC 3339 time with a zone"):
        parse_time(text)
