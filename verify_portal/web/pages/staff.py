"""Staff pages (督查/法制审核): sign-in with a password, CSRF-protected forms, a dashboard.

A session names the signed-in user and the time of their last request; after
30 idle minutes it ends. Every POST carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from anchor.errors import NotAnchoredYet
from evidence.meta import UploadMeta
from evidence.retention import HOLD_REASONS, LIFT_REASONS
from evidence.retention_service import case_retention
from evidence.service import item_json
from ledger.checkpoint import parse_note
from ledger.errors import Forbidden, IllegalTransition, InvalidInput, LianzhengError
from ledger.events import BEIJING, format_time
from ledger.lifecycle import NEXT, State
from ledger.users import Action, Actor, Role
from verify_portal.app import anchored, auditing, case_list, citizen_reports, figures, notices
from verify_portal.app.case_status import case_status, fen_of
from verify_portal.app.citizens import timeline
from verify_portal.app.integrity import case_disagreements
from verify_portal.app.logins import SignInRefused
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.downloads import notice_download, package_download
from verify_portal.web.i18n import language, t
from verify_portal.web.limits import refused
from verify_portal.web.pages.forms import check_csrf, page, signed_in

bp = Blueprint("staff", __name__, url_prefix="/staff")
PLAYBACK_SECONDS = 3600  # a playback ticket serves the player's range requests for an hour


@bp.get("/login")
@access(PUBLIC)
def login_form() -> ResponseReturnValue:
    return page("staff_login.html")


@bp.post("/login")
@access(PUBLIC)
def login() -> ResponseReturnValue:
    check_csrf()
    try:
        _, session_id = current().logins.sign_in(
            request.form.get("username", ""), request.form.get("password", "")
        )
    except SignInRefused:
        # slows this client down (verify_portal/web/limits.py); the account stays open to its owner
        refused()
        return page("staff_login.html", status=401, error=t("sign_in_refused"))
    session.clear()  # a new session on sign-in: nothing carried over from before
    session["staff_session"] = session_id
    return redirect(url_for("staff.dashboard", lang=language()), code=303)


@bp.post("/logout")
@access(PUBLIC)
def logout() -> ResponseReturnValue:
    check_csrf()
    session_id = session.get("staff_session")
    if isinstance(session_id, str):
        current().logins.sign_out(session_id)  # a copy of the cookie opens nothing from now on
    session.clear()
    return redirect(url_for("staff.login_form", lang=language()), code=303)


@bp.get("")
@access(PUBLIC)  # the session, not a bearer token, decides: see signed_in
@signed_in
def dashboard(actor: Actor) -> ResponseReturnValue:
    if not actor.may(Action.SEE_DASHBOARD):
        if actor.may(Action.READ_CASE):  # an officer's home: their district's open cases
            open_states = [s.value for s in State if NEXT[s]]
            return redirect(
                url_for("staff_cases.index", lang=language(), state=open_states), code=303
            )
        return page("staff_denied.html", status=403, user=actor)
    services = current()
    # Whether an audit runs is read before the latest finished one: one that ends in between is then
    # shown finished, never neither.
    audit_running = auditing.running(services)
    board = figures.dashboard(services)
    audit = board.audit
    return page(
        "staff_dashboard.html",
        user=actor,
        **vars(board),
        audit_findings=json.loads(audit.findings)[:200] if audit else [],
        audit_acknowledged=json.loads(audit.acknowledged)[:50] if audit else [],
        audit_running=audit_running,
        may_audit=actor.may(Action.RUN_AUDIT),
        overdue_days=services.settings.overdue_days,
    )


@bp.post("/audit")
@access(PUBLIC)  # the session decides: see signed_in
@signed_in
def start_audit(actor: Actor) -> ResponseReturnValue:
    """Start the whole audit in the background; its result appears on the dashboard when it is
    done."""
    check_csrf()
    try:
        auditing.start_in_background(current(), actor)
    except Forbidden:
        return page("staff_denied.html", status=403, user=actor)
    except auditing.AuditRunning as exc:
        return page("staff_message.html", status=409, user=actor, message=exc.message)
    return redirect(url_for("staff.dashboard", lang=language()), code=303)


REASON = {
    Role.OFFICER: "case-review",
    Role.SUPERVISOR: "supervision",
    Role.LEGAL: "legal-review",
    Role.ADMIN: "audit",
}


@bp.get("/cases/<case_no>")
@access(PUBLIC)  # the session decides: see signed_in
@signed_in
def case_view(actor: Actor, case_no: str) -> ResponseReturnValue:
    """A case: its facts and deadlines, the party's statements, evidence with posters and an
    in-page player, custody, the event chain, and for officers only the steps allowed next."""
    return _case_page(actor, case_no)


def _case_page(actor: Actor, case_no: str, status: int = 200, **extra: Any) -> ResponseReturnValue:
    services = current()
    case = services.cases.get(actor, case_no)  # officers see their district only; others by role
    items = services.evidence.of_case(actor, case_no)
    disagreements = case_disagreements(services, case_no)
    altered = {i.id for i in items if any(i.id in d for d in disagreements)}
    custody = (
        {i.id: services.evidence.custody(actor, i.id) for i in items if i.id not in altered}
        if actor.may(Action.READ_CUSTODY)
        else {}
    )
    with services.sessions() as session:
        audit_found = case_no in case_list.finding_cases(session)
        kept = case_retention(session, case_no).items
    steps = timeline(case["events"])
    receipts, _ = anchored.receipts(services, [e["index"] for e in case["events"]], False)
    return page(
        "staff_case.html",
        status=status,
        user=actor,
        case=case,
        case_status=case_status(steps, datetime.now(BEIJING).date()),
        statements=(
            services.statements.of_case(actor, case_no) if actor.may(Action.READ_STATEMENTS) else []
        ),
        reported=(
            citizen_reports.details(services, actor, case_no)
            if actor.may(Action.READ_STATEMENTS)
            else None
        ),
        items=[item_json(i) for i in items],
        custody=custody,
        retention={i.id: kept[i.id] for i in items if i.id in kept},
        may_hold=actor.may(Action.HOLD_EVIDENCE),
        hold_reasons=HOLD_REASONS,
        lift_reasons=LIFT_REASONS,
        may_export=actor.may(Action.EXPORT_PACKAGE),
        may_record=actor.may(Action.RECORD_STEP),
        may_issue_code=actor.may(Action.ISSUE_CODE),
        next_states=[s.value for s in State if s in NEXT[State(case["state"])]],
        disagreements=disagreements,
        audit_found=audit_found,
        altered=altered,
        anchors={r["leaf_index"]: _anchor_of(r, services.store.origin) for r in receipts},
        playing=_playing(request.args.get("play", ""), request.args.get("ticket", "")),
        **extra,
    )


def _anchor_of(receipt: dict[str, Any], origin: str) -> dict[str, Any]:
    """A leaf's anchor as the case page shows it: block, finality, and the witnesses whose
    cosignatures the anchored checkpoint carries (names as stored; the verifier checks them)."""
    _, _, signatures = parse_note(receipt["checkpoint"])
    return {
        "block": receipt["anchor"]["block_number"],
        "final": receipt["anchor"]["final"],
        "witnesses": sorted({name for name, _ in signatures if name != origin}),
    }


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="lianzheng/playback")


def _playing(evidence_id: str, ticket: str) -> dict[str, str] | None:
    """The player to show, if the page was opened with a valid playback ticket."""
    if not evidence_id or not _ticket_ok(evidence_id, ticket):
        return None
    return {"evidence_id": evidence_id, "ticket": ticket}


def _ticket_ok(evidence_id: str, ticket: str) -> bool:
    """Whether `ticket` was issued to this staff session for playing this item, within the hour."""
    try:
        issued = _tickets().loads(ticket, max_age=PLAYBACK_SECONDS)
    except BadSignature:
        return False
    return bool(issued == [evidence_id, _session_tag()])


def _session_tag() -> str:
    """What a ticket binds to: a hash of this staff session's id. A ticket is readable (signed, not
    encrypted) and sits in a URL, so it must never carry the session id itself."""
    session_id = str(session.get("staff_session", ""))
    return hashlib.sha256(b"lianzheng/playback\n" + session_id.encode()).hexdigest()[:32]


@bp.post("/evidence/<evidence_id>/playback")
@access(PUBLIC)
@signed_in
def playback(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    """One click on play is one custody event: logged here, once; the page's player then streams
    with a ticket (range requests, seeking) without logging again."""
    check_csrf()
    services = current()
    item = services.evidence.read(actor, evidence_id, "playback", REASON.get(actor.role, "audit"))
    services.evidence.check_size(item)
    ticket = _tickets().dumps([item.id, _session_tag()])
    target = url_for(
        "staff.case_view", case_no=item.case_no, lang=language(), play=item.id, ticket=ticket
    )
    return redirect(f"{target}#evidence-{item.id}", code=303)


@bp.get("/evidence/<evidence_id>/stream")
@access(PUBLIC)
@signed_in
def stream(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    """The footage for the page's player, under a playback ticket; byte ranges for seeking."""
    if not _ticket_ok(evidence_id, request.args.get("ticket", "")):
        abort(403)
    services = current()
    item = services.evidence.readable(actor, evidence_id)
    services.evidence.check_size(item)
    with services.evidence.blobs.local_file(item.sha256) as path:
        response = send_file(path, mimetype=item.media_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/evidence/<evidence_id>/poster")
@access(PUBLIC)
@signed_in
def poster(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    """A poster frame, as the case page's thumbnail; each view is a custody event first."""
    services = current()
    services.evidence.refuse_purged(services.evidence.readable(actor, evidence_id))
    item = services.evidence.read(actor, evidence_id, "view", REASON.get(actor.role, "audit"))
    if item.poster_sha256 is None:
        abort(404)
    return Response(
        stream_with_context(services.evidence.blobs.open(item.poster_sha256)),
        mimetype="image/jpeg",
        headers={"Cache-Control": "no-store"},
    )


@bp.post("/evidence/<evidence_id>/hold")
@access(PUBLIC)
@signed_in
def hold(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    """The legal role's button: put the item under a legal hold, with a reason from the list."""
    check_csrf()
    services = current()
    item = services.evidence.holdable(actor, evidence_id)
    services.retention.hold(actor, item, request.form.get("reason", ""))
    return _back_to(item.case_no, item.id)


@bp.post("/evidence/<evidence_id>/lift-hold")
@access(PUBLIC)
@signed_in
def lift_hold(actor: Actor, evidence_id: str) -> ResponseReturnValue:
    """The legal role's button: lift the hold; the item's retention rule applies again."""
    check_csrf()
    services = current()
    item = services.evidence.holdable(actor, evidence_id)
    services.retention.lift(actor, item, request.form.get("reason", ""))
    return _back_to(item.case_no, item.id)


def _back_to(case_no: str, evidence_id: str) -> ResponseReturnValue:
    target = url_for("staff.case_view", case_no=case_no, lang=language())
    return redirect(f"{target}#evidence-{evidence_id}", code=303)


@bp.post("/cases/<case_no>/notice")
@access(PUBLIC)
@signed_in
def notice(actor: Actor, case_no: str) -> ResponseReturnValue:
    """A new verification code on a printable notice (PDF), Chinese or with English beneath."""
    check_csrf()
    facts = notices.issue(current(), actor, case_no, request.host_url)
    return notice_download(facts, request.form.get("english") == "1")


@bp.post("/cases/<case_no>/export")
@access(PUBLIC)
@signed_in
def export(actor: Actor, case_no: str) -> ResponseReturnValue:
    """The case's signed evidence package, from the case view's button."""
    check_csrf()
    try:
        return package_download(current(), actor, case_no, REASON.get(actor.role, "audit"))
    except NotAnchoredYet as exc:
        return page("staff_message.html", status=409, user=actor, message=exc.message)


@bp.post("/cases/<case_no>/steps")
@access(PUBLIC)
@signed_in
def record_step(actor: Actor, case_no: str) -> ResponseReturnValue:
    """The officer desk: record a case step (for desks without the mobile terminal)."""
    check_csrf()
    payload: dict[str, Any] = {}
    for name in ("outcome", "legal_basis", "kind", "reason"):
        if request.form.get(name):
            payload[name] = request.form[name]
    for name in ("amount_yuan", "proposed_amount_yuan"):
        if request.form.get(name):
            fen = fen_of(request.form[name])
            if fen is None:
                return _case_page(actor, case_no, 400, step_error=t("step_bad_amount"))
            payload[name.replace("_yuan", "_fen")] = fen
    try:
        current().cases.transition(actor, case_no, request.form.get("to", ""), payload)
    except (IllegalTransition, InvalidInput) as exc:
        # Said on the case page, in the user's language, with the technical reason beneath.
        words = t("step_illegal" if isinstance(exc, IllegalTransition) else "step_invalid")
        return _case_page(
            actor,
            case_no,
            409 if isinstance(exc, IllegalTransition) else 400,
            step_error=words,
            step_detail=exc.message,
        )
    return redirect(url_for("staff.case_view", case_no=case_no, lang=language()), code=303)


@bp.post("/cases/<case_no>/evidence")
@access(PUBLIC)
@signed_in
def upload_evidence(actor: Actor, case_no: str) -> ResponseReturnValue:
    """The officer desk: upload a file as evidence of the case (large footage goes by lianzheng
    upload)."""
    check_csrf()
    request.max_content_length = current().settings.evidence.max_evidence_bytes
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return page("staff_message.html", status=400, user=actor, message=t("no_file"))
    captured = request.form.get("captured_at") or format_time(datetime.now(UTC))
    try:
        meta = UploadMeta.parse({"case_no": case_no, "captured_at": captured})
        stream = upload.stream
        current().evidence.ingest(actor, meta, iter(lambda: stream.read(1 << 20), b""), None)
    except LianzhengError as exc:
        return page(
            "staff_message.html",
            status=400 if isinstance(exc, InvalidInput) else 422,
            user=actor,
            message=exc.message,
        )
    return redirect(url_for("staff.case_view", case_no=case_no, lang=language()), code=303)
