"""The whole audit (DESIGN.md, The log): the tree and checkpoints recomputed from the leaves, every
derived table rebuilt from them and compared row by row and column by column, every blob against its
hash, every anchored root against the chain. Run by `lianzheng audit`, or by a supervisor from the
dashboard in the background; each run is recorded for the dashboard and /metrics.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from evidence import audit as evidence_audit
from ledger import audit as ledger_audit
from ledger import derived
from ledger.audit import AuditReport
from ledger.errors import LianzhengError
from ledger.projection import LogProjection
from ledger.users import Action, Actor
from verify_portal.app import anchored
from verify_portal.app.models import AuditRun
from verify_portal.app.statements import StatementProjection

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services

log = logging.getLogger(__name__)
STALE_RUN = timedelta(hours=6)  # a run "running" longer than this died with its process
MAX_STORED_FINDINGS = 1000


class AuditRunning(LianzhengError):
    """An audit is already running: its result will be on the dashboard."""

    code = "audit-running"


class NoCleanAudit(LianzhengError):
    """An incremental audit needs a clean audit on record to start from."""

    code = "no-clean-audit"


def run_audit(
    services: Services,
    progress: Callable[[int, int], None] | None = None,
    incremental: bool = False,
) -> AuditReport:
    """Audit everything once; the report names each leaf, node, checkpoint, row and blob that
    differs. Incremental: only the log appended since the last clean audit (tree, checkpoints,
    cosignatures, case chains) and the anchors; the full audit rebuilds the derived tables and
    checks the blobs."""
    if incremental:
        since, unsealed = last_clean(services)
        if since is None:
            raise NoCleanAudit("no clean audit is on record to start from: run the full audit")
        with services.sessions() as session:
            report = ledger_audit.run(session, services.trust.latest(), progress, since=since)
        for run_id in unsealed:
            report.add(
                f"audit run {run_id}",
                "claims a clean audit but does not carry the service's seal: it was written or "
                "changed outside the service, and was not started from",
            )
        anchored.audit_chain(services, report)
        return report
    logged, evidence, statements = (
        LogProjection(),
        evidence_audit.EvidenceProjection(),
        StatementProjection(),
    )
    with services.sessions() as session:
        report = ledger_audit.run(
            session,
            services.trust.latest(),
            progress,
            observers=[logged.observe, evidence.observe, statements.observe],
        )
        derived.compare(session, logged, services.cases.party_secrets, report)
        evidence_audit.check(session, services.evidence.blobs, evidence, report)
        services.statements.compare(session, statements, report)
    anchored.audit_chain(services, report)
    return report


def last_clean(services: Services) -> tuple[ledger_audit.Since | None, list[int]]:
    """The size and root of the latest clean audit the service sealed, where an incremental one
    starts; and the newer rows that claim a clean audit without a valid seal (forged ones)."""
    key, unsealed = services.cases.party_secrets.record_key, list[int]()
    with services.sessions() as session:
        runs = session.scalars(
            select(AuditRun)
            .where(AuditRun.status == "done", AuditRun.clean == 1, AuditRun.root.is_not(None))
            .order_by(AuditRun.id.desc())
        )
        for run in runs:
            if run.size is None or run.root is None:
                continue
            if run.seal is not None and hmac.compare_digest(
                bytes(run.seal), _seal(key, run.size, bytes(run.root))
            ):
                return ledger_audit.Since(run.size, bytes(run.root)), unsealed
            unsealed.append(run.id)
    return None, unsealed


def _seal(key: bytes, size: int, root: bytes) -> bytes:
    """The service's HMAC over a clean audit's size and root (a fixed-width message)."""
    message = b"lianzheng-clean-audit\x00" + size.to_bytes(8, "big") + root
    return hmac.new(key, message, hashlib.sha256).digest()


def audit_and_record(
    services: Services,
    started_by: str = "cli",
    progress: Callable[[int, int], None] | None = None,
    run_id: int | None = None,
    incremental: bool = False,
) -> AuditReport:
    """Run the audit and record it: running while it runs, then its outcome."""
    run_id = _start(services, started_by) if run_id is None else run_id
    try:
        report = run_audit(services, progress, incremental)
    except BaseException:
        _finish(services, run_id, None)
        raise
    _finish(services, run_id, report)
    return report


def start_in_background(services: Services, actor: Actor) -> None:
    """Start an audit from the dashboard; it runs in this process, its result appears when done."""
    actor.require(Action.RUN_AUDIT)
    if running(services) is not None:
        raise AuditRunning("an audit is running already; its result will appear on the dashboard")
    run_id = _start(services, actor.username)  # on record before this request answers

    def work() -> None:
        try:
            audit_and_record(services, started_by=actor.username, run_id=run_id)
        except Exception:  # noqa: BLE001 - recorded as failed; the process goes on serving
            log.exception("the audit started from the dashboard failed")

    threading.Thread(target=work, name="audit", daemon=True).start()


def running(services: Services) -> AuditRun | None:
    with services.sessions() as session:
        run = session.scalars(
            select(AuditRun)
            .where(AuditRun.status == "running")
            .order_by(AuditRun.ran_at.desc())
            .limit(1)
        ).first()
    if run is None or datetime.now(UTC) - run.ran_at > STALE_RUN:
        return None
    return run


def _start(services: Services, started_by: str) -> int:
    with services.sessions.begin() as session:
        run = AuditRun(
            ran_at=datetime.now(UTC),
            status="running",
            started_by=started_by[:64],
            clean=0,
            open_findings=0,
            summary="running",
            findings="[]",
            acknowledged="[]",
        )
        session.add(run)
        session.flush()
        return run.id


def _finish(services: Services, run_id: int, report: AuditReport | None) -> None:
    with services.sessions.begin() as session:
        run = session.get_one(AuditRun, run_id)
        run.finished_at = datetime.now(UTC)
        if report is None:
            run.status, run.summary = "failed", "the audit stopped before it finished"
            return
        body = report.to_json()
        run.status, run.clean, run.open_findings = "done", int(report.clean), len(report.findings)
        run.size, run.root, run.since = report.size, report.root, report.since
        if report.clean and report.root is not None:
            run.seal = _seal(services.cases.party_secrets.record_key, report.size, report.root)
        run.summary = report.summary()[:500]
        run.findings = json.dumps(body["findings"][:MAX_STORED_FINDINGS], ensure_ascii=False)
        run.acknowledged = json.dumps(
            body["acknowledged"][:MAX_STORED_FINDINGS], ensure_ascii=False
        )
