"""Errors of anchoring, under the one root `ledger.errors.LianzhengError`."""

from __future__ import annotations

from ledger.errors import CheckIncomplete, LianzhengError


class ChainError(LianzhengError):
    """The chain answered, but not as the log needs (missing contract, refused anchor, fork)."""

    code = "chain-error"


class ChainUnavailable(ChainError, CheckIncomplete):
    """The chain's JSON-RPC endpoint cannot be reached or timed out."""

    code = "chain-unavailable"


class AnchorRefused(ChainError):
    """The contract refused an anchor; `details["error"]` names its custom error (e.g.
    InconsistentHistory)."""

    code = "anchor-refused"


class HistoryMismatch(ChainError):
    """The root the contract holds for a size is not the log's root at that size: a fork or a lost
    log."""

    code = "history-mismatch"


class NotAnchoredYet(LianzhengError):
    """The event is in the log but no anchored tree head covers it yet."""

    code = "not-anchored-yet"
