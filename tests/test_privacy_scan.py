"""The scan every test deployment's leaves go through (tests/support/privacy.py) finds personal data
and nothing else: the issue's free-text share recipient is caught; hashes and case numbers are
not."""

import hashlib
import json

from tests.support.privacy import PATTERNS


def _found(text):
    return sorted(what for what, pattern in PATTERNS.items() if pattern.search(text))


def test_the_scan_finds_a_name_an_id_number_a_phone_and_a_plate():
    leaked = json.dumps(
        {"recipient": "张三 身份证310101199001011234 手机13800138000", "plate": "沪A12345"},
        ensure_ascii=False,
    )
    assert _found(leaked) == [
        "Chinese text (a name?)",
        "a licence plate",
        "a mobile phone number",
        "a resident identity number",
    ]


def test_the_scan_leaves_hashes_case_numbers_and_times_alone():
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(2000)]
    event = json.dumps(
        {
            "case_no": "CG-2026-000123",
            "time": "2026-11-30T08:30:00.123456Z",
            "hashes": hashes,
            "amount_fen": 20000,
            "index": 12345678901234567,
        }
    )
    assert _found(event) == []
