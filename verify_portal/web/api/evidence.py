"""The evidence API: streaming and resumable (tus 1.0) uploads, reads with custody, devices.

POST /api/v1/evidence takes the file itself as the body (any Content-Type is
ignored: the type is sniffed from the bytes), with the metadata in a tus-style
`Upload-Metadata` header. /api/v1/evidence/uploads speaks tus 1.0 (creation,
expiration, checksum with sha256) for standard tus clients.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime

from flask import Blueprint, Response, jsonify, request, stream_with_context
from werkzeug.exceptions import ClientDisconnected

from evidence.errors import Truncated, TusVersionMismatch
from evidence.meta import UploadMeta, parse_upload_metadata
from evidence.service import item_json
from evidence.uploads import CHECKSUM_ALGORITHMS
from ledger.bounds import whole_number
from ledger.errors import InvalidInput
from ledger.events import as_utc
from ledger.users import Action
from verify_portal.app import anchored
from verify_portal.web.api.requests import json_object, only_fields
from verify_portal.web.auth import AUTHENTICATED, PUBLIC, access, current_actor
from verify_portal.web.context import current

bp = Blueprint("evidence", __name__, url_prefix="/api/v1")

BODY_CHUNK = 4 << 20
TUS_VERSION = "1.0.0"
TUS = {"Tus-Resumable": TUS_VERSION}
MAX_REASON = 200


def _body_chunks() -> Iterator[bytes]:
    """The request body in chunks, never whole in memory; a dropped connection becomes Truncated.

    Reads `wsgi.input` itself, exactly Content-Length bytes: werkzeug's limited stream adds a copy
    per chunk that halves the rate of multi-GiB uploads. The size limit is the blob writer's."""
    remaining = _declared_length()
    body = request.environ["wsgi.input"]
    try:
        while remaining > 0:
            chunk = body.read(min(BODY_CHUNK, remaining))
            if not chunk:
                raise Truncated(
                    f"the connection closed with {remaining:,} bytes of the body still to come"
                )
            remaining -= len(chunk)
            yield chunk
    except (ClientDisconnected, OSError):
        raise Truncated("the connection closed before the whole body arrived") from None


def _declared_length() -> int:
    if request.content_length is None:
        raise InvalidInput("send a Content-Length: the upload's size is checked against it")
    return request.content_length


@bp.post("/evidence")
@access(AUTHENTICATED)
def upload() -> tuple[Response, int]:
    """One request, one file: streamed to disk while hashed, then registered in the case."""
    meta = UploadMeta.parse(parse_upload_metadata(request.headers.get("Upload-Metadata")))
    length = _declared_length()
    result = current().evidence.ingest(current_actor(), meta, _body_chunks(), length)
    return jsonify(result), 201


# --- tus 1.0 ------------------------------------------------------------------------


def _tus_version() -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionMismatch(
            f"this server speaks tus {TUS_VERSION}: send Tus-Resumable: {TUS_VERSION}"
        )


