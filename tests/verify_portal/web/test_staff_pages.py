"""Staff sign-in: passwords, CSRF, per-client throttling (no account lockout), server-side sessions,
the dashboard."""

import json
import re
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from tests.support.api import STAFF_PASSWORD, csrf_token, open_case, sign_in
from tests.support.trust import Deployment
from verify_portal.app import logins as staff_logins
from verify_portal.app.logins import IDLE
from verify_portal.cli import main


def test_a_supervisor_signs_in_and_sees_the_dashboard(client, tokens, staff):
    open_case(client, tokens["officer"])
    assert sign_in(client).status_code == 303
    page = client.get("/staff").get_data(as_text=True)
    assert "督查概览" in page and "REPORTED" in page and "xuhui" in page


def test_without_a_session_the_dashboard_sends_to_sign_in(client):
    r = client.get("/staff")
    assert r.status_code == 303 and "/staff/login" in r.headers["Location"]


def test_an_officer_lands_on_their_open_cases_not_on_a_refusal(client, tokens, staff):
    open_case(client, tokens["officer"])
    sign_in(client, "officer-1")
    home = client.get("/staff")
    assert home.status_code == 303 and "/staff/cases?" in home.headers["Location"]
    assert "state=CLOSED" not in home.headers["Location"]
    listed = client.get(home.headers["Location"])
    assert listed.status_code == 200 and "共 1 件" in listed.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client, staff):
    r = client.post("/staff/login", data={"username": "supervisor-1", "password": STAFF_PASSWORD})
    assert r.status_code == 400
    assert client.get("/staff").status_code == 303  # not signed in


def test_wrong_passwords_slow_their_client_and_never_lock_the_account(client, staff):
    for _ in range(5):
        assert sign_in(client, password="wrong password!").status_code == 401
    slowed = sign_in(client)  # this client waits, even with the right password
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers
    from verify_portal.web import create_app

    elsewhere = create_app(services=staff).test_client()
    signed_in = elsewhere.post(
        "/staff/login",
        data={
            "csrf": csrf_token(elsewhere),
            "username": "supervisor-1",
            "password": STAFF_PASSWORD,
        },
        environ_base={"REMOTE_ADDR": "192.0.2.50"},
    )
    assert signed_in.status_code == 303  # the supervisor at another address is not locked out


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(client, staff):
    wrong = sign_in(client, password="wrong password!").get_data(as_text=True)
    unknown = sign_in(client, "nobody-at-all").get_data(as_text=True)
    strip = lambda page: re.sub(r'value="[^"]+"', "", page)  # noqa: E731 - the CSRF tokens differ
    assert strip(wrong) == strip(unknown)


def test_an_idle_session_ends_after_thirty_minutes(client, staff, monkeypatch):
    sign_in(client)
    assert client.get("/staff").status_code == 200
    later = datetime.now(UTC) + IDLE + timedelta(seconds=1)
    monkeypatch.setattr(staff_logins, "datetime", _FrozenAt(later))
    assert client.get("/staff").status_code == 303


def test_a_session_cookie_replayed_after_sign_out_opens_nothing(client, staff):
    sign_in(client)
    cookie = client.get_cookie("session")
    assert client.get("/staff").status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff").get_data(as_text=True))[1]
    assert client.post("/staff/logout", data={"csrf": csrf}).status_code == 303
    client.set_cookie("session", cookie.value)  # the old cookie, copied before signing out
    assert client.get("/staff").status_code == 303


class _FrozenAt:
    """datetime with now() fixed at a moment."""

    def __init__(self, moment):
        self.moment = moment

    def now(self, tz=None):
        return self.moment


def test_passwords_are_set_from_the_command_line_and_must_be_long(services, tokens):
    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    short = CliRunner().invoke(
        main, ["user", "password", "legal-1", "--password", "short"], env=env
    )
    assert short.exit_code == 1 and "12 characters" in short.output
    ok = CliRunner().invoke(
        main, ["user", "password", "legal-1", "--password", STAFF_PASSWORD], env=env
    )
    assert ok.exit_code == 0


