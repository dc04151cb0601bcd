"""The citizen's case page says in plain words where the case stands, what the fine is in yuan and
what the party may do by which date; codes read as words; a refused statement keeps its text."""

import io
import re
from datetime import datetime, timedelta

from ledger.events import BEIJING
from tests.support.api import PARTY, citizen_lookup, issue_code, move, open_case
from verify_portal.app.case_status import add_working_days

TO_NOTICE = ("FILED", "INVESTIGATING", ("NOTIFIED", {"proposed_amount_fen": 20000}))
FINE = ("DECIDED", {"outcome": "fine", "amount_fen": 20000, "legal_basis": "cgl-art-20"})


def _opened(client, tokens, *steps, lang="zh"):
    case_no = open_case(client, tokens["officer"], party=PARTY)
    move(client, tokens["officer"], case_no, *steps)
    citizen_lookup(client, case_no, issue_code(client, tokens, case_no)["code"])
    return case_no, client.get(f"/check/case?lang={lang}").get_data(as_text=True)


def _card(page):
    return re.search(r'<section class="status-card".*?</section>', page, re.S)[0]


def _today():
    return datetime.now(BEIJING).date()


def test_at_the_notice_stage_the_card_gives_the_proposed_fine_and_the_deadlines(client, tokens):
    _, page = _opened(client, tokens, *TO_NOTICE)
    card = _card(page)
    assert "事先告知" in card and "拟罚款：200.00 元" in card
    statement_due = add_working_days(_today(), 3).isoformat()
    hearing_due = add_working_days(_today(), 5).isoformat()
    assert f"截止 {statement_due}" in card and f"截止 {hearing_due}" in card
    assert "12345" in card  # whom to call: the agency's contact, here the default hotline
    assert page.index('class="status-card"') < page.index('class="checks timeline"')


def test_after_a_fine_the_card_says_how_much_by_when_and_the_rights_of_appeal(client, tokens):
    _, page = _opened(client, tokens, *TO_NOTICE, FINE, lang="en")
    card = _card(page)
    assert "Decided: a fine of ¥200.00." in card and "cgl-art-20" in card
    assert f"by {(_today() + timedelta(days=15)).isoformat()}" in card
    assert f"by {(_today() + timedelta(days=60)).isoformat()}" in card
    assert "reconsideration" in card and "sue in the people&#39;s court" in card


def test_steps_read_as_words_with_sums_in_yuan_not_codes_in_fen(client, tokens):
    _, page = _opened(client, tokens, *TO_NOTICE, FINE)
    steps = page[page.index('class="checks timeline"') :]
    assert "违法类型: 占道经营" in steps and "结果: 罚款" in steps and "金额: 200.00 元" in steps
    assert "occupy-road" not in steps and "amount_fen" not in steps and ": fine" not in steps
    _, english = _opened(client, tokens, *TO_NOTICE, lang="en")
    assert "Violation: Trading on the road" in english and "Proposed fine: ¥200.00" in english


def test_the_page_explains_the_words_of_the_proof(client, tokens):
    _, page = _opened(client, tokens)
    assert "已上链、区块、已确认" in page and "见证" in page and "浏览器已核验" in page


def test_a_withdrawn_case_has_nothing_left_to_do(client, tokens):
    _, page = _opened(client, tokens, "FILED", ("WITHDRAWN", {"reason": "duplicate"}))
    card = _card(page)
    assert "案件已撤销，不予处罚。" in card and "next-steps" not in card
    assert "原因: 重复立案" in page


def _csrf(page):
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def _send(client, page, text, photos=(), lang="zh"):
    data = {"csrf": _csrf(page), "text": text, "photos": [(io.BytesIO(p), "p.jpg") for p in photos]}
    return client.post(
        f"/check/statement?lang={lang}", data=data, content_type="multipart/form-data"
    )


def test_four_photos_are_refused_beside_the_field_with_the_text_kept(client, tokens, media_dir):
    _, page = _opened(client, tokens, *TO_NOTICE)
    photo = (media_dir / "photo.jpg").read_bytes()
    refused = _send(client, page, "我当时正在收摊。", [photo] * 4)
    again = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "最多 3 张照片" in again and "我当时正在收摊。</textarea>" in again
    assert again.index('id="statement-error"') < again.index('id="statement-text"')
    assert 'aria-describedby="statement-error"' in again and 'class="status-card"' in again


def test_a_refused_statement_is_explained_in_english_on_an_english_page(client, tokens):
    _, page = _opened(client, tokens, *TO_NOTICE, lang="en")
    refused = _send(client, page, "   ", lang="en").get_data(as_text=True)
    assert "Please write your statement (1 to 2,000 characters)." in refused


def test_a_sent_statement_is_confirmed_at_the_top_and_the_form_closes(client, tokens):
    _, page = _opened(client, tokens, *TO_NOTICE)
    sent = _send(client, page, "我的陈述")
    assert sent.status_code == 303
    after = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'id="statement-sent"' in after and 'id="statement"' not in after
    assert after.index('id="statement-sent"') < after.index("<h1>")


def test_a_statement_after_the_notice_stage_is_refused_in_words_naming_the_contact(client, tokens):
    case_no, page = _opened(client, tokens, *TO_NOTICE)
    move(client, tokens["officer"], case_no, FINE)
    refused = _send(client, page, "迟到的陈述")
    assert refused.status_code == 409
    assert "本案已不在事先告知阶段" in refused.get_data(as_text=True)
