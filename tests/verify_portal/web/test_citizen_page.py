"""Citizens check their own record: code, timeline with proof status, receipts; wrong codes reveal
nothing."""

import json
import re

import pytest

from ledger import trust
from tests.anchor.support import worker
from tests.conftest import bearer
from tests.support.api import PARTY, citizen_lookup, issue_code, open_case
from verify_portal.app.citizens import ALPHABET, new_code, normalise


def test_a_code_has_fifty_bits_and_forgives_case_spaces_and_dashes():
    code = new_code()
    assert (
        len(normalise(code)) == 10 and set(normalise(code)) <= set(ALPHABET) and len(ALPHABET) == 32
    )
    assert normalise(f" {code.lower()} ") == normalise(code)


def test_the_notice_link_keeps_the_code_in_the_fragment(client, tokens):
    case_no = open_case(client, tokens["officer"])
    issued = issue_code(client, tokens, case_no)
    assert issued["link"] == f"http://localhost/check#{case_no}:{issued['code']}"
    assert (
        issued["qr_svg"].startswith("<svg") and "path" in issued["qr_svg"]
    )  # printable on the notice
    fingerprint = issued["trust_fingerprint"]
    assert fingerprint == trust.fingerprint(client.get("/api/v1/trust").json)
    assert fingerprint[:16] in issued["notice_svg"] and fingerprint[48:] in issued["notice_svg"]
    assert client.post(f"/api/v1/cases/{case_no}/verification-code").status_code == 401
    assert (
        client.post(
            f"/api/v1/cases/{case_no}/verification-code", headers=bearer(tokens["supervisor"])
        ).status_code
        == 403
    )


def test_the_right_code_opens_the_timeline_without_other_peoples_data(client, tokens):
    case_no = open_case(client, tokens["officer"], party=PARTY)
    client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED"},
        headers=bearer(tokens["officer"]),
    )
    code = issue_code(client, tokens, case_no)["code"]
    r = citizen_lookup(client, case_no, code.lower().replace("-", " "))
    assert (
        r.status_code == 303 and case_no not in r.headers["Location"]
    )  # nothing of the case in the URL
    page = client.get("/check/case").get_data(as_text=True)
    assert "线索登记" in page and "立案" in page and case_no in page
    assert "officer-1" not in page and PARTY["name"] not in page
    assert "已记录，等待上链" in page  # not anchored in this test: said so, no receipt claimed
    assert "本站未提供公开的区块链节点" in page  # what the browser could not check is said plainly
    assert "浏览器从本服务器取得的" in page and 'id="trust-root"' in page


def test_a_wrong_code_and_an_unknown_case_get_the_same_answer(client, tokens):
    case_no = open_case(client, tokens["officer"])
    issue_code(client, tokens, case_no)
    wrong = citizen_lookup(client, case_no, "22222-22222")
    unknown = citizen_lookup(client, "CG-2026-999999", "22222-22222")
    assert wrong.status_code == unknown.status_code == 200
    # The same page, but for the number each typed, which the form keeps for correcting.
    assert wrong.get_data(as_text=True).replace(f'value="{case_no}"', "N") == unknown.get_data(
        as_text=True
    ).replace('value="CG-2026-999999"', "N")
    assert client.get("/check/case").status_code == 303  # nothing opened


def test_a_wrong_code_keeps_what_was_typed_and_says_so_beside_the_form(client, tokens):
    case_no = open_case(client, tokens["officer"])
    issue_code(client, tokens, case_no)
    page = citizen_lookup(client, case_no, "22222-2222X").get_data(as_text=True)
    assert f'value="{case_no}"' in page and 'value="22222-2222X"' in page
    assert 'id="lookup-error"' in page and 'aria-describedby="lookup-error"' in page


def test_no_number_of_failures_locks_a_case_for_its_citizen(client, tokens):
    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    for n in range(30):
        citizen_lookup(
            client, case_no, "22222-22222", addr=f"198.51.100.{n}"
        )  # thirty clients guess at it
    assert (
        citizen_lookup(client, case_no, code, addr="203.0.113.99").status_code == 303
    )  # the citizen opens it


