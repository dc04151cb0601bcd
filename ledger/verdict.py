"""The words a verifier may use (DESIGN.md: What VERIFIED means). Pure: no I/O.

Each check ends as pass, fail, not run (with why) or incomplete (it could not be
completed: a chain unreachable, an anchor not final yet). They add up to one
verdict, with the CLI's exit code: VERIFIED 0, NOT VERIFIED 1, INCOMPLETE 3
(2 is a usage error, raised before any check runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_RUN = "not run"
    INCOMPLETE = "incomplete"


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT VERIFIED"
    INCOMPLETE = "INCOMPLETE"


EXIT_CODES = {Verdict.VERIFIED: 0, Verdict.NOT_VERIFIED: 1, Verdict.INCOMPLETE: 3}
WORDS = {
    Verdict.VERIFIED: "已核验 VERIFIED",
    Verdict.NOT_VERIFIED: "未通过 NOT VERIFIED",
    Verdict.INCOMPLETE: "未完成 INCOMPLETE",
}
RESULT_WORDS = {
    Status.PASS: "通过 PASS",
    Status.FAIL: "未通过 FAIL",
    Status.NOT_RUN: "未运行 NOT RUN",
    Status.INCOMPLETE: "未完成 INCOMPLETE",
}


def verdict_of(statuses: Iterable[Status], chain_required: bool, chain: Status) -> Verdict:
    """Any failure: NOT VERIFIED; else anything incomplete, or a required chain check not passed:
    INCOMPLETE; else VERIFIED. No checks at all verify nothing."""
    seen = set(statuses)
    if Status.FAIL in seen or not seen:
        return Verdict.NOT_VERIFIED
    if Status.INCOMPLETE in seen or (chain_required and chain != Status.PASS):
        return Verdict.INCOMPLETE
    return Verdict.VERIFIED
