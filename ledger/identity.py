"""Identity numbers of parties, normalised and checked before a pseudonym is made of them. Pure: no
I/O.

The same person must get the same pseudonym however the number was typed:
NFKC folds full-width digits (３１０…) to ASCII, separators (spaces, hyphens,
dashes, dots) and invisible characters (zero-width spaces, byte-order marks)
are dropped, check letters are upper-cased. Numbers with a check character
are checked: the resident identity number (居民身份证号码, GB 11643-1999) and
the unified social credit code (统一社会信用代码, GB 32100-2015); a 15-digit
first-generation resident number becomes its 18-digit form. A number shaped
like one of them is checked as one whatever type the caller named, so a
different type cannot buy a different pseudonym.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from ledger.errors import InvalidInput

_DROPPED = re.compile(r"[\s\-‐‑‒–—―‧·.．_/]")  # separators people type inside a number
_RESIDENT = re.compile(r"[0-9]{17}[0-9X]")
_RESIDENT_OLD = re.compile(r"[0-9]{15}")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC = re.compile(rf"[{_USCC_ALPHABET}]{{18}}")
# GB 11643-1999: weights 2^(17-i) mod 11 of the first 17 digits; the check is 12 - sum mod 11, 10 as
# X.
_RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_RESIDENT_CHECK = "10X98765432"
# GB 32100-2015: weights 3^i mod 31 of the first 17 characters; the check is 31 - sum mod 31.
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def normalise(number: str) -> str:
    """The number as one canonical string: NFKC, no separators or invisible characters, upper
    case."""
    folded = unicodedata.normalize("NFKC", number)
    visible = "".join(c for c in folded if unicodedata.category(c) not in ("Cf", "Cc"))
    return _DROPPED.sub("", visible).upper()


def canonical(id_type: str, number: str) -> tuple[str, str]:
    """The checked (type, number) of a party's identity; InvalidInput naming the rule it breaks."""
    text = normalise(number)
    if not text:
        raise InvalidInput("id_number holds no characters once separators are removed")
    if id_type == "resident_id" or _RESIDENT.fullmatch(text) or _RESIDENT_OLD.fullmatch(text):
        return "resident_id", resident_id(text)
    if id_type == "uscc" or (_USCC.fullmatch(text) and not text.isdigit()):
        return "uscc", uscc(text)
    return id_type, text


def resident_id(text: str) -> str:
    """A checked 18-character resident identity number (GB 11643-1999)."""
    if _RESIDENT_OLD.fullmatch(text):  # first generation: the century inserted, the check computed
        body = text[:6] + "19" + text[6:]
        text = body + resident_check_digit(body)
    if not _RESIDENT.fullmatch(text):
        raise InvalidInput(
            "a resident identity number has 18 characters: 17 digits and a check digit or X "
            "(GB 11643)"
        )
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidInput(
            "the resident identity number's birth date (digits 7 to 14) is not a date (GB 11643)"
        ) from None
    if text[17] != resident_check_digit(text[:17]):
        raise InvalidInput("the resident identity number's check digit is wrong (GB 11643)")
    return text


def resident_check_digit(first17: str) -> str:
    """The check character of a resident identity number's first 17 digits (GB 11643)."""
    return _RESIDENT_CHECK[
        sum(int(d) * w for d, w in zip(first17, _RESIDENT_WEIGHTS, strict=True)) % 11
    ]


def uscc(text: str) -> str:
    """A checked unified social credit code (GB 32100-2015)."""
    if not _USCC.fullmatch(text):
        raise InvalidInput(
            "a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, "
            "V and Z (GB 32100)"
        )
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(text[:17], _USCC_WEIGHTS, strict=True))
    if text[17] != _USCC_ALPHABET[(31 - total % 31) % 31]:
        raise InvalidInput("the unified social credit code's check character is wrong (GB 32100)")
    return text