def test_ten_failures_from_one_client_slow_that_client_only(client, tokens):
    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    for n in range(10):
        citizen_lookup(
            client, f"CG-2026-{900000 + n}", "22222-22222"
        )  # ten guesses over other case numbers
    refused = citizen_lookup(client, case_no, code)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "只限制这一连接" in refused.get_data(as_text=True)
    assert (
        citizen_lookup(client, case_no, code, addr="192.0.2.1").status_code == 303
    )  # another client is not held up


def test_right_codes_do_not_count_against_a_client(client, tokens):
    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    for _ in range(15):
        assert citizen_lookup(client, case_no, code).status_code == 303


def test_behind_a_trusted_proxy_each_client_is_limited_by_its_own_address(services, tokens):
    from dataclasses import replace

    from verify_portal.web import create_app

    services.settings = replace(
        services.settings, web=replace(services.settings.web, trusted_proxies=1)
    )
    client = create_app(services=services).test_client()
    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    proxy = "10.0.0.1"  # every request reaches the service from the proxy

    def lookup(code_, forwarded):
        return client.post(
            "/check",
            data={"case_no": case_no, "code": code_},
            environ_base={"REMOTE_ADDR": proxy},
            headers={"X-Forwarded-For": forwarded},
        )

    for _ in range(10):
        lookup("22222-22222", "198.51.100.7")  # one client behind the proxy fails ten times
    assert lookup(code, "198.51.100.7").status_code == 429
    assert lookup(code, "203.0.113.5").status_code == 303  # every other citizen still gets in
    spoofed = lookup(code, "198.51.100.7, 203.0.113.9")  # only the proxy's own entry is believed
    assert spoofed.status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anchored_steps_have_receipts_the_browser_can_check(
    services, client, tokens, chain, contract, tmp_path
):
    from anchor.account import development_account
    from anchor.worker import Target
    from verify_portal.app.settings import Settings

    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    services.settings = Settings.from_env(
        {  # this deployment anchors on the test anvil
            "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
            "DATABASE_URL": services.settings.database_url,
            "LIANZHENG_RPC_URL": chain.url,
            "LIANZHENG_CHAIN_ID": "31337",
            "LIANZHENG_CONTRACT_ADDRESS": contract.address,
        }
    )
    worker(services, Target(chain, contract, development_account(0), 0)).cycle()
    citizen_lookup(client, case_no, code)
    page = client.get("/check/case").get_data(as_text=True)
    assert "已上链，区块" in page and 'data-browser-check="0"' in page
    assert re.search(
        r"已上链，区块 \d+ · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）", page
    )  # block N at time T
    receipts = json.loads(
        re.search(r'<script type="application/json" id="receipts">(.*?)</script>', page, re.S)[1]
    )
    assert [r["leaf_index"] for r in receipts] == [0]
    download = client.get("/check/receipts/0")
    assert download.status_code == 200 and download.json == receipts[0]
    assert client.get("/check/receipts/5").status_code == 404  # not a leaf of this case


def test_case_as_code_opens_nothing_of_case_b(client, tokens):
    case_a, case_b = open_case(client, tokens["officer"]), open_case(client, tokens["officer"])
    code_a = issue_code(client, tokens, case_a)["code"]
    issue_code(client, tokens, case_b)
    refused = citizen_lookup(client, case_b, code_a)
    assert refused.status_code == 200 and "不匹配" in refused.get_data(as_text=True)
    assert client.get("/check/case").status_code == 303
    citizen_lookup(client, case_a, code_a)
    page = client.get("/check/case").get_data(as_text=True)
    assert case_a in page and case_b not in page


def test_a_refused_code_is_counted_in_the_metrics_and_a_right_one_is_not(client, tokens):
    case_no = open_case(client, tokens["officer"])
    code = issue_code(client, tokens, case_no)["code"]
    citizen_lookup(client, case_no, "22222-22222")
    citizen_lookup(client, case_no, code)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'lianzheng_verification_failures_total{kind="citizen_code"} 1' in metrics
