"""Operations endpoints: liveness, readiness, Prometheus metrics. Counts and states only.

Everything here is read from the database or probed on the spot, so every gunicorn worker answers
the same."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from anchor.chain import Chain
from anchor.errors import ChainUnavailable
from verify_portal.app import anchoring, figures
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
    """Ready to serve: database, blob store, chain reachable, anchoring not lagging beyond its
    limit."""
    services = current()
    checks = {
        "database": _database(services),
        "blob_store": services.evidence.blobs.health(),
        "chain": _chain(services),
    }
    lag = figures.anchor_lag(services)
    limit = services.settings.chain.anchor_lag_limit
    behind = f"{lag.seconds:.0f} s behind (limit {limit:.0f} s)"
    checks["anchor_lag"] = "ok" if lag.seconds <= limit else behind
    ready = all(v == "ok" for v in checks.values())
    lag_json = {
        "log_size": lag.log_size,
        "anchored_size": lag.anchored_size,
        "waiting_leaves": lag.waiting_leaves,
        "seconds": lag.seconds,
    }
    return jsonify(ready=ready, checks=checks, anchor_lag=lag_json), 200 if ready else 503


def _database(services: Services) -> str:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    # Any failure means not ready; the kind is what operators need.
    except Exception as exc:  # noqa: BLE001
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _chain(services: Services) -> str:
    url = anchoring.rpc_url(services.settings)
    if url is None:
        return "the local chain is not running"
    try:
        Chain(url, timeout=3).latest_number()
    except ChainUnavailable as exc:
        return exc.message
    return "ok"


@bp.get("/metrics")
@access(PUBLIC)
def metrics() -> Response:
    """Prometheus text format (version 0.0.4)."""
    seen = figures.metrics(current())
    lag, audit = seen.lag, seen.audit
    gauges = [
        ("lianzheng_log_size", "Events appended to the log (leaves).", lag.log_size),
        ("lianzheng_anchored_size", "Log size of the newest anchor on chain.", lag.anchored_size),
        ("lianzheng_anchor_lag_leaves", "Leaves not yet in an anchor.", lag.waiting_leaves),
        (
            "lianzheng_anchor_lag_seconds",
            "How long the oldest unanchored leaf has waited.",
            lag.seconds,
        ),
        ("lianzheng_anchors", "Anchors on chain.", seen.anchors),
        ("lianzheng_evidence_items", "Evidence items registered.", seen.evidence_items),
        ("lianzheng_evidence_bytes", "Bytes of evidence registered.", seen.evidence_bytes),
        (
            "lianzheng_audit_clean",
            "1 if the latest audit found nothing, 0 if it found tampering, -1 if none ran.",
            -1 if audit is None else audit.clean,
        ),
        (
            "lianzheng_audit_open_findings",
            "Findings of the latest completed audit (acknowledged gaps not counted).",
            0 if audit is None else audit.open_findings,
        ),
        (
            "lianzheng_scrape_timestamp_seconds",
            "When these figures were read.",
            round(time.time(), 3),
        ),
    ]
    body = "".join(
        f"# HELP {name} {help_}\n# TYPE {name} gauge\n{name} {value}\n"
        for name, help_, value in gauges
    )
    body += (
        "# HELP lianzheng_verification_failures_total Packages that failed verification on the "
        "court page; verification codes that opened no case.\n"
        "# TYPE lianzheng_verification_failures_total counter\n"
    )
    body += "".join(
        f'lianzheng_verification_failures_total{{kind="{kind}"}} {value}\n'
        for kind, value in seen.verification_failures.items()
    )
    body += _witness_gauges(seen.witnesses)
    return Response(
        body, mimetype="text/plain", headers={"Content-Type": "text/plain; version=0.0.4"}
    )


def _witness_gauges(witnesses: list[figures.WitnessLag]) -> str:
    """Per witness: the last size it cosigned and how many leaves it is behind (names escaped
    as label values of the text format)."""
    if not witnesses:
        return ""
    lines = [
        "# HELP lianzheng_witness_cosigned_size Size of the newest checkpoint it cosigned.",
        "# TYPE lianzheng_witness_cosigned_size gauge",
        *(
            f'lianzheng_witness_cosigned_size{{witness="{_label(w.name)}"}} {w.cosigned_size}'
            for w in witnesses
        ),
        "# HELP lianzheng_witness_lag_leaves Leaves appended since this witness last cosigned.",
        "# TYPE lianzheng_witness_lag_leaves gauge",
        *(
            f'lianzheng_witness_lag_leaves{{witness="{_label(w.name)}"}} {w.lag_leaves}'
            for w in witnesses
        ),
    ]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
