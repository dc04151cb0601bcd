"""The staff page of docked footage: the carrier links it to a proposed case or declines, in both
languages; a wrong case number is explained on the page and logs nothing."""

import re

from tests.support.api import log_size, open_case, sign_in
from tests.support.intake import docked_photo


def _press(client, page, action, case_no=None):
    """Submit the first `action` form on the page (link or decline), for `case_no` if given."""
    form = re.search(rf'<form method="post" action="([^"]*/{action}[^"]*)">', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    data = {"csrf": csrf}
    if case_no is not None:
        data["case_no"] = case_no
    else:
        data["case_no"] = re.search(r'name="case_no" value="([^"]+)"', page)[1]
    return client.post(form[1].replace("&amp;", "&"), data=data)


def test_the_officer_links_their_footage_to_the_proposed_case_from_the_page(
    client, tokens, staff, media_dir
):
    case_no = open_case(client, tokens["officer"])
    evidence_id = docked_photo(client, tokens, (media_dir / "photo.jpg").read_bytes())
    assert sign_in(client, "officer-1").status_code == 303
    zh = client.get("/staff/intake?lang=zh").get_data(as_text=True)
    assert "待关联的采集站视音频" in zh and evidence_id in zh and case_no in zh
    assert "北京时间" in zh
    en = client.get("/staff/intake?lang=en").get_data(as_text=True)
    assert "Docked footage to link" in en and "Link to this case" in en
    assert _press(client, en, "link").status_code == 303
    after = client.get("/staff/intake?lang=en").get_data(as_text=True)
    assert evidence_id not in after and "No footage waits to be linked." in after
    assert evidence_id in client.get(f"/staff/cases/{case_no}?lang=en").get_data(as_text=True)


def test_a_supervisor_declines_a_proposal_and_the_footage_stays_on_the_page(
    client, tokens, staff, media_dir
):
    case_no = open_case(client, tokens["officer"])
    evidence_id = docked_photo(client, tokens, (media_dir / "photo.jpg").read_bytes())
    assert sign_in(client, "supervisor-1").status_code == 303
    page = client.get("/staff/intake?lang=en").get_data(as_text=True)
    assert _press(client, page, "decline").status_code == 303
    after = client.get("/staff/intake?lang=en").get_data(as_text=True)
    assert evidence_id in after and f">{case_no}</a>" not in after


def test_a_case_number_that_does_not_exist_is_explained_and_logs_nothing(
    client, tokens, staff, media_dir
):
    docked_photo(client, tokens, (media_dir / "photo.jpg").read_bytes())
    assert sign_in(client, "officer-1").status_code == 303
    page = client.get("/staff/intake?lang=en").get_data(as_text=True)
    size = log_size(client)
    answer = _press(client, page, "link", case_no="CG-2026-999999")
    assert answer.status_code == 404
    assert "no case CG-2026-999999" in answer.get_data(as_text=True)
    assert log_size(client) == size
