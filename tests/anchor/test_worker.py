"""The anchor worker: anchors the latest checkpoint when due, records it, follows it to finality."""

import dataclasses

import pytest

from anchor.errors import HistoryMismatch
from anchor.models import AnchorStatus
from tests.anchor.support import FAST, append, records, settle, transact, worker


def test_an_empty_log_sends_no_transaction(services, target):
    nonce = target.chain.nonce(target.account.address)
    worker(services, target).cycle()
    assert records(services) == []
    assert target.chain.nonce(target.account.address) == nonce


def test_the_latest_checkpoint_is_anchored_and_recorded(services, target):
    size = append(services, 5)
    worker(services, target).cycle()
    [record] = records(services)
    with services.sessions() as session:
        root = services.store.root(session, size)
    assert (record.size, record.root, record.status) == (5, root, AnchorStatus.MINED)
    assert target.contract.latest() == (5, root)
    block = target.chain.block(record.block_number)
    assert block.hash == record.block_hash
    receipt = target.chain.tx_receipt(record.tx_hash)
    assert receipt.block_number == record.block_number
    assert (record.chain_id, record.contract) == (target.chain.chain_id, target.contract.address)


def test_nothing_new_since_the_last_anchor_sends_nothing(services, target):
    append(services, 5)
    w = worker(services, target)
    w.cycle()
    nonce = target.chain.nonce(target.account.address)
    w.cycle()
    assert target.chain.nonce(target.account.address) == nonce
    assert len(records(services)) == 1


def test_later_anchors_extend_the_first_with_consistency_proofs(services, target):
    w = worker(services, target)
    for n in (3, 1, 12):
        append(services, n)
        w.cycle()
    assert [(r.size, r.previous_size) for r in records(services)] == [(3, 0), (4, 3), (16, 4)]
    assert target.contract.latest()[0] == 16


def test_anchors_wait_for_the_interval_unless_enough_leaves_wait(services, target):
    w = worker(services, target, dataclasses.replace(FAST, interval=3600, max_leaves=10))
    append(services, 3)
    w.cycle()  # the first anchor does not wait
    append(services, 9)
    w.cycle()
    assert [r.size for r in records(services)] == [3]
    append(services, 1)  # 10 leaves wait now
    w.cycle()
    assert [r.size for r in records(services)] == [3, 13]


def test_an_anchor_is_final_once_its_block_is_finalized(services, target):
    append(services, 2)
    w = worker(services, target)
    w.cycle()
    target.chain.rpc("anvil_mine", [10])
    w.cycle()
    assert records(services)[0].status == AnchorStatus.MINED  # anvil finalizes 64 blocks behind
    target.chain.rpc("anvil_mine", [64])
    w.cycle()
    [record] = records(services)
    assert record.status == AnchorStatus.FINAL and record.final_at is not None


def test_the_worker_refuses_to_anchor_on_a_contract_holding_another_history(services, target):
    append(services, 4)
    transact(
        target.contract, "anchor", 2, b"\x07" * 32, []
    )  # someone anchored a root our log never had
    with pytest.raises(HistoryMismatch, match="size 2"):
        worker(services, target).cycle()
    assert records(services) == []


def test_a_fresh_database_adopts_the_anchors_already_on_chain(services, target):
    append(services, 6)
    w = worker(services, target)
    w.cycle()
    [before] = records(services)
    with services.sessions.begin() as session:  # the database is restored from before the anchor
        session.execute(before.__table__.delete())
    settle(worker(services, target), target.chain)
    [after] = records(services)
    assert (after.size, after.tx_hash, after.block_hash) == (6, before.tx_hash, before.block_hash)
    assert after.status == AnchorStatus.FINAL


def test_with_a_witness_quorum_only_the_newest_cosigned_checkpoint_is_anchored(services, target):
    names = ["court.example/w1", "notary.example/w2"]
    append(services, 4)
    with services.sessions.begin() as session:
        for name in names:  # the quorum of two cosigned size 4 (the lines are not checked here)
            services.store.add_cosignature(session, 4, name, f"\u2014 {name} x\n")
    append(services, 6)

    def cosigned_by_both(session):
        return services.store.witnessed_size(session, names, 2)

    w = worker(services, target, anchorable=cosigned_by_both)
    w.cycle()
    assert [r.size for r in records(services)] == [4]
    w.cycle()  # nothing newer reached the quorum: nothing is sent
    assert [r.size for r in records(services)] == [4]
