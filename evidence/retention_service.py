"""Legal holds and the retention run (DESIGN.md: Storage and scale, Retention; the rules are in
evidence/retention.py).

Every decision is folded from the case's own leaves, read inside the log transaction that records
it (which holds the append lock): a hold set a moment before a purge is seen by it, and no table
edited behind the log's back can make an item look expired. A purge is recorded first and the blob
deleted after the commit, so a crash in between leaves a recorded purge whose blob the next run
deletes, never a blob gone without a record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from evidence import retention
from evidence.blobstore import BlobStore
from evidence.errors import HoldConflict, Purged
from evidence.models import EvidenceItem
from evidence.retention import CaseRetention, ItemState, Rules
from ledger import merkle
from ledger.cases import CaseService
from ledger.errors import InvalidInput, LianzhengError, StoredStateMismatch, VerificationError
from ledger.event_types import EVIDENCE_CUSTODY
from ledger.events import Event
from ledger.lifecycle import State
from ledger.models import Case
from ledger.projection import INTAKE
from ledger.storage import LogStore, LogTransaction, case_leaves
from ledger.trust import TrustRoot, verify_checkpoint
from ledger.users import Action, Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    """An item the rules let go, or one they would but its store still locks."""

    case_no: str  # INTAKE for docked footage no case holds
    evidence_id: str
    sha256: str
    kept_until: datetime
    rule: str  # the rule that lets it go
    locked_until: datetime | None = None  # the store's lock, when it still holds


@dataclass
class RunReport:
    """What a retention run purged (or, dry, would purge), and what it had to leave."""

    rule: str  # the case rule
    unlinked_rule: str  # the rule for docked footage no case holds
    purged: list[Due] = field(default_factory=list)
    locked: list[Due] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # case number -> why it was left alone
    blobs_deleted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "unlinked_rule": self.unlinked_rule,
            "purged": [_due_json(d) for d in self.purged],
            "locked": [_due_json(d) for d in self.locked],
            "refused": self.refused,
            "blobs_deleted": self.blobs_deleted,
        }


def _due_json(due: Due) -> dict[str, Any]:
    return {
        "case_no": due.case_no,
        "evidence_id": due.evidence_id,
        "sha256": due.sha256,
        "kept_until": due.kept_until.isoformat(),
        "rule": due.rule,
        "locked_until": None if due.locked_until is None else due.locked_until.isoformat(),
    }


def case_retention(session: Session, case_no: str) -> CaseRetention:
    """The retention state of a case (or of the intake chain's docked footage), folded from its
    leaves."""
    leaves = case_leaves(session, case_no)
    return retention.fold((Event.decode(leaf.data) for leaf in leaves), case_no == INTAKE)


def signed_case_retention(
    session: Session, store: LogStore, root: TrustRoot, case_no: str
) -> CaseRetention:
    """The retention state of a case, folded only once each of its leaves is shown to be in the
    tree a checkpoint key of `root` signed: what a purge deletes is decided by the log, never by
    rows someone with the database alone could have written (VerificationError otherwise)."""
    return signed_chain(session, store, root, case_no).state


@dataclass(frozen=True)
class SignedChain:
    """A chain's retention state folded from leaves proven in a signed tree of `size`."""

    chain: str
    state: CaseRetention
    size: int

    def touched_since(self, session: Session) -> set[str]:
        """The items that events of the chain appended after this fold name (a link, a hold, a
        purge since): a run that decided from the fold leaves them for the next one."""
        leaves = case_leaves(session, self.chain, start=self.size)
        return {str(Event.decode(leaf.data).payload.get("evidence_id")) for leaf in leaves}


def signed_chain(session: Session, store: LogStore, root: TrustRoot, case_no: str) -> SignedChain:
    """`signed_case_retention`, with the signed size it was folded at."""
    signed = verify_checkpoint(root, store.checkpoint(session).note).checkpoint
    leaves = case_leaves(session, case_no)
    outside = [leaf.index for leaf in leaves if leaf.index >= signed.size]
    if outside:
        raise VerificationError(f"case {case_no} has leaves past the signed size: {outside[:3]}")
    proofs = store.inclusion_proofs(session, [leaf.index for leaf in leaves], signed.size)
    for leaf, proof in zip(leaves, proofs, strict=True):
        digest = merkle.leaf_hash(leaf.data)
        if digest != leaf.leaf_hash:
            raise VerificationError(f"leaf {leaf.index}'s bytes do not give its leaf hash")
        merkle.verify_inclusion(leaf.index, signed.size, digest, proof.proof, signed.root)
    state = retention.fold((Event.decode(leaf.data) for leaf in leaves), case_no == INTAKE)
    return SignedChain(case_no, state, signed.size)


class RetentionService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        cases: CaseService,
        blobs: BlobStore,
        rules: Rules,
        trust_root: Callable[[], TrustRoot],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.cases, self.blobs, self.rules = sessions, cases, blobs, rules
        self.trust_root = trust_root  # the deployment's own root: whose checkpoints to believe
        self.now = now

    # --- legal holds --------------------------------------------------------------

    def hold(self, actor: Actor, item: EvidenceItem, reason: str) -> dict[str, Any]:
        """Put `item` under a legal hold: kept past any rule until the hold is lifted."""
        return self._hold_event(actor, item, retention.HOLD, reason, retention.HOLD_REASONS)

    def lift(self, actor: Actor, item: EvidenceItem, reason: str) -> dict[str, Any]:
        """Lift the legal hold on `item`: its rule applies again."""
        return self._hold_event(actor, item, retention.LIFT, reason, retention.LIFT_REASONS)

    def _hold_event(
        self, actor: Actor, item: EvidenceItem, action: str, reason: str, reasons: tuple[str, ...]
    ) -> dict[str, Any]:
        actor.require(Action.HOLD_EVIDENCE)
        if reason not in reasons:
            raise InvalidInput(f"say why with a reason, one of {', '.join(reasons)}")

        def work(tx: LogTransaction) -> dict[str, Any]:
            state = case_retention(tx.session, item.case_no).items.get(item.id)
            if state is None:
                raise StoredStateMismatch(
                    f"evidence {item.id} is not registered in case {item.case_no}'s chain: "
                    "run `lianzheng audit`"
                )
            refuse_purged(state)
            if action == retention.HOLD and state.hold is not None:
                raise HoldConflict(f"evidence {item.id} is already held ({state.hold})")
            if action == retention.LIFT and state.hold is None:
                raise HoldConflict(f"evidence {item.id} is not under a legal hold")
            payload = _custody(item.id, item.sha256, action, actor.role.value, reason)
            if item.case_no == INTAKE:
                return self.cases.append_chain_event(tx, actor, INTAKE, EVIDENCE_CUSTODY, payload)
            return self.cases.append_event(tx, actor, item.case_no, EVIDENCE_CUSTODY, payload)

        return self.cases.write(actor, None, work)

    # --- the retention run ----------------------------------------------------------

    def run(self, actor: Actor, dry_run: bool, as_of: datetime | None = None) -> RunReport:
        """Purge what the rules let go (with `dry_run`, only say what that is, as of `as_of` if
        given: a purge itself always uses the present)."""
        actor.require(Action.PURGE_EVIDENCE)
        if as_of is not None and not dry_run:
            raise InvalidInput("--as-of plans a run: it goes with --dry-run only")
        now = as_of or self.now()
        report = RunReport(self.rules.code, self.rules.unlinked_code)
        purged_blobs: set[str] = set()  # of items purged, in this run or (killed) an earlier one
        for case_no in [*self._ended_cases(now), INTAKE]:
            try:
                purged_blobs |= self._run_case(actor, case_no, now, dry_run, report)
            except LianzhengError as exc:  # e.g. a case row that disagrees with its log
                log.warning("retention: case %s left alone: %s", case_no, exc.code)
                report.refused[case_no] = exc.message
        if not dry_run:
            report.blobs_deleted = self._delete_purged_blobs(purged_blobs)
        return report

    def _run_case(
        self, actor: Actor, case_no: str, now: datetime, dry_run: bool, report: RunReport
    ) -> set[str]:
        """Purge (or list) what is due in one case; the blobs of its items purged before and now.
        A case that cannot be decided raises."""
        with self.sessions() as session:
            case = case_retention(session, case_no)
        due = self._due(case, case_no, now)
        report.locked += [d for d in due if d.locked_until is not None]
        free = [d for d in due if d.locked_until is None]
        if free and not dry_run:
            done = self._purge(actor, case_no, {d.evidence_id for d in free}, now)
            for d in done:
                case.items[d.evidence_id].purged = (d.rule, now)
            report.purged += done
        elif free:
            report.purged += free
        return {
            blob
            for item in case.items.values()
            if item.purged is not None
            for blob in (item.sha256, item.poster_sha256)
            if blob is not None
        }

    def _ended_cases(self, now: datetime) -> list[str]:
        """Closed and withdrawn cases opened long enough ago to be due, from the cases table: a
        shortlist only (a row edited to hide a case keeps its evidence longer, never shorter), each
        case is folded again from its leaves before anything is decided."""
        ended = (State.CLOSED.value, State.WITHDRAWN.value)
        opened_by = retention.add_years(now, -self.rules.ended_years)
        with self.sessions() as session:
            query = (
                select(Case.case_no)
                .where(Case.state.in_(ended), Case.created_at <= opened_by)
                .order_by(Case.case_no)
            )
            return list(session.scalars(query))

    def _due(self, case: CaseRetention, case_no: str, now: datetime) -> list[Due]:
        if case.intake:
            months = self.rules.unlinked_months
            return [
                Due(
                    INTAKE,
                    i.evidence_id,
                    i.sha256,
                    retention.unlinked_until(i, months),
                    self.rules.unlinked_code,
                    self._locked(i),
                )
                for i in case.due(self.rules, now)
            ]
        until = case.kept_until(self.rules.ended_years)
        if until is None:
            return []
        return [
            Due(case_no, i.evidence_id, i.sha256, until, self.rules.code, self._locked(i))
            for i in case.due(self.rules, now)
        ]

    def _locked(self, item: ItemState) -> datetime | None:
        locks = [self.blobs.locked_until(s) for s in (item.sha256, item.poster_sha256) if s]
        return max((lock for lock in locks if lock is not None), default=None)

    def _purge(self, actor: Actor, case_no: str, wanted: set[str], now: datetime) -> list[Due]:
        """Record the purge of the `wanted` items of a case that are still due, in one log
        transaction that folds the case again under the append lock."""

        root = self.trust_root()
        # The intake chain grows with every docked file: it is proven and folded before the append
        # lock is taken, and under it only what was appended since is read.
        intake = self._signed_intake(root) if case_no == INTAKE else None

        def work(tx: LogTransaction) -> dict[str, Any]:
            if intake is None:
                case = signed_case_retention(tx.session, self.cases.store, root, case_no)
                since: set[str] = set()
            else:
                case, since = intake.state, intake.touched_since(tx.session)
            due = [
                d
                for d in self._due(case, case_no, now)
                if d.evidence_id in wanted and d.evidence_id not in since and d.locked_until is None
            ]
            for d in due:
                payload = _custody(
                    d.evidence_id, d.sha256, retention.PURGE, actor.role.value, d.rule
                )
                if case_no == INTAKE:
                    self.cases.append_chain_event(tx, actor, INTAKE, EVIDENCE_CUSTODY, payload)
                else:
                    self.cases.append_event(tx, actor, case_no, EVIDENCE_CUSTODY, payload)
            return {"due": due}

        due: list[Due] = self.cases.write(actor, None, work)["due"]
        log.info("retention: purged %d item(s) of %s", len(due), case_no)
        return due

    def _signed_intake(self, root: TrustRoot) -> SignedChain:
        with self.sessions() as session:
            return signed_chain(session, self.cases.store, root, INTAKE)

    def _delete_purged_blobs(self, purged: set[str]) -> int:
        """Delete the `purged` blobs (and posters) that no kept item uses; how many.

        Each is checked and deleted under the append lock, which a registration holds too: an
        upload of the same bytes registered meanwhile is seen here, or finds the blob gone and is
        refused (EvidenceService._record), never registered without its bytes."""
        root, deleted = self.trust_root(), 0
        intake = self._signed_intake(root) if purged else None
        for blob in sorted(purged):
            if not self.blobs.exists(blob):
                continue
            if self.blobs.locked_until(blob) is not None:  # the store keeps it: a later run
                log.warning("retention: blob %s of a purged item is still locked", blob)
                continue
            with self.cases.store.transaction(self.sessions) as tx:
                if not _still_used(tx.session, self.cases.store, root, blob, intake):
                    self.blobs.delete(blob)
                    deleted += 1
        return deleted


def _still_used(
    session: Session, store: LogStore, root: TrustRoot, blob: str, intake: SignedChain | None
) -> bool:
    """Whether an item not purged, of any case or the intake chain, has `blob` as its file or its
    poster, as the signed log says (a case that cannot be shown to be in it keeps the blob; so
    does docked footage the intake chain named after `intake` was folded)."""
    states: dict[str, CaseRetention] = {}
    recent: set[str] = set()
    if intake is not None:
        states[INTAKE], recent = intake.state, intake.touched_since(session)
    users = session.execute(
        select(EvidenceItem.id, EvidenceItem.case_no).where(
            or_(EvidenceItem.sha256 == blob, EvidenceItem.poster_sha256 == blob)
        )
    )
    for evidence_id, case_no in users:
        if evidence_id in recent:
            return True
        if case_no not in states:
            try:
                states[case_no] = signed_case_retention(session, store, root, case_no)
            except VerificationError:
                log.warning("retention: case %s is not shown in the signed log", case_no)
                return True
        item = states[case_no].items.get(evidence_id)
        if item is None or item.purged is None:
            return True
    return False


def refuse_purged(item: ItemState) -> None:
    """Raise Purged if the item's blob went under a retention rule."""
    if item.purged is not None:
        rule, at = item.purged
        raise Purged(
            f"evidence {item.evidence_id} was purged under rule {rule} on {at:%Y-%m-%d}: its "
            "record and hashes stay in the log, its bytes are gone"
        )


def _custody(evidence_id: str, sha256: str, action: str, role: str, reason: str) -> dict[str, Any]:
    return {
        "evidence_id": evidence_id,
        "sha256": sha256,
        "action": action,
        "role": role,
        "reason": reason,
    }