def _video_case(client, tokens, media_dir):
    """A case with the bodycam video as evidence, and a supervisor signed in:
    (case number, evidence id, the video's bytes)."""
    from tests.support.api import upload_evidence

    case_no = open_case(client, tokens["officer"])
    video = (media_dir / "bodycam.mp4").read_bytes()
    evidence = upload_evidence(client, tokens["officer"], case_no, video).json["evidence"]
    sign_in(client)
    return case_no, evidence["evidence_id"], video


def _custody(client, tokens, evidence_id):
    return client.get(
        f"/api/v1/evidence/{evidence_id}/custody",
        headers={"Authorization": f"Bearer {tokens['supervisor']}"},
    ).json["custody"]


def test_one_click_on_play_is_one_playback_in_the_custody_trail_however_the_player_seeks(
    client, tokens, staff, media_dir
):
    case_no, evidence_id, video = _video_case(client, tokens, media_dir)
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    assert "线索登记" in page and "证据登记" in page and evidence_id in page
    assert '<img class="thumb" loading="lazy"' in page  # the poster as a thumbnail
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    before = len(_custody(client, tokens, evidence_id))
    clicked = client.post(f"/staff/evidence/{evidence_id}/playback", data={"csrf": csrf})
    assert clicked.status_code == 303 and f"#evidence-{evidence_id}" in clicked.headers["Location"]
    player = client.get(clicked.headers["Location"]).get_data(as_text=True)
    src = re.search(r'<video id="player"[^>]* src="([^"]+)"', player)[1].replace("&amp;", "&")
    whole = client.get(src)
    part = client.get(src, headers={"Range": "bytes=100-199"})  # the player seeking
    assert whole.status_code == 200 and whole.data == video
    assert part.status_code == 206 and part.data == video[100:200]
    trail = _custody(client, tokens, evidence_id)
    assert len(trail) == before + 1
    assert (trail[-1]["action"], trail[-1]["actor"], trail[-1]["reason"]) == (
        "playback",
        "supervisor-1",
        "supervision",
    )


def test_footage_without_a_playback_ticket_is_refused(client, tokens, staff, media_dir):
    case_no, evidence_id, video = _video_case(client, tokens, media_dir)
    assert client.get(f"/staff/evidence/{evidence_id}/stream").status_code == 403
    assert client.get(f"/staff/evidence/{evidence_id}/stream?ticket=forged").status_code == 403


def test_the_case_page_shows_the_facts_the_statement_and_the_partys_deadlines(
    client, tokens, staff
):
    from tests.support.api import PARTY, citizen_lookup, issue_code, move

    case_no = open_case(client, tokens["officer"], party=PARTY)
    move(client, tokens["officer"], case_no, "FILED", "INVESTIGATING")
    move(client, tokens["officer"], case_no, ("NOTIFIED", {"proposed_amount_fen": 50000}))
    citizen_lookup(client, case_no, issue_code(client, tokens, case_no)["code"])
    citizen = client.get("/check/case").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', citizen)[1]
    client.post("/check/statement", data={"csrf": csrf, "text": "我已经搬走了摊位。"})
    sign_in(client)
    page = client.get(f"/staff/cases/{case_no}?lang=zh").get_data(as_text=True)
    facts = page[page.index('id="facts"') :]
    assert "占道经营" in facts and "500.00 元" in facts and "陈述申辩" in facts
    assert "我已经搬走了摊位。" in page[page.index('id="statements"') :]


