"""The public verification API (DESIGN.md: Public verification API). No login: hashes only."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ledger.checkpoint import raw_public_key
from verify_portal.api.requests import int_arg, required_int_arg
from verify_portal.auth import PUBLIC, access
from verify_portal.services import current

bp = Blueprint("log", __name__, url_prefix="/api/v1/log")


@bp.get("/checkpoint")
@access(PUBLIC)
def checkpoint() -> Response:
    """The latest signed checkpoint, or the one at `?size=` (text/plain note)."""
    services = current()
    with services.sessions() as session:
        head = services.store.checkpoint(session, int_arg("size"))
    return Response(head.note, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@bp.get("/publickey")
@access(PUBLIC)
def publickey() -> Response:
    signer = current().signer
    return jsonify(
        origin=signer.origin,
        key_id=signer.key_id.hex(),
        algorithm="ed25519",
        public_key=raw_public_key(signer.public_key).hex(),
    )


@bp.get("/leaves")
@access(PUBLIC)
def leaves() -> Response:
    services = current()
    start, end = required_int_arg("start"), required_int_arg("end")
    with services.sessions() as session:
        rows = services.store.leaf_hashes(session, start, end)
    return jsonify(leaves=[{"index": i, "leaf_hash": h.hex()} for i, h in rows])


@bp.get("/proof/inclusion")
@access(PUBLIC)
def inclusion() -> Response:
    services = current()
    with services.sessions() as session:
        proof = services.store.inclusion_proof(session, required_int_arg("index"), int_arg("size"))
    return jsonify(proof.to_json())


@bp.get("/proof/consistency")
@access(PUBLIC)
def consistency() -> Response:
    services = current()
    with services.sessions() as session:
        proof = services.store.consistency_proof(session, required_int_arg("from"), int_arg("to"))
    return jsonify(proof.to_json())
