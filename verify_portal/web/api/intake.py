"""The docking station's API (lianzheng dock): a recorder's identity, the log's word on what it
registered, and the shift's ingest report. Only accounts that may ingest footage call it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from evidence.intake import REPORT_FIELDS
from ledger.errors import InvalidInput
from ledger.users import Action
from verify_portal.web.api.requests import json_object, only_fields
from verify_portal.web.auth import AUTHENTICATED, access, current_actor
from verify_portal.web.context import current

bp = Blueprint("intake", __name__, url_prefix="/api/v1")


@bp.get("/devices/<serial>")
@access(AUTHENTICATED)
def device(serial: str) -> Response:
    """A recorder's kind, status and the officer it is issued to, from the registry chain."""
    return jsonify(current().evidence.devices.identity(current_actor(), serial))


@bp.get("/intake/<evidence_id>")
@access(AUTHENTICATED)
def confirm(evidence_id: str) -> Response:
    """What the log registered for an ingested file: the station wipes the recorder's copy only
    when this matches what it sent."""
    return jsonify(current().intake.confirm(current_actor(), evidence_id))


@bp.post("/intake/reports")
@access(AUTHENTICATED)
def report() -> tuple[Response, int]:
    """A shift's ingest report, logged as one event of the intake chain."""
    current_actor().require(Action.INTAKE_EVIDENCE)  # before the body is read
    body = json_object()
    only_fields(body, set(REPORT_FIELDS), REPORT_FIELDS)
    return jsonify(current().intake.report(current_actor(), body)), 201


@bp.get("/intake")
@access(AUTHENTICATED)
def unlinked() -> Response:
    """Intake footage no case holds yet, with the cases proposed for each."""
    return jsonify(unlinked=current().intake.unlinked(current_actor()))


@bp.post("/intake/<evidence_id>/link")
@access(AUTHENTICATED)
def link(evidence_id: str) -> tuple[Response, int]:
    """Link intake footage to its case: {"case_no"}; an event of the case's chain."""
    return jsonify(current().intake.link(current_actor(), evidence_id, _case_no())), 201


@bp.post("/intake/<evidence_id>/decline")
@access(AUTHENTICATED)
def decline(evidence_id: str) -> tuple[Response, int]:
    """Decline a proposed link: {"case_no"}; an event of the case's chain."""
    return jsonify(current().intake.decline(current_actor(), evidence_id, _case_no())), 201


def _case_no() -> str:
    current_actor().require(Action.LINK_EVIDENCE)  # before the body is read
    body = json_object()
    only_fields(body, {"case_no"}, frozenset({"case_no"}))
    if not isinstance(body["case_no"], str):
        raise InvalidInput("case_no is a case number such as CG-2026-000001")
    return body["case_no"]
