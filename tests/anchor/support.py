"""Helpers of the anchoring tests: contract transactions from anvil's accounts, log appends,
workers."""

from __future__ import annotations

import contextlib
import itertools

from anchor.account import development_account
from anchor.contract import AnchorContract, refusals
from anchor.leader import Leadership
from anchor.models import AnchorRecord
from anchor.policy import Policy
from anchor.worker import AnchorWorker, Target
from verify_portal.app.services import Services

_counter = itertools.count()


def transact(contract: AnchorContract, function: str, *args: object, sender: int = 0) -> dict:
    """Call `function(*args)` from development account `sender` and wait for the receipt.

    A refusal raises AnchorRefused whose details name the contract's custom error.
    """
    account = development_account(sender)
    chain = contract.chain
    call = getattr(contract.functions, function)(*args)
    with refusals(function):
        gas = call.estimate_gas({"from": account.address})
    fees = chain.fees()
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": chain.nonce(account.address),
            "gas": gas * 2,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.priority_fee,
            "chainId": chain.chain_id,
        }
    )
    signed = account.sign_transaction(tx)
    chain.send_raw(bytes(signed.raw_transaction))
    receipt = chain.w3.eth.wait_for_transaction_receipt(signed.hash, timeout=30)
    assert receipt["status"] == 1
    return receipt


def append(services: Services, n: int) -> int:
    """Append `n` events in one write; return the new log size."""
    with services.store.transaction(services.sessions) as tx:
        tx.append([(b'{"event":%d}' % next(_counter), None) for _ in range(n)])
    return tx.size


class AlwaysLeader:
    """Leadership for single-worker tests."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def cycle(self) -> contextlib.nullcontext:
        return contextlib.nullcontext()


FAST = Policy(
    interval=0.0, max_leaves=10_000, confirmations=3, stuck_after=3600, poll=0.05, receipt_wait=5
)


def worker(
    services: Services,
    target: Target,
    policy: Policy = FAST,
    leadership: Leadership | None = None,
    **kwargs: object,
) -> AnchorWorker:
    return AnchorWorker(
        services.sessions, services.store, target, policy, leadership or AlwaysLeader(), **kwargs
    )  # type: ignore[arg-type]


def records(services: Services) -> list[AnchorRecord]:
    with services.sessions() as session:
        return list(session.query(AnchorRecord).order_by(AnchorRecord.size))


def settle(w: AnchorWorker, chain, rounds: int = 10) -> None:  # type: ignore[no-untyped-def]
    """Cycle until every anchor is final, mining past anvil's finality lag (64 blocks) when
    needed."""
    for _ in range(rounds):
        w.cycle()
        if all(r.status == "final" for r in records_of(w)):
            return
        chain.rpc("anvil_mine", [65])
    raise AssertionError("anchors did not become final")


def records_of(w: AnchorWorker) -> list[AnchorRecord]:
    with w.sessions() as session:
        return list(session.query(AnchorRecord))
