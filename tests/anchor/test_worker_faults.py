"""Exactly once under faults: the worker killed at each step, a reorganised chain, a stuck
transaction."""

import multiprocessing
import os

import pytest

from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.models import AnchorStatus
from anchor.worker import Target
from tests.anchor.support import FAST, append, records, settle, worker
from verify_portal.app.services import build

STEPS = ["before_send", "after_send", "after_receipt"]


def _run_until_killed(step, settings, rpc_url, address, deploy_block):  # runs in a forked child
    services = build(settings)
    chain = Chain(rpc_url)
    target = Target(chain, AnchorContract(chain, address), development_account(0), deploy_block)

    def kill(reached):
        if reached == step:
            os._exit(9)  # no cleanup, no rollback handlers: as abrupt as kill -9

    worker(services, target, on_step=kill).cycle()
    os._exit(0)


def _kill_worker_at(step, services, target):
    child = multiprocessing.get_context("fork").Process(
        target=_run_until_killed,
        args=(
            step,
            services.settings,
            target.chain.url,
            target.contract.address,
            target.deploy_block,
        ),
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9, f"the worker did not reach {step}"


def _assert_each_anchor_once(services, target, sizes, nonce_before):
    chain_events = target.contract.anchored_events(target.deploy_block)
    assert [e.size for e in chain_events] == sizes
    assert [(r.size, r.tx_hash) for r in records(services)] == [
        (e.size, e.tx_hash) for e in chain_events
    ]
    # One transaction per anchor from the anchor account: nothing was sent twice.
    assert target.chain.nonce(target.account.address) - nonce_before == len(sizes)


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_killed_at_any_step_leaves_every_anchor_recorded_once(services, target, step):
    nonce_before = target.chain.nonce(target.account.address)
    append(services, 5)
    _kill_worker_at(step, services, target)
    [record] = records(services)
    assert record.status == AnchorStatus.PENDING  # recorded before sending, whatever happened next
    assert (target.contract.latest()[0] == 5) is (step != "before_send")

    restarted = worker(services, target)
    settle(restarted, target.chain)
    _assert_each_anchor_once(services, target, [5], nonce_before)
    assert records(services)[0].status == AnchorStatus.FINAL

    append(services, 3)  # and anchoring goes on from there, without a gap
    settle(restarted, target.chain)
    _assert_each_anchor_once(services, target, [5, 8], nonce_before)
    assert records(services)[1].previous_size == 5


def test_killed_at_every_step_in_turn_the_chain_and_the_records_still_agree(services, target):
    nonce_before = target.chain.nonce(target.account.address)
    sizes = []
    for step in STEPS:
        sizes.append(append(services, 2))
        _kill_worker_at(step, services, target)
        settle(worker(services, target), target.chain)
    _assert_each_anchor_once(services, target, sizes, nonce_before)


def _private_target(node):
    chain = Chain(node.url)
    address, block, _ = deploy(chain, development_account(0))
    return Target(chain, AnchorContract(chain, address), development_account(0), block)


def test_an_anchor_whose_block_a_reorganisation_dropped_is_submitted_again(services, private_anvil):
    target = _private_target(private_anvil)
    chain = target.chain
    append(services, 7)
    w = worker(services, target)
    w.cycle()
    [mined] = records(services)
    chain.rpc("anvil_reorg", [chain.latest_number() - mined.block_number + 1, []])
    assert chain.block(mined.block_number).hash != mined.block_hash
    assert target.contract.latest()[0] == 0  # the new canonical chain has no anchor

    settle(w, chain)
    [record] = records(services)
    assert record.status == AnchorStatus.FINAL
    assert target.contract.latest() == (7, record.root)
    assert chain.block(record.block_number).hash == record.block_hash
    assert [e.size for e in target.contract.anchored_events(target.deploy_block)] == [7]


def test_a_transaction_stuck_in_the_pool_is_replaced_with_a_higher_fee_not_duplicated(
    services, private_anvil
):
    target = _private_target(private_anvil)
    chain = target.chain
    chain.rpc("evm_setAutomine", [False])  # nothing gets mined: the anchor sits in the pool
    nonce_before = chain.nonce(target.account.address)
    append(services, 4)
    stuck = FAST.__class__(**{**FAST.__dict__, "stuck_after": 0.0, "receipt_wait": 0.2})
    w = worker(services, target, stuck)
    w.cycle()
    [first] = records(services)
    w.cycle()  # still pending and past `stuck_after`: re-priced with the same nonce
    [replaced] = records(services)
    assert replaced.nonce == first.nonce and replaced.attempts == 2
    assert replaced.tx_hash != first.tx_hash and replaced.max_fee > first.max_fee

    chain.rpc("evm_mine", [])
    chain.rpc("evm_setAutomine", [True])
    settle(worker(services, target), chain)
    [record] = records(services)
    assert record.tx_hash == replaced.tx_hash and record.status == AnchorStatus.FINAL
    assert chain.tx_receipt(first.tx_hash) is None  # the original never landed
    assert chain.nonce(target.account.address) - nonce_before == 1
