"""The staff case list: search, filters, lifecycle order, pages with totals, CSV; officers see their
own district; a bad filter is explained on the page."""

import csv
import io
import re

from ledger.users import Role, add_user
from tests.support.api import (
    PARTY,
    STAFF_PASSWORD,
    move,
    open_case,
    sign_in,
    tamper,
    upload_evidence,
)


def _numbers(page):
    return re.findall(r'<td><a href="/staff/cases/(CG-\d{4}-\d{6})', page)


def _list(client, query=""):
    r = client.get(f"/staff/cases?{query}")
    return r.status_code, r.get_data(as_text=True)


def test_a_supervisor_pages_through_every_case_with_totals(client, tokens, staff):
    opened = [open_case(client, tokens["officer"]) for _ in range(30)]
    sign_in(client)
    status, first = _list(client, "per_page=25")
    assert status == 200 and "共 30 件，第 1/2 页" in first
    _, second = _list(client, "per_page=25&page=2")
    shown = _numbers(first) + _numbers(second)
    assert sorted(shown) == sorted(opened) and len(set(shown)) == 30  # none twice, none missed
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_a_case_number_or_its_beginning_finds_it(client, tokens, staff):
    opened = [open_case(client, tokens["officer"]) for _ in range(12)]
    sign_in(client)
    assert _numbers(_list(client, f"q={opened[10].lower()}")[1]) == [opened[10]]
    assert set(_numbers(_list(client, f"q={opened[10][:-1]}")[1])) == set(opened[9:12])


def test_filters_by_state_type_district_and_party_pseudonym(client, tokens, staff, services):
    stall = open_case(client, tokens["officer"], violation_type="stall", district="minhang")
    filed = open_case(client, tokens["officer"], party=PARTY)
    move(client, tokens["officer"], filed, "FILED")
    sign_in(client)
    assert _numbers(_list(client, "violation_type=stall")[1]) == [stall]
    assert _numbers(_list(client, "district=minhang")[1]) == [stall]
    assert _numbers(_list(client, "state=FILED")[1]) == [filed]
    assert set(_numbers(_list(client, "state=FILED&state=REPORTED")[1])) == {stall, filed}
    party_key = client.get(
        f"/api/v1/cases/{filed}", headers={"Authorization": f"Bearer {tokens['supervisor']}"}
    ).json["events"][0]["event"]["payload"]["party"]["key"]  # the pseudonym the log records
    assert _numbers(_list(client, f"q={party_key}")[1]) == [filed]


def test_officer_and_device_find_the_cases_they_touched(client, tokens, staff, media_dir):
    with staff.sessions.begin() as session:
        other = add_user(session, "officer-9", Role.OFFICER)
    mine = open_case(client, tokens["officer"])
    theirs = open_case(client, other)
    filmed = open_case(client, tokens["officer"])
    upload_evidence(client, other, filmed, (media_dir / "photo.jpg").read_bytes())
    sign_in(client)
    assert set(_numbers(_list(client, "officer=officer-9")[1])) == {theirs, filmed}
    assert mine in _numbers(_list(client, "officer=officer-1")[1])


def test_states_sort_in_lifecycle_order_not_by_name(client, tokens, staff):
    reported = open_case(client, tokens["officer"])
    investigating = open_case(client, tokens["officer"])
    move(client, tokens["officer"], investigating, "FILED", "INVESTIGATING")
    filed = open_case(client, tokens["officer"])
    move(client, tokens["officer"], filed, "FILED")
    sign_in(client)
    ordered = _numbers(_list(client, "sort=state&order=asc")[1])
    assert ordered == [reported, filed, investigating]  # by name FILED < INVESTIGATING < REPORTED


def test_states_and_types_read_as_words_and_amounts_in_yuan(client, tokens, staff):
    open_case(client, tokens["officer"])
    sign_in(client)
    _, page = _list(client, "lang=en")
    assert "<td>Reported</td>" in page and "<td>Trading on the road</td>" in page
    assert "<td>REPORTED</td>" not in page and "occupy-road</td>" not in page


def test_cases_the_audit_found_altered_are_marked_and_filtered(client, tokens, staff, services):
    clean = open_case(client, tokens["officer"])
    altered = open_case(client, tokens["officer"])
    tamper(services, "UPDATE cases SET district = 'forged' WHERE case_no = :c", c=altered)
    from verify_portal.app.auditing import audit_and_record

    audit_and_record(services)
    sign_in(client)
    assert _numbers(_list(client, "finding=1")[1]) == [altered]
    _, page = _list(client)
    assert clean in _numbers(page) and "审计发现问题</strong>" in page


def test_the_csv_holds_every_page_of_the_filter_and_no_personal_data(client, tokens, staff):
    opened = [open_case(client, tokens["officer"], party=PARTY) for _ in range(30)]
    sign_in(client)
    r = client.get("/staff/cases.csv?per_page=25")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["case_no", "state", "violation_type"]
    assert sorted(row[0] for row in rows[1:]) == sorted(opened)
    assert PARTY["name"] not in text and PARTY["id_number"] not in text


def test_an_officer_sees_only_their_own_districts_cases(client, tokens, staff, services):
    with services.sessions.begin() as session:
        add_user(session, "officer-min", Role.OFFICER, district="minhang")
    services.logins.set_password("officer-min", STAFF_PASSWORD)
    xuhui = open_case(client, tokens["officer"])
    minhang = open_case(client, tokens["officer"], district="minhang")
    sign_in(client, "officer-min")
    status, page = _list(client)
    assert status == 200 and _numbers(page) == [minhang] and xuhui not in page
    assert _numbers(_list(client, f"q={xuhui}")[1]) == []
    csv_text = client.get("/staff/cases.csv").get_data(as_text=True)
    assert minhang in csv_text and xuhui not in csv_text


def test_a_bad_filter_is_explained_on_the_page_and_nothing_is_listed(client, tokens, staff):
    sign_in(client)
    for query in (
        "page=0",
        "page=" + "9" * 5000,
        "state=NOPE",
        "from=2026-13-01",
        "q=%25",
        "per_page=7",
    ):
        status, page = _list(client, query)
        assert status == 400 and 'id="list-error"' in page and 'id="cases"' not in page, query


def test_without_a_session_the_list_sends_to_sign_in(client):
    assert client.get("/staff/cases").status_code == 303
    assert client.get("/staff/cases.csv").status_code == 303


def test_the_old_search_address_leads_to_the_list(client, staff):
    sign_in(client)
    r = client.get("/staff/search?q=CG-2026")
    assert r.status_code == 303 and r.headers["Location"].endswith("/staff/cases?q=CG-2026")
