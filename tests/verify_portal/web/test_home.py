"""The front door and the errors people meet: `/` is a page that leads everywhere, a missing page
is a page in the visitor's language, and machines keep getting problem+json."""

import pytest

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_home_page_leads_to_citizens_courts_staff_and_the_public_log(client):
    page = client.get("/", headers=BROWSER)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    text = page.text
    for target in (
        'href="/check',
        'href="/court',
        'href="/staff',
        'href="/log',
        'href="/api/v1/docs"',
    ):
        assert target in text
    assert "查询我的案件" in text
    assert "Check my case" in client.get("/?lang=en", headers=BROWSER).text


def test_every_page_has_a_skip_link_the_site_title_leads_home_and_the_language_is_marked(client):
    text = client.get("/court?lang=en", headers=BROWSER).text
    assert '<a class="skip-link" href="#main">Skip to content</a>' in text
    assert '<main id="main"' in text
    assert 'class="brand" href="/?lang=en"' in text
    assert 'lang="en" aria-current="true">English</a>' in text
    assert 'lang="zh-CN" >中文' in text or 'lang="zh-CN">中文' in text


@pytest.mark.parametrize(
    ("lang", "words"), [("zh", "没有这个页面"), ("en", "There is no such page")]
)
def test_a_missing_page_is_a_page_in_the_visitors_language_with_the_way_home(client, lang, words):
    page = client.get(f"/no-such-page?lang={lang}", headers=BROWSER)
    assert page.status_code == 404 and page.content_type.startswith("text/html")
    assert words in page.text and 'href="/?lang=' in page.text


def test_a_wrong_method_on_a_page_is_a_page_too(client):
    page = client.post("/", headers=BROWSER)
    assert page.status_code == 405 and "从首页进入" in page.text


def test_machines_and_the_api_keep_getting_problem_json(client):
    for path, headers in (("/no-such-page", {}), ("/api/v1/nothing", BROWSER)):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404
        assert answer.content_type == "application/problem+json"


def test_a_stale_form_is_a_page_that_says_to_reload_and_send_again(client):
    page = client.post("/staff/login?lang=en", data={"username": "x"}, headers=BROWSER)
    assert page.status_code == 400 and "reload the page and send it again" in page.text


def test_the_language_chosen_once_is_kept_across_pages_and_form_posts(client, tokens):
    from tests.support.api import open_case

    case_no = open_case(client, tokens["officer"])
    client.get("/?lang=en")  # chosen once, on the home page
    assert "Check my penalty record" in client.get("/check").get_data(as_text=True)
    refused = client.post("/check", data={"case_no": case_no, "code": "22222-22222"})
    assert "do not match" in refused.get_data(as_text=True)
    assert '<html lang="en">' in client.get("/log").get_data(as_text=True)