def test_an_unknown_case_is_a_page_in_the_users_language_not_json(client, staff):
    sign_in(client)
    r = client.get("/staff/cases/CG-2026-999999", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.mimetype == "text/html"


def test_the_export_button_says_when_the_case_is_not_anchored_yet(client, tokens, staff):
    case_no = open_case(client, tokens["officer"])
    sign_in(client)
    csrf = re.search(
        r'name="csrf" value="([^"]+)"', client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    )[1]
    r = client.post(f"/staff/cases/{case_no}/export", data={"csrf": csrf})
    assert r.status_code == 409 and "not anchored yet" in r.get_data(as_text=True)


def test_an_officer_of_another_district_cannot_open_the_case(client, services, tokens, staff):
    from ledger.users import Role, add_user

    case_no = open_case(client, tokens["officer"])  # district xuhui
    with services.sessions.begin() as session:
        add_user(session, "officer-pd", Role.OFFICER, district="pudong")
    services.logins.set_password("officer-pd", STAFF_PASSWORD)
    sign_in(client, "officer-pd")
    assert client.get(f"/staff/cases/{case_no}").status_code == 404


def test_the_dashboard_shows_the_latest_audit_with_its_findings(client, services, tokens, staff):
    from tests.support.api import tamper

    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "DATABASE_URL": services.settings.database_url,
    }
    open_case(client, tokens["officer"])
    sign_in(client)
    assert "尚未运行审计" in client.get("/staff").get_data(as_text=True)
    assert CliRunner().invoke(main, ["audit"], env=env).exit_code == 0
    assert "审计通过" in client.get("/staff").get_data(as_text=True)
    tamper(services, "UPDATE log_leaves SET data = :d WHERE leaf_index = 0", d=b'{"forged":true}')
    assert CliRunner().invoke(main, ["audit"], env=env).exit_code == 2
    page = client.get("/staff").get_data(as_text=True)
    assert "审计发现问题" in page and "leaf 0" in page


def test_the_dashboard_charts_types_names_overdue_cases_and_officer_activity(
    client, services, tokens, staff
):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from ledger.models import Case

    old = open_case(client, tokens["officer"])
    client.post(
        f"/api/v1/cases/{old}/transitions",
        json={"to": "FILED"},
        headers={"Authorization": f"Bearer {tokens['officer']}"},
    )
    open_case(client, tokens["officer"])
    with services.sessions.begin() as session:  # the first case was opened 100 days ago
        session.execute(
            update(Case)
            .where(Case.case_no == old)
            .values(created_at=datetime.now(UTC) - timedelta(days=100))
        )
    sign_in(client)
    page = client.get("/staff").get_data(as_text=True)
    assert 'id="chart-state"' in page and 'id="chart-type"' in page and "占道经营" in page
    # Each chart says in words what it draws, for those who cannot see it.
    assert 'aria-label="线索 1; 立案 1"' in page and "<title>占道经营 2</title>" in page
    assert page.index('<td><a href="/staff/cases?state=REPORTED') < page.index(
        "state=FILED"
    )  # lifecycle order, not alphabetical
    assert "共 1 件逾期未决" in page and "overdue=1" in page
    overdue = page[page.index('id="overdue"') : page.index('id="chart-activity"')]
    assert old in overdue and overdue.count("<tr>") == 2  # its header and the one overdue case
    activity = page[page.index('id="chart-activity"') :]
    assert "officer-1" in activity[:2000]


