"""The anchor worker: puts the log's latest checkpoint on chain, exactly once, and follows it to
finality.

Exactly once rests on three rules (DESIGN.md: Chain):
1. An anchor's record, with its signed raw transaction, is committed before
   the transaction is sent. A crash after that leaves a `pending` record that
   the next cycle settles; a crash before it leaves nothing to settle.
2. Settling asks the chain, which is the source of truth: a transaction receipt, else the
   contract's root at that size, else the pool; only a transaction that the
   chain does not know at all is sent again, and then as the same bytes.
3. Only one anchor transaction is in flight at a time, and the contract itself
   refuses a second anchor of a size (AlreadyAnchored): a duplicate can waste
   gas but never record twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from anchor.chain import Chain, TxReceipt
from anchor.contract import AnchorContract, AnchoredEvent
from anchor.errors import ChainError, ChainUnavailable, HistoryMismatch
from anchor.leader import Leadership
from anchor.models import AnchorRecord, AnchorStatus, WorkerStatus
from anchor.policy import Fees, Policy, anchor_due, is_final, replacement_fees
from ledger.events import as_utc
from ledger.storage import LogStore

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
STATUS_EVERY = 5.0  # seconds between heartbeats of a healthy worker


@dataclass(frozen=True)
class Target:
    """Where anchors go: a chain, the deployed contract, the signing account."""

    chain: Chain
    contract: AnchorContract
    account: LocalAccount
    deploy_block: int = 0
    # Only the embedded anvil, which mines nothing on its own: a block per call while an anchor
    # awaits finality.
    produce_block: Callable[[], None] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class AnchorWorker:
    """Anchors one log on one contract. `run` loops; `cycle` does one pass (tests drive it
    directly)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: LogStore,
        target: Target,
        policy: Policy,
        leadership: Leadership,
        on_step: Callable[[str], None] = lambda step: None,
        anchorable: Callable[[Session], int] | None = None,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.target = target
        self.policy = policy
        self.leadership = leadership
        # fault injection in tests: called at "before_send", "after_send", "after_receipt"
        self.on_step = on_step
        # The largest size that may be anchored: the latest checkpoint, or, with a witness
        # quorum, the latest one the quorum cosigned (DESIGN.md: Witnesses).
        self.anchorable = anchorable or store.latest_size
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._reconciled = False
        self._down_since: datetime | None = None
        self._reported_at: datetime | None = None

    @property
    def chain(self) -> Chain:
        return self.target.chain

    @property
    def contract(self) -> AnchorContract:
        return self.target.contract

    # --- the loop ------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Cycle until `stop` is set, backing off while the chain is down."""
        delay = self.policy.poll
        try:
            while not stop.is_set():
                delay = self._guarded_cycle(delay)
                stop.wait(delay)
        finally:
            self.leadership.release()

    def run_once(self) -> bool:
        """One cycle if this worker gets the lock, reported in the status row; errors propagate."""
        if not self.leadership.acquire():
            log.info("another worker holds the anchoring lock")
            return False
        try:
            with self.leadership.cycle():
                self.cycle()
        except ChainError as exc:
            self._report(exc.message)
            raise
        finally:
            self.leadership.release()
        self._reported_at = None  # always write: a one-shot run has no later heartbeat
        self._report(None)
        return True

    def _guarded_cycle(self, delay: float) -> float:
        """One cycle; returns the delay before the next (doubling while the chain fails)."""
        try:
            if not self.leadership.acquire():
                return self.policy.poll  # another instance anchors; look again later
            with self.leadership.cycle():
                self.cycle()
            self._report(None)
            return self.policy.poll
        except ChainUnavailable as exc:
            self._report(exc.message)
            log.warning(
                "anchoring paused, retrying in %.0f s: %s", min(delay * 2, MAX_BACKOFF), exc.message
            )
        except ChainError as exc:
            self._report(exc.message)
            log.error("anchoring stopped by the chain's answer: %s", exc.message)
        return min(delay * 2, MAX_BACKOFF)

    def cycle(self) -> None:
        """Reconcile with the chain (first time), settle open anchors, then anchor if due."""
        if not self._reconciled:
            self.reconcile()
            self._reconciled = True
        if self.settle():
            self.anchor_if_due()

    # --- reconciling with the chain on start ---------------------------------------

    def reconcile(self) -> None:
        """Make the records agree with the contract, the source of truth after a restart.

        Anchors on chain without a record (a database restored from before them)
        are recorded; records the chain no longer holds are reopened as pending.
        The contract's latest root must be the log's at that size; the earlier
        anchors were each proven consistent with it on chain, so they are ours too.
        """
        size_c, root_c = self.contract.latest()
        with self.sessions.begin() as session:
            recorded = {r.size for r in self._records(session)}
            self._check_history(session, size_c, root_c, self.store.latest_size(session))
        if size_c and size_c not in recorded:
            for event in self.contract.all_anchored_events(self.target.deploy_block):
                if event.size not in recorded:
                    self._adopt(event)
        with self.sessions.begin() as session:
            for record in self._records(session):
                if record.size > size_c and record.status != AnchorStatus.PENDING:
                    log.warning(
                        "anchor of size %d is recorded but not on chain: reopening it", record.size
                    )
                    record.status = AnchorStatus.PENDING

    def _adopt(self, event: AnchoredEvent) -> None:
        tx = self.chain.transaction(event.tx_hash)
        now = _now()
        with self.sessions.begin() as session:
            session.add(
                AnchorRecord(
                    chain_id=self.chain.chain_id,
                    contract=self.contract.address,
                    size=event.size,
                    root=event.root,
                    previous_size=event.previous_size,
                    status=AnchorStatus.MINED,
                    sender=tx["from"],
                    nonce=tx["nonce"],
                    tx_hash=event.tx_hash,
                    raw_tx=b"",
                    max_fee=int(tx.get("maxFeePerGas", 0)),
                    priority_fee=int(tx.get("maxPriorityFeePerGas", 0)),
                    attempts=1,
                    block_number=event.block_number,
                    block_hash=event.block_hash,
                    created_at=now,
                    sent_at=now,
                    mined_at=now,
                )
            )
        log.info(
            "recorded anchor of size %d found on chain in block %d", event.size, event.block_number
        )

    # --- settling open anchors -----------------------------------------------------

    def settle(self) -> bool:
        """Follow every unfinished anchor, oldest first; True when none is left pending.

        Stops at the first one still pending: the anchors after it were built
        on it, and only one transaction may be in flight.
        """
        with self.sessions.begin() as session:
            open_ids = [r.id for r in self._records(session) if r.status != AnchorStatus.FINAL]
        for record_id in open_ids:
            record = self._load(record_id)
            if record.status == AnchorStatus.MINED:
                record = self._settle_mined(record)
            if record.status == AnchorStatus.PENDING and not self._settle_pending(record):
                return False
        return True

    def _settle_pending(self, record: AnchorRecord) -> bool:
        """Bring a pending anchor forward; True once it is in a block."""
        tx_receipt = self.chain.tx_receipt(record.tx_hash)
        if tx_receipt is not None and tx_receipt.succeeded:
            self._mark_mined(record, tx_receipt)
            return True
        on_chain = self.contract.root_at(record.size)
        if on_chain is not None:
            return self._found_on_chain(record, on_chain)
        if tx_receipt is None and self.chain.in_pool(record.tx_hash):
            if (_now() - as_utc(record.sent_at)).total_seconds() >= self.policy.stuck_after:
                self._replace(record)
            return False
        if tx_receipt is None and self.chain.nonce(record.sender) <= record.nonce:
            log.info(
                "anchor of size %d: the chain does not know its transaction; sending it again",
                record.size,
            )
            self.chain.send_raw(
                record.raw_tx
            )  # the same bytes: the same hash, it cannot land twice
            return False
        # It reverted, or its nonce went to another transaction: build it anew on the chain's
        # current state.
        self._resign(record)
        return False

    def _found_on_chain(self, record: AnchorRecord, on_chain: bytes) -> bool:
        """The contract holds this size although our transaction has no receipt: adopt the chain's
        record."""
        if on_chain != record.root:
            raise HistoryMismatch(
                f"the contract holds another root at size {record.size}: "
                f"{on_chain.hex()} instead of the log's {record.root.hex()}"
            )
        events = self.contract.anchored_events(self.target.deploy_block, size=record.size)
        tx_receipt = self.chain.tx_receipt(events[-1].tx_hash) if events else None
        if tx_receipt is None:
            return False  # the node has not indexed it yet; look again next cycle
        self._mark_mined(record, tx_receipt)
        return True

    def _settle_mined(self, record: AnchorRecord) -> AnchorRecord:
        """Finalise a mined anchor, or reopen it when a reorganisation dropped its block."""
        block = self.chain.block(record.block_number or 0)
        if block is None or block.hash != record.block_hash:
            tx_receipt = self.chain.tx_receipt(record.tx_hash)
            if tx_receipt is not None and tx_receipt.succeeded:
                log.warning(
                    "anchor of size %d moved to block %d by a reorganisation",
                    record.size,
                    tx_receipt.block_number,
                )
                return self._mark_mined(record, tx_receipt)
            log.warning(
                "anchor of size %d: its block %d was dropped by a reorganisation; re-submitting",
                record.size,
                record.block_number,
            )
            return self._update(
                record, status=AnchorStatus.PENDING, block_number=None, block_hash=None
            )
        if self._is_final(block.number):
            return self._update(record, status=AnchorStatus.FINAL, final_at=_now())
        if self.target.produce_block is not None:
            self.target.produce_block()  # a local chain: its blocks on top come when asked for
            if self._is_final(block.number):
                return self._update(record, status=AnchorStatus.FINAL, final_at=_now())
        return record

    def _is_final(self, block_number: int) -> bool:
        return is_final(
            self.policy, block_number, self.chain.finalized_number(), self.chain.latest_number()
        )

    # --- anchoring -----------------------------------------------------------------

    def anchor_if_due(self) -> AnchorRecord | None:
        """Anchor the latest checkpoint when the policy says so; None when nothing was sent."""
        size_c, root_c = self.contract.latest()
        with self.sessions.begin() as session:
            self._check_history(session, size_c, root_c, self.store.latest_size(session))
            ready = self.anchorable(session)
            last = session.execute(
                select(AnchorRecord.sent_at)
                .where(*self._of_this_target())
                .order_by(AnchorRecord.size.desc())
                .limit(1)
            ).scalar()
        last_sent = None if last is None else as_utc(last).timestamp()
        if not anchor_due(self.policy, ready, size_c, last_sent, time.time()):
            return None
        record = self._sign_new(ready, size_c)
        if record is None:
            return None
        self.on_step("before_send")
        self.chain.send_raw(record.raw_tx)
        self.on_step("after_send")
        tx_receipt = self._wait_tx_receipt(record.tx_hash)
        if tx_receipt is None:
            return record  # still in the pool: the next cycles settle it
        self.on_step("after_receipt")
        if not tx_receipt.succeeded:
            return record  # reverted (the chain moved meanwhile): settling re-builds it
        return self._mark_mined(record, tx_receipt)

    def _check_history(self, session: Session, size_c: int, root_c: bytes, log_size: int) -> None:
        """Refuse to anchor on top of a contract whose latest root is not the log's at that size."""
        if size_c == 0:
            return
        if size_c > log_size:
            raise HistoryMismatch(
                f"the contract has anchored size {size_c} but the log holds only {log_size} "
                "leaves: acknowledged events are missing from the database"
            )
        ours = self.store.root(session, size_c)
        if ours != root_c:
            raise HistoryMismatch(
                f"the contract's root at size {size_c} is {root_c.hex()}, the log's is "
                f"{ours.hex()}: the log was rewritten or the contract belongs to another log"
            )

    def _sign_new(self, size: int, previous: int) -> AnchorRecord | None:
        """Sign the anchor of the checkpoint at `size` and record it, before anything is sent."""
        with self.sessions.begin() as session:
            root = self.store.checkpoint(session, size).root
            proof = (
                [] if previous == 0 else self.store.consistency_proof(session, previous, size).proof
            )
        nonce = self.chain.nonce(self.target.account.address)
        raw, tx_hash, fees = self._sign(size, root, proof, nonce, self.chain.fees())
        now = _now()
        record = AnchorRecord(
            chain_id=self.chain.chain_id,
            contract=self.contract.address,
            size=size,
            root=root,
            previous_size=previous,
            status=AnchorStatus.PENDING,
            sender=self.target.account.address,
            nonce=nonce,
            tx_hash=tx_hash,
            raw_tx=raw,
            max_fee=fees.max_fee,
            priority_fee=fees.priority_fee,
            attempts=1,
            created_at=now,
            sent_at=now,
        )
        try:
            with self.sessions.begin() as session:
                session.add(record)
        except IntegrityError:
            log.warning(
                "anchor of size %d was recorded by another worker; leaving it to that one", size
            )
            return None
        log.info("anchoring size %d (from %d) with nonce %d", size, previous, nonce)
        return record

    def _sign(
        self, size: int, root: bytes, proof: list[bytes], nonce: int, fees: Fees
    ) -> tuple[bytes, bytes, Fees]:
        account = self.target.account
        tx = self.contract.anchor_transaction(size, root, proof, account.address, nonce, fees)
        # eth-account types its argument as a plain dict; web3 builds the TypedDict TxParams.
        signed = account.sign_transaction(cast(dict[str, Any], tx))
        return bytes(signed.raw_transaction), bytes(signed.hash), fees

    def _replace(self, record: AnchorRecord) -> None:
        """Re-price a transaction stuck in the pool: same nonce, higher fees, so only one can
        land."""
        fees = replacement_fees(Fees(record.max_fee, record.priority_fee), self.chain.fees())
        proof = self._proof_for(record.previous_size, record.size)
        raw, tx_hash, fees = self._sign(record.size, record.root, proof, record.nonce, fees)
        record = self._update(
            record,
            tx_hash=tx_hash,
            raw_tx=raw,
            max_fee=fees.max_fee,
            priority_fee=fees.priority_fee,
            attempts=record.attempts + 1,
            sent_at=_now(),
        )
        log.warning(
            "anchor of size %d stuck in the pool; replaced with max fee %d wei (nonce %d)",
            record.size,
            fees.max_fee,
            record.nonce,
        )
        self.chain.send_raw(raw)

    def _resign(self, record: AnchorRecord) -> None:
        """Build the anchor again on the contract's current state with the account's next nonce."""
        size_c, _ = self.contract.latest()
        nonce = self.chain.nonce(record.sender)
        fees = self.chain.fees()
        if nonce == record.nonce:  # our old transaction may still sit in some pool: outbid it
            fees = replacement_fees(Fees(record.max_fee, record.priority_fee), fees)
        raw, tx_hash, fees = self._sign(
            record.size, record.root, self._proof_for(size_c, record.size), nonce, fees
        )
        record = self._update(
            record,
            previous_size=size_c,
            nonce=nonce,
            tx_hash=tx_hash,
            raw_tx=raw,
            max_fee=fees.max_fee,
            priority_fee=fees.priority_fee,
            attempts=record.attempts + 1,
            sent_at=_now(),
        )
        log.warning(
            "anchor of size %d re-submitted from size %d with nonce %d", record.size, size_c, nonce
        )
        self.chain.send_raw(raw)

    def _proof_for(self, previous: int, size: int) -> list[bytes]:
        if previous == 0:
            return []
        with self.sessions.begin() as session:
            return self.store.consistency_proof(session, previous, size).proof

    def _wait_tx_receipt(self, tx_hash: bytes) -> TxReceipt | None:
        deadline = time.monotonic() + self.policy.receipt_wait
        while True:
            tx_receipt = self.chain.tx_receipt(tx_hash)
            if tx_receipt is not None or time.monotonic() >= deadline:
                return tx_receipt
            time.sleep(0.1)

    # --- records -------------------------------------------------------------------

    def _of_this_target(self) -> tuple[ColumnElement[bool], ...]:
        return (
            AnchorRecord.chain_id == self.chain.chain_id,
            AnchorRecord.contract == self.contract.address,
        )

    def _records(self, session: Session) -> list[AnchorRecord]:
        return list(
            session.scalars(
                select(AnchorRecord).where(*self._of_this_target()).order_by(AnchorRecord.size)
            )
        )

    def _load(self, record_id: int) -> AnchorRecord:
        with self.sessions.begin() as session:
            return session.get_one(AnchorRecord, record_id)

    def _update(self, record: AnchorRecord, **values: object) -> AnchorRecord:
        with self.sessions.begin() as session:
            row = session.get_one(AnchorRecord, record.id)
            for name, value in values.items():
                setattr(row, name, value)
        return row

    def _mark_mined(self, record: AnchorRecord, tx_receipt: TxReceipt) -> AnchorRecord:
        if not any(
            e.size == record.size and e.root == record.root
            for e in self.contract.events_in_tx_receipt(tx_receipt.logs)
        ):
            raise ChainError(
                f"transaction {tx_receipt.tx_hash.hex()} succeeded without anchoring size "
                f"{record.size}"
            )
        log.info("anchor of size %d in block %d", record.size, tx_receipt.block_number)
        return self._update(
            record,
            status=AnchorStatus.MINED,
            tx_hash=tx_receipt.tx_hash,
            block_number=tx_receipt.block_number,
            block_hash=tx_receipt.block_hash,
            gas_used=tx_receipt.gas_used,
            mined_at=_now(),
        )

    def _report(self, error: str | None) -> None:
        """Keep the worker's status row current: healthy, or since when the chain is down and why.

        A healthy worker rewrites it every few seconds only, to keep writes off the log's database.
        """
        now = _now()
        if (
            error is None
            and self._down_since is None
            and self._reported_at is not None
            and (now - self._reported_at).total_seconds() < STATUS_EVERY
        ):
            return
        if error is None:
            self._down_since = None
        elif self._down_since is None:
            self._down_since = now
        self._reported_at = now
        with self.sessions.begin() as session:
            row = session.get(WorkerStatus, 1) or WorkerStatus(id=1)
            row.worker, row.checked_at, row.healthy = self.name, now, int(error is None)
            row.chain_down_since, row.last_error = self._down_since, error
            session.merge(row)
