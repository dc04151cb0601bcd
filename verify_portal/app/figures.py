"""The figures people watch the service by: the staff dashboard and the Prometheus metrics, one
function each. Counts, states and case numbers only; every figure is read from the database, so
every worker process shows the same."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anchor import records
from anchor.models import WorkerStatus
from evidence.models import EvidenceItem
from ledger.events import as_utc
from ledger.lifecycle import State
from ledger.models import Case, Leaf
from verify_portal.app import anchoring, counters, witnessing
from verify_portal.app.models import AuditRun

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services

UNDECIDED = (State.FILED.value, State.INVESTIGATING.value, State.NOTIFIED.value)
ACTIVITY_WINDOW = 10_000  # the newest leaves the officer-activity panel reads
RECENT_CASES = 20
OVERDUE_SHOWN = 50


@dataclass(frozen=True)
class AnchorLag:
    """Leaves not yet in an anchor on chain, and how long the oldest of them has waited."""

    log_size: int
    anchored_size: int
    seconds: float

    @property
    def waiting_leaves(self) -> int:
        return self.log_size - self.anchored_size


@dataclass(frozen=True)
class WitnessLag:
    """How far one witness's cosignatures are behind the log."""

    name: str
    cosigned_size: int
    lag_leaves: int


@dataclass(frozen=True)
class Dashboard:
    by_state: list[Any]  # (state, cases)
    by_district: list[Any]  # (district, cases)
    by_type: list[Any]  # (violation type, cases)
    recent: list[Any]  # (case_no, state, district, updated_at), newest first
    overdue: list[
        Any
    ]  # (case_no, state, created_at): undecided past the overdue limit, oldest first
    overdue_total: int  # all of them, not only the OVERDUE_SHOWN listed
    evidence: tuple[int, int, int]  # items, late, with a continuity finding
    orphans: int  # evidence items whose case is missing
    anchors: list[dict[str, Any]]  # the newest five
    worker: WorkerStatus | None
    audit: AuditRun | None  # the latest finished audit
    activity: list[tuple[str, int]]  # events per actor among the newest leaves, busiest first
    witnesses: list[WitnessLag]  # each configured witness's last cosigned size, and the quorum's
    witness_quorum: int


@dataclass(frozen=True)
class Metrics:
    lag: AnchorLag
    anchors: int
    evidence_items: int
    evidence_bytes: int
    audit: AuditRun | None
    verification_failures: dict[str, int]
    witnesses: list[WitnessLag]


def anchor_lag(services: Services) -> AnchorLag:
    """How far anchoring is behind the log (/readyz and /metrics)."""
    ident = anchoring.identity(services.settings)
    with services.sessions() as session:
        size = services.store.latest_size(session)
        newest = (
            []
            if ident is None
            else records.anchors(session, ident.chain_id, ident.contract, limit=1)
        )
        anchored = newest[0].size if newest else 0
        waiting_since = None
        if size > anchored:
            waiting_since = session.scalar(
                select(Leaf.appended_at).where(Leaf.leaf_index == anchored)
            )
    seconds = 0.0
    if waiting_since is not None:
        seconds = max(0.0, (datetime.now(UTC) - as_utc(waiting_since)).total_seconds())
    return AnchorLag(size, anchored, seconds)


def metrics(services: Services) -> Metrics:
    """The figures of one /metrics scrape."""
    lag = anchor_lag(services)
    ident = anchoring.identity(services.settings)
    with services.sessions() as session:
        totals = select(func.count(), func.coalesce(func.sum(EvidenceItem.size), 0))
        items, stored = session.execute(totals).one()
        anchors = 0 if ident is None else records.count(session, ident.chain_id, ident.contract)
        return Metrics(
            lag,
            anchors,
            items,
            stored,
            latest_audit(session),
            counters.verification_failures(session),
            witness_lags(services, session, witnessing.configured(services.settings).names),
        )


def dashboard(services: Services) -> Dashboard:
    """The staff dashboard's figures."""
    ident = anchoring.identity(services.settings)
    overdue_before = datetime.now(UTC) - timedelta(days=services.settings.overdue_days)
    witnessed = witnessing.configured(services.settings)  # the witness file, read once
    with services.sessions() as session:
        anchors = (
            []
            if ident is None
            else records.anchors(session, ident.chain_id, ident.contract, limit=5)
        )
        overdue = (Case.state.in_(UNDECIDED), Case.created_at < overdue_before)
        return Dashboard(
            # States in the order a case moves through them (DESIGN.md: Case lifecycle).
            by_state=sorted(_count_by(session, Case.state), key=lambda row: _lifecycle(row[0])),
            by_district=_count_by(session, Case.district),
            by_type=_count_by(session, Case.violation_type),
            recent=list(
                session.execute(
                    select(Case.case_no, Case.state, Case.district, Case.updated_at)
                    .order_by(Case.updated_at.desc())
                    .limit(RECENT_CASES)
                )
            ),
            overdue=list(
                session.execute(
                    select(Case.case_no, Case.state, Case.created_at)
                    .where(*overdue)
                    .order_by(Case.created_at)
                    .limit(OVERDUE_SHOWN)
                )
            ),
            overdue_total=session.execute(
                select(func.count()).select_from(Case).where(*overdue)
            ).scalar_one(),
            evidence=_evidence_counts(session),
            orphans=_orphans(session),
            anchors=[records.to_json(a) for a in anchors],
            worker=records.worker_status(session),
            audit=latest_audit(session),
            activity=_activity(session),
            witnesses=witness_lags(services, session, witnessed.names),
            witness_quorum=witnessed.quorum,
        )


def witness_lags(services: Services, session: Session, names: list[str]) -> list[WitnessLag]:
    """Each of the witnesses `names`: the last size it cosigned and the leaves since."""
    size = services.store.latest_size(session)
    cosigned = services.store.cosigned_sizes(session)
    return [WitnessLag(name, cosigned.get(name, 0), size - cosigned.get(name, 0)) for name in names]


def latest_audit(session: Session) -> AuditRun | None:
    """The latest finished audit run, if any."""
    done = (
        select(AuditRun).where(AuditRun.status == "done").order_by(AuditRun.ran_at.desc()).limit(1)
    )
    return session.scalars(done).first()


def _lifecycle(state: str) -> int:
    order = [s.value for s in State]
    return order.index(state) if state in order else len(order)


def _count_by(session: Session, column: Any) -> list[Any]:
    return list(session.execute(select(column, func.count()).group_by(column).order_by(column)))


def _evidence_counts(session: Session) -> tuple[int, int, int]:
    late = func.coalesce(func.sum(EvidenceItem.late), 0)
    items, late_items, breaks = session.execute(
        select(func.count(), late, func.count(EvidenceItem.continuity))
    ).one()
    return items, late_items, breaks


def _orphans(session: Session) -> int:
    missing_case = (
        select(func.count())
        .select_from(EvidenceItem)
        .outerjoin(Case, Case.case_no == EvidenceItem.case_no)
        .where(Case.case_no.is_(None))
    )
    return session.scalar(missing_case) or 0


def _activity(session: Session) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    newest = select(Leaf.data).order_by(Leaf.leaf_index.desc()).limit(ACTIVITY_WINDOW)
    for (data,) in session.execute(newest):
        actor = json.loads(data).get("actor", "?")
        counts[actor] = counts.get(actor, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:20]
