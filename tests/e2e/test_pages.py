"""Every portal page in Chromium, on a phone and a desktop, in Chinese and English: a citizen opens
their case, a court verifies a package, a supervisor works through the staff pages, anyone browses
the public log. axe-core finds nothing on any page, and no page is wider than a phone's screen.
Screenshots go to test-output/screenshots."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import bearer
from tests.support.api import STAFF_PASSWORD
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    axe_violations,
    overflows,
    serving,
    shot,
)
from verify_portal.web import create_app


@pytest.fixture(scope="module")
def portal(exported):
    """The anchored case of `exported`, served in this process, with a code and a staff
    password."""
    services = exported["services"]
    services.logins.set_password("supervisor-1", STAFF_PASSWORD)
    client = exported["client"]
    from ledger.users import Role

    issued = client.post(
        f"/api/v1/cases/{exported['case_no']}/verification-code",
        headers=bearer(exported["tokens"][Role.OFFICER]),
    ).json
    with serving(create_app(services=services)) as url:
        yield {**exported, "url": url, "code": issued["code"]}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _check(page, name, found):
    """Record what axe and the width check say of the page as it stands."""
    violations = axe_violations(page)
    if violations:
        found.append({"page": name, "axe": violations})
    if page.viewport_size["width"] == PHONE["width"] and overflows(page):
        found.append({"page": name, "wider_than_the_phone": True})
    shot(page, name)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_is_usable_and_accessible(browser, portal, lang, size):
    context = browser.new_context(
        viewport=PHONE if size == "phone" else DESKTOP,
        bypass_csp=True,  # to inject axe-core
    )
    page = context.new_page()
    url, found = portal["url"], []
    name = f"{size}-{lang}"

    page.goto(f"{url}/?lang={lang}")
    assert page.is_visible("a[aria-current='true']")  # the language in use is marked
    _check(page, f"home-{name}", found)

    # A citizen types a wrong code first: told so in their language, what they typed kept.
    page.goto(f"{url}/check")
    page.fill("#case_no", portal["case_no"])
    page.fill("#code", "22222-22222")
    page.click("form.lookup button[type=submit]")
    assert page.input_value("#case_no") == portal["case_no"] and page.is_visible("#lookup-error")
    assert ("不匹配" if lang == "zh" else "do not match") in page.inner_text("#lookup-error")
    _check(page, f"check-form-{name}", found)
    page.fill("#code", portal["code"])
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("#status-card")
    assert ("立案" if lang == "zh" else "Filed") in page.inner_text("#status-card")
    page.wait_for_selector("[data-browser-check].pass", timeout=20000)
    assert page.is_hidden("#check-failed")
    _check(page, f"citizen-case-{name}", found)

    page.goto(f"{url}/court")
    page.set_input_files("input[name=package]", str(portal["path"]))
    page.click("form button[type=submit]")
    page.wait_for_selector("[data-verdict]", timeout=60000)
    assert page.get_attribute("[data-verdict]", "data-verdict") == "VERIFIED"
    _check(page, f"court-report-{name}", found)
    other = "en" if lang == "zh" else "zh"
    page.click(f"nav.lang a[lang^='{other[:2]}']")  # the language switch keeps the report
    assert page.get_attribute("[data-verdict]", "data-verdict") == "VERIFIED"
    page.click(f"nav.lang a[lang^='{lang[:2]}']")

    page.goto(f"{url}/staff/login")
    _check(page, f"staff-login-{name}", found)
    page.fill("input[name=username]", "supervisor-1")
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#chart-state")
    _check(page, f"dashboard-{name}", found)
    page.click("#all-cases")
    page.wait_for_selector("#cases")
    _check(page, f"case-list-{name}", found)
    page.click(f"#cases a[href*='{portal['case_no']}']")
    page.wait_for_selector("#facts")
    _check(page, f"staff-case-{name}", found)

    page.goto(f"{url}/report")
    _check(page, f"citizen-report-form-{name}", found)

    page.goto(f"{url}/log")
    _check(page, f"public-log-{name}", found)
    page.fill("#leaf-index", "0")
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("#proof")
    _check(page, f"public-leaf-{name}", found)
    context.close()
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)
