"""Identity numbers: normalised, checked by their national standards, refused naming the rule they
break."""

import pytest

from ledger import identity
from ledger.errors import InvalidInput


@pytest.mark.parametrize(
    "number, why",
    [
        ("310101199001011235", "check digit is wrong"),
        ("310101199013011234", "birth date"),
        ("31010119900101123", "18 characters"),
        ("31010119900101123Y", "18 characters"),
    ],
)
def test_a_wrong_resident_number_is_refused_naming_the_rule(number, why):
    with pytest.raises(InvalidInput, match=why) as refused:
        identity.canonical("resident_id", number)
    assert "GB 11643" in refused.value.message


def test_a_number_shaped_like_a_resident_number_is_checked_as_one_whatever_the_type():
    with pytest.raises(InvalidInput, match="check digit"):
        identity.canonical("other", "310101199001011235")


def test_a_first_generation_number_becomes_its_18_digit_form():
    assert identity.canonical("resident_id", "310101900101123") == (
        "resident_id",
        "310101199001011234",
    )


def test_a_check_letter_is_upper_cased():
    assert identity.canonical("resident_id", "11010519491231002x") == (
        "resident_id",
        "11010519491231002X",
    )


def test_a_unified_social_credit_code_is_checked():
    assert identity.canonical("uscc", "91350100M000100Y43") == ("uscc", "91350100M000100Y43")
    assert identity.canonical("other", "91350100m000100y43") == ("uscc", "91350100M000100Y43")
    with pytest.raises(InvalidInput, match="check character is wrong"):
        identity.canonical("uscc", "91350100M000100Y44")
    with pytest.raises(InvalidInput, match="GB 32100"):
        identity.canonical("uscc", "91350100M000100I43")


def test_a_passport_number_is_kept_as_typed_but_normalised():
    assert identity.canonical("passport", " e12-345 678 ") == ("passport", "E12345678")


def test_a_number_of_separators_only_is_refused():
    with pytest.raises(InvalidInput, match="no characters"):
        identity.canonical("passport", " - \u200b ")
