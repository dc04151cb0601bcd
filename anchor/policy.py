"""When to anchor, when an anchor is final, how much to bump a stuck transaction's fee. Pure: no
I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fees in wei."""

    max_fee: int
    priority_fee: int


@dataclass(frozen=True)
class Policy:
    """The anchor worker's knobs; the defaults suit a city's log."""

    interval: float = 30.0  # seconds between anchors while there is something new
    max_leaves: int = 10_000  # anchor at once when this many leaves wait
    confirmations: int = 12  # blocks on top, for chains without a `finalized` tag
    stuck_after: float = 120.0  # seconds in the pool before the transaction is re-priced
    poll: float = 1.0  # seconds between the worker's looks at the log and the chain
    receipt_wait: float = 15.0  # seconds to wait for a receipt right after sending


def anchor_due(
    policy: Policy, log_size: int, anchored_size: int, last_sent_at: float | None, now: float
) -> bool:
    """Whether a new anchor is due: N seconds since the last one or M new leaves, whichever first.

    Nothing new in the log means no transaction at all.
    """
    waiting = log_size - anchored_size
    if waiting <= 0:
        return False
    if waiting >= policy.max_leaves or last_sent_at is None:
        return True
    return now - last_sent_at >= policy.interval


def is_final(policy: Policy, block_number: int, finalized: int | None, latest: int) -> bool:
    """Final when at or below the chain's `finalized` block, else after `confirmations` blocks.

    The caller also checks that the block is still canonical.
    """
    if finalized is not None:
        return block_number <= finalized
    return latest - block_number + 1 >= policy.confirmations


def replacement_fees(old: Fees, current: Fees) -> Fees:
    """Fees for a same-nonce replacement: nodes demand at least +10% on both; we give +25% or the
    market."""
    tip = max(old.priority_fee * 5 // 4 + 1, current.priority_fee)
    return Fees(max_fee=max(old.max_fee * 5 // 4 + 1, current.max_fee + tip), priority_fee=tip)
