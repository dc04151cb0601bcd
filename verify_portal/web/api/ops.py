"""Operations endpoints: liveness, readiness, Prometheus metrics. Counts and states only.

Everything here is read from the database or probed on the spot, so every gunicorn worker answers the same.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select, text

from anchor import records
from anchor.chain import Chain
from anchor.errors import ChainUnavailable
from evidence.models import EvidenceItem
from ledger.events import as_utc
from ledger.models import Leaf
from verify_portal.app import anchoring, counters
from verify_portal.app.models import AuditRun
from verify_portal.app.services import Services
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@access(PUBLIC)
def healthz() -> Response:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
@access(PUBLIC)
def readyz() -> tuple[Response, int]:
    """Ready to serve: database, blob store, chain reachable, anchoring not lagging beyond its limit."""
    services = current()
    checks = {"database": _database(services), "blob_store": _blob_store(services), "chain": _chain(services)}
    lag = _lag(services)
    limit = services.settings.anchor_lag_limit
    checks["anchor_lag"] = "ok" if lag["seconds"] <= limit else f"{lag['seconds']:.0f} s behind (limit {limit:.0f} s)"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(ready=ready, checks=checks, anchor_lag=lag), 200 if ready else 503


def _database(services: Services) -> str:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the kind is what operators need
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _blob_store(services: Services) -> str:
    root = services.evidence.blobs.root
    root.mkdir(parents=True, exist_ok=True)
    return "ok" if os.access(root, os.W_OK) else f"{root} is not writable"


def _chain(services: Services) -> str:
    settings = services.settings
    if settings.embedded_chain:
        running = anchoring.local_chain(settings).running()
        if running is None:
            return "the local chain is not running"
        url = running.rpc_url
    else:
        url = settings.rpc_url or ""
    try:
        Chain(url, timeout=3).latest_number()
    except ChainUnavailable as exc:
        return exc.message
    return "ok"


def _lag(services: Services) -> dict[str, float | int]:
    """Leaves not yet in an anchor on chain, and how long the oldest of them has waited."""
    ident = anchoring.identity(services.settings)
    with services.sessions() as session:
        size = services.store.latest_size(session)
        newest = [] if ident is None else records.anchors(session, ident.chain_id, ident.contract, limit=1)
        anchored = newest[0].size if newest else 0
        waiting_since = session.scalar(select(Leaf.appended_at).where(Leaf.leaf_index == anchored)) \
            if size > anchored else None
    seconds = 0.0
    if waiting_since is not None:
        seconds = max(0.0, (datetime.now(UTC) - as_utc(waiting_since)).total_seconds())
    return {"log_size": size, "anchored_size": anchored, "waiting_leaves": size - anchored, "seconds": seconds}


@bp.get("/metrics")
@access(PUBLIC)
def metrics() -> Response:
    """Prometheus text format (version 0.0.4)."""
    services = current()
    lag = _lag(services)
    with services.sessions() as session:
        items, stored = session.execute(select(func.count(), func.coalesce(func.sum(EvidenceItem.size), 0))).one()
        ident = anchoring.identity(services.settings)
        anchors = 0 if ident is None else records.count(session, ident.chain_id, ident.contract)
        audit = session.scalars(select(AuditRun).where(AuditRun.status == "done")
                                .order_by(AuditRun.ran_at.desc()).limit(1)).first()
        failures = counters.verification_failures(session)
    gauges = [
        ("lianzheng_log_size", "Events appended to the log (leaves).", lag["log_size"]),
        ("lianzheng_anchored_size", "Log size of the newest anchor on chain.", lag["anchored_size"]),
        ("lianzheng_anchor_lag_leaves", "Leaves not yet in an anchor.", lag["waiting_leaves"]),
        ("lianzheng_anchor_lag_seconds", "How long the oldest unanchored leaf has waited.", lag["seconds"]),
        ("lianzheng_anchors", "Anchors on chain.", anchors),
        ("lianzheng_evidence_items", "Evidence items registered.", items),
        ("lianzheng_evidence_bytes", "Bytes of evidence registered.", stored),
        ("lianzheng_audit_clean", "1 if the latest audit found nothing, 0 if it found tampering, -1 if none ran.",
         -1 if audit is None else audit.clean),
        ("lianzheng_audit_open_findings", "Findings of the latest completed audit (acknowledged gaps not counted).",
         0 if audit is None else audit.open_findings),
        ("lianzheng_scrape_timestamp_seconds", "When these figures were read.", round(time.time(), 3)),
    ]
    body = "".join(f"# HELP {name} {help_}\n# TYPE {name} gauge\n{name} {value}\n" for name, help_, value in gauges)
    body += ("# HELP lianzheng_verification_failures_total Packages that failed verification on the court page; "
             "verification codes that opened no case.\n# TYPE lianzheng_verification_failures_total counter\n")
    body += "".join(f'lianzheng_verification_failures_total{{kind="{kind}"}} {value}\n'
                    for kind, value in failures.items())
    return Response(body, mimetype="text/plain", headers={"Content-Type": "text/plain; version=0.0.4"})