@bp.route("/evidence/uploads", methods=["OPTIONS"])
@access(PUBLIC)
def tus_options() -> Response:
    """tus discovery: version, extensions, size limit, checksum algorithms."""
    return Response(
        status=204,
        headers={
            **TUS,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": "creation,expiration,checksum",
            "Tus-Max-Size": str(current().settings.evidence.max_evidence_bytes),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@bp.post("/evidence/uploads")
@access(AUTHENTICATED)
def tus_create() -> Response:
    _tus_version()
    length = whole_number(
        request.headers.get("Upload-Length", ""), "Upload-Length (the file's size in bytes)"
    )
    upload = current().uploads.create(
        current_actor(), length, parse_upload_metadata(request.headers.get("Upload-Metadata"))
    )
    return Response(
        status=201,
        headers={
            **TUS,
            "Location": f"/api/v1/evidence/uploads/{upload.id}",
            "Upload-Expires": _http_date(upload.expires_at),
        },
    )


@bp.route("/evidence/uploads/<upload_id>", methods=["HEAD"])
@access(AUTHENTICATED)
def tus_head(upload_id: str) -> Response:
    _tus_version()
    uploads = current().uploads
    upload = uploads.finish_if_complete(current_actor(), uploads.get(current_actor(), upload_id))
    headers = {
        **TUS,
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
        "Upload-Expires": _http_date(upload.expires_at),
    }
    if upload.evidence_id is not None:
        headers["Lianzheng-Evidence-Id"] = upload.evidence_id
    return Response(status=200, headers=headers)


@bp.patch("/evidence/uploads/<upload_id>")
@access(AUTHENTICATED)
def tus_patch(upload_id: str) -> Response:
    _tus_version()
    if request.mimetype != "application/offset+octet-stream":
        return Response(status=415, headers=TUS)
    offset = whole_number(request.headers.get("Upload-Offset", ""), "Upload-Offset (bytes)")
    upload, registered = current().uploads.append(
        current_actor(), upload_id, offset, _body_chunks(), request.headers.get("Upload-Checksum")
    )
    headers = {
        **TUS,
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": _http_date(upload.expires_at),
    }
    if registered is not None:
        headers["Lianzheng-Evidence-Id"] = registered["evidence"]["evidence_id"]
        headers["Lianzheng-Leaf-Index"] = str(registered["index"])
    return Response(status=204, headers=headers)


def _http_date(moment: datetime) -> str:
    return format_datetime(as_utc(moment), usegmt=True)


# --- reading, with custody ------------------------------------------------------------


def _reason() -> str:
    """Why the evidence is read (?reason=, one of CUSTODY_REASONS): it goes into the custody
    trail."""
    return request.args.get("reason", "")[:MAX_REASON]


@bp.get("/evidence/<evidence_id>")
@access(AUTHENTICATED)
def show(evidence_id: str) -> Response:
    """The item's record; a `view` custody event is logged first."""
    item = current().evidence.read(current_actor(), evidence_id, "view", _reason())
    return jsonify(item_json(item))


@bp.get("/evidence/<evidence_id>/content")
@access(AUTHENTICATED)
def content(evidence_id: str) -> Response:
    """The file, streamed and checked against its hash, for the roles that may copy raw footage
    out; a `download` (or `playback`) custody event is logged first."""
    services = current()
    actor = current_actor()
    actor.require(Action.COPY_OUT_EVIDENCE)  # the bytes are the same, whatever the action says
    action = "playback" if request.args.get("playback") == "1" else "download"
    item = services.evidence.read(actor, evidence_id, action, _reason())
    services.evidence.check_size(
        item
    )  # a changed length is refused before the first byte; a changed
    body = stream_with_context(
        services.evidence.blobs.open(item.sha256)
    )  # byte aborts the stream at its end
    return Response(
        body,
        mimetype=item.media_type,
        headers={
            "Content-Length": str(item.size),
            "Digest": f"sha-256={_b64hex(item.sha256)}",
            "Content-Disposition": f'attachment; filename="{item.id}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/evidence/<evidence_id>/poster")
@access(AUTHENTICATED)
def poster(evidence_id: str) -> Response:
    services = current()
    services.evidence.refuse_purged(services.evidence.readable(current_actor(), evidence_id))
    item = services.evidence.read(current_actor(), evidence_id, "view", _reason())
    if item.poster_sha256 is None:
        raise InvalidInput(f"evidence {item.id} has no poster frame ({item.media_type})")
    return Response(
        b"".join(services.evidence.blobs.open(item.poster_sha256)),
        mimetype="image/jpeg",
        headers={"Cache-Control": "no-store"},
    )


@bp.get("/evidence/<evidence_id>/custody")
@access(AUTHENTICATED)
def custody(evidence_id: str) -> Response:
    """The full custody trail from the log: supervisors, legal review and admins."""
    return jsonify(
        evidence_id=evidence_id, custody=current().evidence.custody(current_actor(), evidence_id)
    )


@bp.post("/evidence/<evidence_id>/shares")
@access(AUTHENTICATED)
def share(evidence_id: str) -> tuple[Response, int]:
    """Record that the item was handed to another body (e.g. 复议机关 on disc): a `share` custody
    event.

    The recipient is the code of a registered body (GET /api/v1/recipients), never free text: it
    goes into the log, where a person's name must never be."""
    body = json_object()
    only_fields(body, {"recipient", "reason"}, frozenset({"recipient", "reason"}))
    recipient, reason = body["recipient"], body["reason"]
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_REASON for v in (recipient, reason)):
        raise InvalidInput(f"recipient and reason are codes of 1 to {MAX_REASON} characters")
    item = current().evidence.read(current_actor(), evidence_id, "share", reason, recipient)
    return jsonify(evidence_id=item.id, action="share", recipient=recipient), 201


@bp.post("/evidence/<evidence_id>/gap-acknowledgements")
@access(AUTHENTICATED)
def acknowledge_gap(evidence_id: str) -> tuple[Response, int]:
    """A supervisor acknowledges a known gap before this segment, with a reason from a fixed
    list."""
    body = json_object()
    only_fields(body, {"reason"}, frozenset({"reason"}))
    if not isinstance(body["reason"], str):
        raise InvalidInput("reason is one of the fixed reasons")
    return jsonify(
        current().evidence.acknowledge_gap(current_actor(), evidence_id, body["reason"])
    ), 201


@bp.put("/evidence/<evidence_id>/legal-hold")
@access(AUTHENTICATED)
def hold(evidence_id: str) -> tuple[Response, int]:
    """The legal role holds the item for proceedings, with a reason from a fixed list: it is kept
    past its retention rule until the hold is lifted (a custody event)."""
    body = json_object()
    only_fields(body, {"reason"}, frozenset({"reason"}))
    if not isinstance(body["reason"], str):
        raise InvalidInput("reason is one of the fixed reasons")
    services, actor = current(), current_actor()
    item = services.evidence.holdable(actor, evidence_id)
    return jsonify(services.retention.hold(actor, item, body["reason"])), 201


@bp.delete("/evidence/<evidence_id>/legal-hold")
@access(AUTHENTICATED)
def lift_hold(evidence_id: str) -> tuple[Response, int]:
    """The legal role lifts the hold (?reason=, from a fixed list): its rule applies again."""
    services, actor = current(), current_actor()
    item = services.evidence.holdable(actor, evidence_id)
    return jsonify(services.retention.lift(actor, item, _reason())), 201


@bp.get("/recipients")
@access(AUTHENTICATED)
def recipients() -> Response:
    """The bodies evidence may be handed to: their codes (for shares) and names."""
    current_actor().require(Action.READ_EVIDENCE)
    return jsonify(recipients=current().evidence.recipients.listing())


@bp.post("/recipients")
@access(AUTHENTICATED)
def register_recipient() -> tuple[Response, int]:
    """Register a body evidence may be handed to (admin): {"id": code, "name": its name}."""
    body = json_object()
    only_fields(body, {"id", "name"}, frozenset({"id", "name"}))
    if not all(isinstance(body[k], str) for k in body):
        raise InvalidInput("id and name are strings")
    return jsonify(
        current().evidence.recipients.register(current_actor(), body["id"], body["name"])
    ), 201


@bp.post("/evidence/<evidence_id>/derivations")
@access(AUTHENTICATED)
def derive(evidence_id: str) -> tuple[Response, int]:
    """A trimmed or blurred copy, registered as its own item that names this one and the
    operation."""
    body = json_object()
    only_fields(body, {"operation"}, frozenset({"operation"}))
    return jsonify(current().evidence.derive(current_actor(), evidence_id, body["operation"])), 201


@bp.get("/evidence/lookup")
@access(PUBLIC)
def lookup() -> Response:
    """Where a file with this SHA-256 is registered (the court page's single-file check): case,
    time, device (never the officer: anyone may ask), and the anchor that holds the registration.
    Whoever asks holds the file."""
    digest = request.args.get("sha256", "")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput("sha256 must be 64 lowercase hex digits")
    return jsonify(sha256=digest, registrations=anchored.registrations(current(), digest))


@bp.get("/cases/<case_no>/evidence")
@access(AUTHENTICATED)
def of_case(case_no: str) -> Response:
    items = current().evidence.of_case(current_actor(), case_no)
    return jsonify(case_no=case_no, evidence=[item_json(i) for i in items])


# --- devices ---------------------------------------------------------------------------


@bp.post("/devices")
@access(AUTHENTICATED)
def register_device() -> tuple[Response, int]:
    body = json_object()
    only_fields(
        body,
        {"serial", "kind", "unit", "public_key"},
        frozenset({"serial", "kind", "unit", "public_key"}),
    )
    if not all(isinstance(body[k], str) for k in body):
        raise InvalidInput("serial, kind, unit and public_key (PEM) are strings")
    device = current().evidence.devices.register(
        current_actor(), body["serial"], body["kind"], body["unit"], body["public_key"].encode()
    )
    return jsonify(device), 201


@bp.post("/devices/<serial>/revocation")
@access(AUTHENTICATED)
def revoke_device(serial: str) -> tuple[Response, int]:
    current().evidence.devices.revoke(current_actor(), serial)
    return jsonify(serial=serial, status="revoked"), 200


@bp.post("/devices/<serial>/issue")
@access(AUTHENTICATED)
def issue_device(serial: str) -> tuple[Response, int]:
    """Hand a bodycam to an officer (admin): {"officer": account code}, a registry event."""
    body = json_object()
    only_fields(body, {"officer"}, frozenset({"officer"}))
    if not isinstance(body["officer"], str):
        raise InvalidInput("officer is an account code")
    return jsonify(current().evidence.devices.issue(current_actor(), serial, body["officer"])), 201


def _b64hex(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
