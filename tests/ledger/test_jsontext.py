"""Untrusted JSON: too deep a nesting is refused before parsing, brackets in strings do not
count."""

import enum
import json
from datetime import UTC, datetime

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import jsontext
from ledger.errors import InvalidInput


def test_nesting_counts_arrays_and_objects():
    assert jsontext.nesting(b'{"a": [1, {"b": []}]}') == 4
    assert jsontext.nesting(b"42") == 0


def test_brackets_inside_strings_and_escaped_quotes_do_not_count():
    assert jsontext.nesting(b'{"a": "[[[[{{\\"[["}') == 1


def test_text_nested_too_deep_is_refused_without_parsing():
    with pytest.raises(InvalidInput, match="nests deeper than 32"):
        jsontext.loads(b"[" * 100_000 + b"]" * 100_000, "the receipt")


def test_text_that_is_not_json_is_refused_naming_it():
    with pytest.raises(InvalidInput, match="the receipt is not valid JSON"):
        jsontext.loads(b"{nope", "the receipt")


def test_the_bracket_count_settles_shallow_text_and_the_exact_scan_the_rest():
    assert jsontext.nests_at_most(b'{"a": [1, 2]}', 2)
    assert jsontext.nests_at_most(b'{"a": "[[[[[[", "b": [{}]}', 3), "brackets in strings"
    assert not jsontext.nests_at_most(b"[[[[]]]]", 3)


@pytest.mark.parametrize("code", range(128))
def test_the_fast_encoder_escapes_every_ascii_character_as_rfc8785_does(code):
    text = f"a{chr(code)}b"
    assert orjson.dumps({text: text}) == rfc8785.dumps({text: text})


def test_ascii_keys_sort_alike_in_the_fast_encoder_and_rfc8785():
    value = {chr(c) + "k": c for c in range(32, 127)} | {"": 0, "aa": 1, "a": 2, "B": 3}
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(value)


def test_canonical_text_is_recognised_by_the_fast_check():
    data = rfc8785.dumps({"b": [1, -2, 9007199254740991, True, None], "a": "x\ny\u001f"})
    assert jsontext.canonical_value(data) == json.loads(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1.0}',  # RFC 8785 writes 1
        b'{"a":1.5}',  # a float: left to rfc8785
        b'{"a":9007199254740992}',  # beyond the safe integers
        b'{"b":1,"a":2}',  # keys out of order
        b'{"a": 1}',  # whitespace
        b'{"a":"\\u00e9"}',  # an escape RFC 8785 writes as the character itself
        '{"a":"é"}'.encode(),  # not ASCII: left to rfc8785
        b'{"a":1,"a":1}',  # a duplicate key
        b'{"a":-0}',
        b"{nope",
    ],
)
def test_the_fast_check_does_not_vouch_for_what_it_cannot_prove(data):
    assert jsontext.canonical_value(data) is None


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_canonical_bytes_writes_what_rfc8785_writes_or_refuses_what_it_refuses(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as refused:
        with pytest.raises(type(refused)):
            jsontext.canonical_bytes(value)
    else:
        assert jsontext.canonical_bytes(value) == expected


class _Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1.0, "b": 1e21},  # floats: RFC 8785 writes 1 and 1e+21
        {"z": "é", "a": "\U0001f600", "\ue000": 1, "\U00010000": 2},  # keys sort by UTF-16 units
        {"colour": _Colour.RED},  # a str subclass
        {"pair": (1, 2)},  # a tuple, which rfc8785 writes as an array
        {"a": 2**53 - 1, "b": -(2**53) + 1},  # the largest safe integers
    ],
)
def test_values_the_fast_encoder_cannot_vouch_for_are_written_as_rfc8785_writes_them(value):
    assert jsontext.canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value", [{"a": 2**53}, {1: "a"}, {"when": datetime(2026, 12, 2, tzinfo=UTC)}]
)
def test_what_rfc8785_cannot_write_is_refused(value):
    with pytest.raises(rfc8785.CanonicalizationError):
        jsontext.canonical_bytes(value)


def test_the_fast_encoder_writes_an_event_s_plain_values_itself(monkeypatch):
    monkeypatch.setattr(rfc8785, "dumps", None)  # the reference implementation is not asked
    value = {"b": [1, -2, True, None], "a": {"y": "x\ny\u001f", "x": ""}}
    assert (
        jsontext.canonical_bytes(value) == b'{"a":{"x":"","y":"x\\ny\\u001f"},"b":[1,-2,true,null]}'
    )
