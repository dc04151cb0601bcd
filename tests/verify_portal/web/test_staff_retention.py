"""The case page's legal holds and purged items, as the legal role and a supervisor see them."""

import re

from ledger.users import by_username
from tests.support.api import STAFF_PASSWORD, sign_in
from tests.support.retention import case_with_a_photo


def _page(client, case_no, lang):
    return client.get(f"/staff/cases/{case_no}?lang={lang}").get_data(as_text=True)


def _press(client, page, action, reason):
    """Submit the case page's hold or lift form (`action`) with `reason`."""
    form = re.search(rf'<form method="post" action="([^"]*/{action}[^"]*)">', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    return client.post(form[1].replace("&amp;", "&"), data={"csrf": csrf, "reason": reason})


def test_the_legal_role_holds_and_lifts_from_the_case_page_in_both_languages(
    client, tokens, staff, media_dir
):
    staff.logins.set_password("legal-1", STAFF_PASSWORD)
    photo = (media_dir / "photo.jpg").read_bytes()
    case_no, item = case_with_a_photo(client, tokens, staff, photo, 1, ended=False)
    assert sign_in(client, "legal-1").status_code == 303
    page = _page(client, case_no, "en")
    assert "Put under legal hold" in page and "Under legal hold" not in page
    assert _press(client, page, "hold", "court-order").status_code == 303
    held = _page(client, case_no, "zh")
    assert "法律保全中" in held and "法院裁定" in held and "解除法律保全" in held
    assert "legal-hold" in held  # the custody trail shows the event
    assert _press(client, held, "lift-hold", "order-lifted").status_code == 303
    assert "Under legal hold" not in _page(client, case_no, "en")


def test_a_purged_item_shows_its_rule_and_offers_no_poster_play_or_hold(
    client, tokens, staff, media_dir
):
    video = (media_dir / "bodycam.mp4").read_bytes()
    case_no, item = case_with_a_photo(client, tokens, staff, video, 11)
    with staff.sessions() as session:
        staff.retention.run(by_username(session, "system-1"), dry_run=False)
    staff.logins.set_password("legal-1", STAFF_PASSWORD)
    assert sign_in(client, "legal-1").status_code == 303
    page = _page(client, case_no, "en")
    assert "Purged under its retention rule" in page and "case-ended-plus-10y" in page
    row = page[page.index(f'id="evidence-{item}"') :].split("</tr>")[0]
    assert "<img" not in row and "<button" not in row
    assert client.get(f"/staff/evidence/{item}/poster").status_code == 410
