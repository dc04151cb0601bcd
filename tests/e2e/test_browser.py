"""The portal in a real browser (Debian's Chromium driven by Playwright) against the running
service.

A citizen checks a case by QR link and by typing the code and sees the proof checked in the browser;
a court uploads a package and a tampered one; a supervisor signs in, exports a case from its page,
and sees a tampered log flagged after direct database tampering. Screenshots go to
test-output/screenshots."""

import json
import os
import sqlite3
import subprocess
import time
import zipfile

import pytest
from playwright.sync_api import sync_playwright

from evidence import verify as verifier
from ledger.trust import TrustRoot, TrustRoots
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, shot
from tests.support.serve import BIN, Server, request
from tests.support.tamper import drop_triggers, rewrite_history

PASSWORD = "a long supervisor password"


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


def _cli(env, *args, check=True):
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, check=check)


def _all_anchored(server, timeout=120):
    """Wait until the newest checkpoint is anchored and final."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = int(request(f"{server.url}/api/v1/log/checkpoint")[1].split("\n")[1])
        anchors = json.loads(request(f"{server.url}/api/v1/log/anchors")[1])["anchors"]
        if anchors and anchors[0]["size"] == size and anchors[0]["final"]:
            return
        time.sleep(0.5)
    raise AssertionError("the log was not anchored in time")


def test_citizen_court_and_supervisor_in_a_real_browser(browser, tmp_path, media_dir):
    env = {
        **os.environ,
        "LIANZHENG_DATA_DIR": str(tmp_path / "var"),
        "LIANZHENG_ANCHOR_INTERVAL": "1",
    }
    _cli(
        env, "chain", "up"
    )  # started apart so that its RPC address is known before the portal starts
    rpc_url = json.loads((tmp_path / "var" / "chain" / "anvil.json").read_text())["rpc_url"]
    env["LIANZHENG_PUBLIC_RPC_URL"] = rpc_url  # citizens' browsers check anchors there themselves
    try:
        _browse(browser, env, tmp_path)
    finally:
        _cli(env, "chain", "down", check=False)


def _browse(browser, env, tmp_path):
    with Server(env) as server:
        token = _cli(env, "user", "add", "officer-1", "--role", "officer").stdout.strip()
        _cli(env, "user", "add", "supervisor-1", "--role", "supervisor")
        _cli(env, "user", "password", "supervisor-1", "--password", PASSWORD)
        _, body = request(
            f"{server.url}/api/v1/cases",
            {"source": "patrol", "violation_type": "stall", "district": "xuhui"},
            token,
        )
        case_no = json.loads(body)["case_no"]
        issued = json.loads(
            request(f"{server.url}/api/v1/cases/{case_no}/verification-code", {}, token)[1]
        )
        code = issued["code"]
        _all_anchored(server)

        # A citizen scans the QR code: the fragment fills the form, the browser checks the receipt.
        page = browser.new_page()
        page.goto(issued["link"])  # what the notice's QR code holds
        page.click("button[type=submit]")
        page.wait_for_selector("text=链上已核对", timeout=20000)  # signed, included, and on chain
        assert case_no in page.content() and "#" not in page.url
        root = json.loads(request(f"{server.url}/api/v1/trust")[1])
        fingerprint = _cli(env, "trust", "fingerprint").stdout.strip()
        assert page.inner_text("#browser-fingerprint") == fingerprint == issued["trust_fingerprint"]
        assert page.is_hidden("#check-failed")
        shot(page, "citizen-qr")
        page.set_viewport_size({"width": 390, "height": 844})  # as on a phone
        shot(page, "citizen-phone")
        # Another types the code by hand, in English.
        page = browser.new_page()
        page.goto(f"{server.url}/check?lang=en")
        page.fill("#case_no", case_no)
        page.fill("#code", code.lower())
        page.click("button[type=submit]")
        page.wait_for_selector("text=✓ verified in your browser", timeout=20000)
        shot(page, "citizen-code")

        # A court uploads the exported package, then a tampered copy.
        package = tmp_path / "case.zip"
        _cli(env, "export", case_no, "-o", str(package), "--as", "supervisor-1", "--wait", "60")
        page = browser.new_page()
        page.goto(f"{server.url}/court")
        page.set_input_files("input[name=package]", str(package))
        page.click("form button[type=submit]")
        page.wait_for_selector(".verdict.pass")
        assert f'data-root="{fingerprint}"' in page.content()
        shot(page, "court-verified")
        tampered = tmp_path / "tampered.zip"
        with zipfile.ZipFile(package) as z, zipfile.ZipFile(tampered, "w") as out:
            for info in z.infolist():
                data = z.read(info)
                out.writestr(
                    info.filename,
                    data.replace(b"patrol", b"camera") if "/events/" in info.filename else data,
                )
        page.goto(f"{server.url}/court")
        page.set_input_files("input[name=package]", str(tampered))
        page.click("form button[type=submit]")
        page.wait_for_selector(".verdict.fail")
        assert 'data-check="manifests"' in page.content()
        shot(page, "court-tampered")

        # A supervisor signs in, exports the case from its page, then sees tampering flagged.
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{server.url}/staff/login")
        page.fill("input[name=username]", "supervisor-1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#by-state")
        shot(page, "supervisor-dashboard")
        _all_anchored(
            server
        )  # the court's export added custody events; the page's export waits for them
        page.goto(f"{server.url}/staff/cases/{case_no}")
        shot(page, "supervisor-case")
        with page.expect_download() as download:
            page.click("text=导出证据包")
        exported = tmp_path / "from-page.zip"
        download.value.save_as(exported)
        assert verifier.verify(str(exported), TrustRoots([TrustRoot.from_document(root)])).passed

        database = sqlite3.connect(
            tmp_path / "var" / "lianzheng.db"
        )  # someone with the database file
        first_event = bytes(
            database.execute("SELECT data FROM log_leaves WHERE leaf_index = 0").fetchone()[0]
        )
        drop_triggers(database)
        database.execute(
            "UPDATE log_leaves SET data = CAST('{\"forged\":1}' AS BLOB) WHERE leaf_index = 0"
        )
        database.commit()
        database.close()
        assert _cli(env, "audit", check=False).returncode == 2
        page.goto(f"{server.url}/staff")
        page.wait_for_selector("#audit.fail")
        assert "leaf 0" in page.inner_text("#audit-findings")
        shot(page, "supervisor-tampering-flagged")

        # Someone with the database file rewrites the case's first step and makes the whole log
        # agree
        # with it, re-signing every checkpoint with a key of their own: the citizen's browser
        # refuses it.
        first = json.loads(request(f"{server.url}/api/v1/log/receipt?index=0")[1])
        forged = first_event.replace(b'"source":"patrol"', b'"source":"camera"')
        rewrite_history(tmp_path / "var" / "lianzheng.db", 0, forged, root["log_origin"])
        page = browser.new_page()
        page.goto(issued["link"])
        page.click("button[type=submit]")
        page.wait_for_selector("#check-failed:not([hidden])", timeout=20000)
        forged_step = page.inner_text('tr[data-leaf="0"]')
        assert "检查点并非由信任根中的密钥签名" in forged_step
        assert "服务器的说法未获浏览器证实" in forged_step  # "anchored, final" is not left standing
        assert page.is_visible("#status-disputed") and "12345" in page.inner_text("#check-failed")
        assert first["anchor"]["block_number"] is not None
        shot(page, "citizen-forgery-refused")