def test_an_officer_records_a_step_and_uploads_evidence_at_the_desk(
    client, tokens, staff, media_dir
):
    import io

    case_no = open_case(client, tokens["officer"])
    sign_in(client, "officer-1")
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    assert (
        client.post(f"/staff/cases/{case_no}/steps", data={"csrf": csrf, "to": "FILED"}).status_code
        == 303
    )
    refused = client.post(f"/staff/cases/{case_no}/steps", data={"csrf": csrf, "to": "CLOSED"})
    said = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'id="step-error"' in said
    assert "本案当前环节不允许这一步" in said and 'id="facts"' in said  # on the case page
    sent = client.post(
        f"/staff/cases/{case_no}/evidence",
        data={
            "csrf": csrf,
            "file": (io.BytesIO((media_dir / "photo.jpg").read_bytes()), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    assert "立案" in page and "照片" in page
    desk = page[page.index('id="step"') : page.index('id="upload"')]
    assert 'value="INVESTIGATING"' in desk and 'value="WITHDRAWN"' in desk
    assert 'value="REPORTED"' not in desk and 'value="CLOSED"' not in desk  # allowed steps only


def test_supervisors_see_each_items_custody_trail_on_the_case_page(
    client, tokens, staff, media_dir
):
    from tests.support.api import upload_evidence

    case_no = open_case(client, tokens["officer"])
    evidence_id = upload_evidence(
        client, tokens["officer"], case_no, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]["evidence_id"]
    client.get(
        f"/api/v1/evidence/{evidence_id}/content?reason=hearing",
        headers={"Authorization": f"Bearer {tokens['legal']}"},
    )
    sign_in(client)
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    trail = page[page.index("保管链") :]
    assert "download" in trail and "legal-1" in trail and "hearing" in trail
    assert 'id="step"' not in page  # supervisors read; they do not record steps


def test_an_admin_registers_another_agencys_root_only_with_its_fingerprint(
    client, services, tokens
):
    services.logins.set_password("admin-1", STAFF_PASSWORD)
    other = Deployment(origin="other-city.example/cg-log", agency="另一城管局")
    document = json.dumps(other.document(), ensure_ascii=False)
    assert sign_in(client, "admin-1").status_code == 303
    page = client.get("/staff/trust").get_data(as_text=True)
    assert services.trust.latest().fingerprint in page and "other-city" not in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    wrong = client.post(
        "/staff/trust", data={"csrf": csrf, "document": document, "fingerprint": "ab" * 32}
    )
    assert wrong.status_code == 400 and "refused" in wrong.get_data(as_text=True)
    assert services.court.registered() == []
    added = client.post(
        "/staff/trust",
        data={"csrf": csrf, "document": document, "fingerprint": other.root().fingerprint},
    )
    assert added.status_code == 303 and [r.log_origin for r in services.court.registered()] == [
        other.origin
    ]
    assert other.root().fingerprint in client.get("/staff/trust").get_data(as_text=True)
    removed = client.post(f"/staff/trust/{other.root().fingerprint}/removal", data={"csrf": csrf})
    assert removed.status_code == 303 and services.court.registered() == []


def test_a_supervisor_may_not_change_the_court_pages_roots(client, services, staff):
    other = Deployment(origin="other-city.example/cg-log")
    sign_in(client)
    assert client.get("/staff/trust").status_code == 403
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff").get_data(as_text=True))[1]
    refused = client.post(
        "/staff/trust",
        data={
            "csrf": csrf,
            "document": json.dumps(other.document()),
            "fingerprint": other.root().fingerprint,
        },
    )
    assert refused.status_code == 403 and services.court.registered() == []


def test_each_event_on_the_case_page_names_its_anchor(exported):
    from verify_portal.web import create_app

    services = exported["services"]
    services.logins.set_password("supervisor-1", STAFF_PASSWORD)
    client = create_app(services=services).test_client()
    sign_in(client)
    page = client.get(f"/staff/cases/{exported['case_no']}").get_data(as_text=True)
    events = page[page.index('id="events"') :]
    assert events.count('<td class="anchor">已上链，区块') >= 5


def test_audit_findings_are_said_in_the_users_language_and_link_to_their_case(
    client, tokens, staff, services
):
    from tests.support.api import tamper
    from verify_portal.app.auditing import audit_and_record

    altered = open_case(client, tokens["officer"])
    tamper(services, "UPDATE cases SET district = 'forged' WHERE case_no = :c", c=altered)
    audit_and_record(services)
    sign_in(client)
    page = client.get("/staff?lang=en").get_data(as_text=True)
    findings = page[page.index('id="audit-findings"') : page.index('id="findings-link"')]
    assert f'<a href="/staff/cases/{altered}?lang=en">Case {altered}: records' in findings
    assert 'class="findings"' in findings  # set in red, not black
    assert "/staff/cases?finding=1" in page


def test_a_playback_ticket_in_the_url_does_not_carry_the_session(client, tokens, staff, media_dir):
    import base64

    case_no, evidence_id, video = _video_case(client, tokens, media_dir)
    page = client.get(f"/staff/cases/{case_no}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    location = client.post(f"/staff/evidence/{evidence_id}/playback", data={"csrf": csrf}).headers[
        "Location"
    ]
    ticket = re.search(r"ticket=([^&#]+)", location)[1]
    payload = ticket.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    with client.session_transaction() as cookie:
        assert cookie["staff_session"] not in decoded and evidence_id in decoded
