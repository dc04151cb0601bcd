"""Untrusted JSON: too deep a nesting is refused before parsing, brackets in strings do not
count."""

import json

import orjson
import pytest
import rfc8785

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
