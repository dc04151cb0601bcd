"""The public verification API (DESIGN.md: Public verification API). No login: hashes only."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from anchor import records
from ledger import trust
from verify_portal.app import anchored, anchoring
from verify_portal.web.api.requests import int_arg, required_int_arg
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current

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
    """The key that signs the next checkpoints (every key and the sizes it covers:
    /api/v1/trust)."""
    services = current()
    with services.sessions() as session:
        public = services.store.current_key(session)
    origin = services.store.origin
    return jsonify(
        origin=origin,
        key_id=trust.checkpoint_key_id(origin, public),
        algorithm="ed25519",
        public_key=public.hex(),
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


@bp.get("/anchors")
@access(PUBLIC)
def anchors() -> Response:
    """Anchors on chain, newest first (`?limit=` up to 1,000, `?before=` a size to page back
    from)."""
    services = current()
    limit, before = (
        int_arg("limit") or 100,
        int_arg("before"),
    )  # refused the same whether or not a chain runs
    ident = anchoring.identity(services.settings)
    if ident is None:  # the embedded chain has not started yet
        return jsonify(chain_id=None, contract=None, anchors=[])
    with services.sessions() as session:
        rows = records.anchors(session, ident.chain_id, ident.contract, limit, before)
    return jsonify(
        chain_id=ident.chain_id, contract=ident.contract, anchors=[records.to_json(r) for r in rows]
    )


@bp.get("/receipt")
@access(PUBLIC)
def receipt() -> Response:
    """The receipt of leaf `?index=`: its inclusion proof to the newest anchor, and that anchor."""
    return jsonify(anchored.receipt_of_leaf(current(), required_int_arg("index")))
