"""The citizen's page (当事人): case number and verification code open the case's timeline.

The code never appears in a URL the server sees: the notice's QR code links to
`/check#<case>:<code>`, and check.js copies the fragment into the form. A
successful lookup puts the case number in a signed session cookie for 30
minutes; the timeline and the receipts are served from that, never from a
case number in the URL.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from ledger.errors import IllegalTransition, InvalidInput
from ledger.events import BEIJING
from ledger.lifecycle import State
from ledger.storage import case_leaves
from verify_portal.app import anchored, counters
from verify_portal.app.case_status import case_status
from verify_portal.app.citizens import LookupRefused, timeline
from verify_portal.app.integrity import case_disagreements
from verify_portal.app.statements import MAX_TEXT, PHOTO_FORM_BYTES
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import TEXT, language, t
from verify_portal.web.limits import refused
from verify_portal.web.pages.forms import check_csrf, page

bp = Blueprint("citizen", __name__, url_prefix="/check")
SESSION_SECONDS = 30 * 60
STATEMENT_ERRORS = {  # the statement service's refusal reasons, as the page's words
    "length": "statement_error_length",
    "photos": "statement_error_photos",
    "image": "statement_error_image",
    "stage": "statement_error_stage",
}


def _opened_case() -> str | None:
    opened = session.get("citizen")
    if not opened or opened.get("until", 0) < time.time():
        return None
    return opened["case_no"]


@bp.get("")
@access(PUBLIC)
def form() -> ResponseReturnValue:
    return page("check.html")


@bp.post("")
@access(PUBLIC)
def lookup() -> ResponseReturnValue:
    services = current()
    case_no = request.form.get("case_no", "").strip().upper()[:32]
    code = request.form.get("code", "")[:64]
    try:
        services.citizens.check(case_no, code)
    except LookupRefused:
        # counts against this client (verify_portal/web/limits.py), never against the case
        refused()
        counters.add(services.sessions, counters.CODE_REFUSED)
        return page("check.html", status=200, error=t("no_match"), case_no=case_no, code=code)
    session.clear()
    session["citizen"] = {"case_no": case_no, "until": time.time() + SESSION_SECONDS}
    return redirect(url_for("citizen.case", lang=language()), code=303)


@bp.get("/case")
@access(PUBLIC)
def case() -> ResponseReturnValue:
    """The opened case: where it stands and what to do by when, then its timeline with each step's
    proof status and receipts checked in the browser."""
    case_no = _opened_case()
    if case_no is None:
        return redirect(url_for("citizen.form", lang=language()), code=303)
    return _case_page(case_no, sent=request.args.get("sent") == "1")


def _case_page(case_no: str, status: int = 200, **form: object) -> ResponseReturnValue:
    services = current()
    steps = timeline(_events(services, case_no))
    receipts, waiting = anchored.receipts(services, [s["index"] for s in steps], with_events=True)
    with services.sessions() as db:
        logged = services.cases.logged_case(db, case_no)
    disagreements = case_disagreements(services, case_no)
    return page(
        "check_case.html",
        status=status,
        case_no=case_no,
        steps=steps,
        case_status=case_status(steps, datetime.now(BEIJING).date()),
        contact=services.settings.web.agency_contact,
        receipts={r["leaf_index"]: r for r in receipts},
        waiting=set(waiting),
        notice_stage=logged is not None
        and logged.state == State.NOTIFIED.value
        and not disagreements,
        rows_disagree=bool(disagreements),
        public_rpc=services.settings.web.public_rpc_url,
        receipts_json=_script_json(receipts),
        trust_root_json=_script_json(services.trust.latest().document),
        public_rpc_json=_script_json(services.settings.web.public_rpc_url),
        check_words_json=_script_json(
            {key.removeprefix("jscheck_"): t(key) for key in TEXT if key.startswith("jscheck_")}
        ),
        **form,
    )


def _script_json(value: object) -> str:
    """JSON safe inside a <script type="application/json"> element: no "</" can end it early."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


@bp.post("/statement")
@access(PUBLIC)
def statement() -> ResponseReturnValue:
    """The party's statement and defence (陈述申辩), with up to three photos, while at the notice
    stage."""
    request.max_content_length = PHOTO_FORM_BYTES  # set before the form is parsed
    check_csrf()
    case_no = _opened_case()
    if case_no is None:
        return redirect(url_for("citizen.form", lang=language()), code=303)
    text = request.form.get("text", "")[: MAX_TEXT * 4]
    photos = [f.read() for f in request.files.getlist("photos") if f.filename]
    try:
        current().statements.submit(case_no, text, photos)
    except (InvalidInput, IllegalTransition) as exc:
        # The case page again, the text kept and the reason beside the field it concerns.
        reason = exc.details.get("reason", "stage" if isinstance(exc, IllegalTransition) else "")
        return _case_page(
            case_no,
            status=409 if isinstance(exc, IllegalTransition) else 400,
            statement_text=text,
            statement_error=STATEMENT_ERRORS.get(str(reason), "statement_error_length"),
        )
    return redirect(url_for("citizen.case", lang=language(), sent=1), code=303)


@bp.get("/receipts/<int:index>")
@access(PUBLIC)
def receipt(index: int) -> ResponseReturnValue:
    """One receipt of the opened case, as a file to keep."""
    case_no = _opened_case()
    services = current()
    if case_no is None or index not in {s["index"] for s in timeline(_events(services, case_no))}:
        return jsonify(error="open your case first"), 404
    built, _ = anchored.receipts(services, [index], with_events=True)
    if not built:
        return jsonify(error="this step is not anchored yet; try again in a minute"), 409
    response = jsonify(built[0])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="receipt-{case_no}-{index}.json"'
    )
    return response


@bp.post("/logout")
@access(PUBLIC)
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("citizen.form", lang=language()), code=303)


def _events(services, case_no: str) -> list[dict]:
    with services.sessions() as db:
        return [leaf.to_json() for leaf in case_leaves(db, case_no)]
