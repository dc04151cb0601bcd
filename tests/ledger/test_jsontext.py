"""Untrusted JSON: too deep a nesting is refused before parsing, brackets in strings do not
count."""

import pytest

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
