"""Cases: open, step, read, prove, erase personal data. Bearer token required."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, jsonify, request

from verify_portal.app import anchored, erasure, notices
from verify_portal.app.integrity import case_disagreements
from verify_portal.web.api.requests import idempotency, int_arg, json_object, only_fields
from verify_portal.web.auth import AUTHENTICATED, access, current_actor
from verify_portal.web.context import current
from verify_portal.web.downloads import notice_download, package_download

bp = Blueprint("cases", __name__, url_prefix="/api/v1/cases")


def _created(body: dict) -> tuple[Response, int]:
    return jsonify(body), 201


@bp.post("")
@access(AUTHENTICATED)
def create() -> tuple[Response, int]:
    """Open a case: `{"source", "violation_type", "district", "party"?}`."""
    body = json_object()
    party = body.pop("party", None)
    return _created(current().cases.create(current_actor(), body, party, idempotency()))


@bp.post("/<case_no>/transitions")
@access(AUTHENTICATED)
def transition(case_no: str) -> tuple[Response, int]:
    """Record a step: `{"to": "FILED", "payload": {...}, "party"?: {...}}`."""
    body = json_object()
    only_fields(body, {"to", "payload", "party"}, frozenset({"to"}))
    result = current().cases.transition(
        current_actor(), case_no, body["to"], body.get("payload"), body.get("party"), idempotency()
    )
    return _created(result)


@bp.post("/<case_no>/party-erasure")
@access(AUTHENTICATED)
def erase_party(case_no: str) -> tuple[Response, int]:
    """Legal erasure of the party's personal data (crypto-shredding); the log still verifies."""
    return _created(erasure.erase_party(current(), current_actor(), case_no, idempotency()))


@bp.get("/<case_no>")
@access(AUTHENTICATED)
def show(case_no: str) -> Response:
    """The case and its events; `integrity` says whether its stored rows agree with those events."""
    services = current()
    case = services.cases.get(current_actor(), case_no)
    found = case_disagreements(services, case_no)
    return jsonify({**case, "integrity": {"consistent": not found, "disagreements": found}})


@bp.get("/<case_no>/proofs")
@access(AUTHENTICATED)
def proofs(case_no: str) -> Response:
    """Every event of the case with its inclusion proof, and the checkpoint of that same size."""
    services = current()
    case = services.cases.get(current_actor(), case_no)
    with services.sessions() as session:
        head = services.store.checkpoint(session, int_arg("size"))
        indexes = [e["index"] for e in case["events"] if e["index"] < head.size]
        proofs = services.store.inclusion_proofs(session, indexes, head.size) if indexes else []
    events = [
        {"index": p.index, "leaf_hash": p.leaf_hash.hex(), "proof": [h.hex() for h in p.proof]}
        for p in proofs
    ]
    return jsonify(
        case_no=case_no, size=head.size, root=head.root.hex(), checkpoint=head.note, events=events
    )


@bp.get("/<case_no>/receipts")
@access(AUTHENTICATED)
def receipts(case_no: str) -> Response:
    """A receipt per event of the case (with the event itself), to the newest anchor."""
    services = current()
    case = services.cases.get(current_actor(), case_no)
    built, waiting = anchored.receipts(
        services, [e["index"] for e in case["events"]], with_events=True
    )
    return jsonify(case_no=case_no, receipts=built, not_yet_anchored=waiting)


@bp.post("/<case_no>/exports")
@access(AUTHENTICATED)
def export(case_no: str) -> Response:
    """The case's signed evidence package (zipped BagIt); supervisors, courts and admins.

    Body: {"reason": one of the custody reasons}, optional (litigation). Answers 409 until an anchor
    covers the case's events.
    """
    body = json_object() if request.content_length else {}
    only_fields(body, {"reason"})
    return package_download(current(), current_actor(), case_no, body.get("reason", "litigation"))


@bp.post("/<case_no>/verification-code")
@access(AUTHENTICATED)
def verification_code(case_no: str) -> tuple[Response, int]:
    """A new verification code for the case's notice (shown once; any earlier one stops working).

    The notice prints the code and `qr_svg`, a QR code of `link`, whose fragment the browser keeps
    to itself; `notice_svg` is the QR code with the trust root's fingerprint beside it, which the
    citizen's browser shows too, so that the printed notice, not the server, says which root to
    expect. With `?format=pdf` (and `&lang=en` for English beneath the Chinese) the answer is the
    printable notice itself, the code on it."""
    facts = notices.issue(current(), current_actor(), case_no, request.host_url)
    if request.args.get("format") == "pdf":
        return notice_download(facts, request.args.get("lang") == "en"), 201
    qr = io.BytesIO()
    segno.make(facts.link, error="m").save(qr, kind="svg", scale=4, xmldecl=False)
    return jsonify(
        case_no=case_no,
        code=facts.code,
        link=facts.link,
        qr_svg=qr.getvalue().decode(),
        trust_fingerprint=facts.fingerprint,
        notice_svg=_notice_svg(qr.getvalue().decode(), facts.fingerprint),
    ), 201


def _notice_svg(qr_svg: str, fingerprint: str) -> str:
    """The QR code with the trust root's fingerprint printed beside it, in four lines of 16
    digits."""
    lines = "".join(
        f'<text x="0" y="{14 * (i + 2)}">{fingerprint[16 * i : 16 * i + 16]}</text>'
        for i in range(4)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="200" font-family="monospace" '
        f'font-size="12"><g>{qr_svg}</g><g transform="translate(210,40)"><text x="0" y="14">'
        f"信任根指纹 Trust root fingerprint</text>{lines}</g></svg>"
    )


@bp.get("/<case_no>/statements")
@access(AUTHENTICATED)
def statements(case_no: str) -> Response:
    """The party's statements and defences, decrypted, for the officer and supervisors."""
    return jsonify(
        case_no=case_no, statements=current().statements.of_case(current_actor(), case_no)
    )
