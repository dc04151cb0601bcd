"""The anchor worker's rules, without a chain: when to anchor, when final, how to re-price."""

from anchor.policy import Fees, Policy, anchor_due, is_final, replacement_fees

POLICY = Policy(interval=30, max_leaves=10_000, confirmations=12)


def test_nothing_new_is_never_due():
    assert not anchor_due(POLICY, log_size=50, anchored_size=50, last_sent_at=None, now=1e9)


def test_the_first_anchor_is_due_at_once():
    assert anchor_due(POLICY, log_size=1, anchored_size=0, last_sent_at=None, now=0)


def test_an_anchor_is_due_after_the_interval():
    assert not anchor_due(POLICY, 60, 50, last_sent_at=100.0, now=129.9)
    assert anchor_due(POLICY, 60, 50, last_sent_at=100.0, now=130.0)


def test_an_anchor_is_due_at_once_when_enough_leaves_wait():
    assert anchor_due(POLICY, 10_050, 50, last_sent_at=100.0, now=101.0)
    assert not anchor_due(POLICY, 10_049, 50, last_sent_at=100.0, now=101.0)


def test_final_means_at_or_below_the_finalized_block_where_the_chain_has_one():
    assert is_final(POLICY, block_number=100, finalized=100, latest=101)
    assert not is_final(POLICY, block_number=101, finalized=100, latest=500)


def test_without_a_finalized_tag_final_means_enough_confirmations():
    assert not is_final(POLICY, block_number=100, finalized=None, latest=110)  # 11 blocks
    assert is_final(POLICY, block_number=100, finalized=None, latest=111)  # 12 blocks


def test_a_replacement_outbids_the_stuck_transaction_by_a_quarter():
    fees = replacement_fees(
        Fees(max_fee=1000, priority_fee=100), current=Fees(max_fee=10, priority_fee=1)
    )
    assert fees.priority_fee >= 125 and fees.max_fee >= 1250


def test_a_replacement_follows_the_market_when_it_rose_further():
    fees = replacement_fees(
        Fees(max_fee=1000, priority_fee=100), current=Fees(max_fee=5000, priority_fee=400)
    )
    assert fees.priority_fee == 400 and fees.max_fee >= 5400
