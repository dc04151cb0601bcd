"""The case lifecycle of an administrative penalty (行政处罚程序), DESIGN.md: Case lifecycle.

Pure rules: which step may follow which, what each step must carry, and when
首违不罚 (first-offence exemption) is allowed. The service asks these rules
before it appends anything, so a refused step leaves no leaf behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.errors import FirstOffenceRefused, IllegalTransition, invalid_input


class State(StrEnum):
    REPORTED = "REPORTED"  # 线索
    FILED = "FILED"  # 立案
    INVESTIGATING = "INVESTIGATING"  # 调查取证
    NOTIFIED = "NOTIFIED"  # 事先告知
    DECIDED = "DECIDED"  # 处罚决定
    PAID = "PAID"  # 缴款
    APPEALED = "APPEALED"  # 复议/诉讼
    CLOSED = "CLOSED"  # 结案
    WITHDRAWN = "WITHDRAWN"  # 撤案


LABELS_ZH = {
    State.REPORTED: "线索",
    State.FILED: "立案",
    State.INVESTIGATING: "调查取证",
    State.NOTIFIED: "事先告知",
    State.DECIDED: "处罚决定",
    State.PAID: "缴款",
    State.APPEALED: "复议/诉讼",
    State.CLOSED: "结案",
    State.WITHDRAWN: "撤案",
}

_FORWARD = {
    State.REPORTED: {State.FILED},
    State.FILED: {State.INVESTIGATING},
    State.INVESTIGATING: {State.NOTIFIED},
    State.NOTIFIED: {State.DECIDED},
    State.DECIDED: {State.PAID, State.APPEALED, State.CLOSED},
    State.APPEALED: {State.PAID, State.CLOSED},  # an appeal upheld ends in payment or closure
    State.PAID: {State.CLOSED},
    State.CLOSED: set(),
    State.WITHDRAWN: set(),
}
# DESIGN.md: FILED or later can be WITHDRAWN, while the case is still open.
NEXT: dict[State, frozenset[State]] = {
    state: frozenset(
        targets | ({State.WITHDRAWN} if targets and state is not State.REPORTED else set())
    )
    for state, targets in _FORWARD.items()
}


class Outcome(StrEnum):
    FINE = "fine"  # 罚款
    FIRST_OFFENCE_EXEMPT = "first_offence_exempt"  # 首违不罚
    NO_PENALTY = "no_penalty"  # 不予处罚


CODE = r"^[a-z0-9][a-z0-9_.-]{0,63}$"  # codes, never free text: no personal data slips into a leaf


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ReportedPayload(_Payload):
    source: Literal[
        "patrol", "camera", "hotline-12345", "hotline-12319", "citizen", "citizen-report"
    ]
    violation_type: str = Field(pattern=CODE)
    district: str = Field(pattern=CODE)


class EmptyPayload(_Payload):
    pass


class NotifiedPayload(_Payload):
    proposed_amount_fen: int | None = Field(default=None, ge=0, le=10**11)


class DecidedPayload(_Payload):
    outcome: Outcome = Field(
        strict=False
    )  # strict mode would want an Outcome instance, not its JSON string
    amount_fen: int | None = Field(default=None, ge=1, le=10**11)
    legal_basis: str | None = Field(default=None, pattern=CODE)

    @model_validator(mode="after")
    def _amount_only_with_a_fine(self) -> DecidedPayload:
        if (self.outcome is Outcome.FINE) != (self.amount_fen is not None):
            raise ValueError("amount_fen is required for a fine and not allowed otherwise")
        return self


class PaidPayload(_Payload):
    amount_fen: int = Field(ge=1, le=10**11)


class AppealedPayload(_Payload):
    kind: Literal["reconsideration", "litigation"]  # 行政复议 / 行政诉讼


class WithdrawnPayload(_Payload):
    reason: Literal[
        "insufficient_evidence", "not_a_violation", "duplicate", "beyond_jurisdiction", "other"
    ]


PAYLOADS: dict[State, type[_Payload]] = {
    State.REPORTED: ReportedPayload,
    State.FILED: EmptyPayload,
    State.INVESTIGATING: EmptyPayload,
    State.NOTIFIED: NotifiedPayload,
    State.DECIDED: DecidedPayload,
    State.PAID: PaidPayload,
    State.APPEALED: AppealedPayload,
    State.CLOSED: EmptyPayload,
    State.WITHDRAWN: WithdrawnPayload,
}


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know of a case."""

    case_no: str
    state: State
    has_party: bool = False
    outcome: Outcome | None = None
    amount_fen: int | None = None


def validate_payload(state: State, payload: Any) -> dict[str, Any]:
    """The payload of a step into `state`, checked and normalised; raise InvalidInput."""
    try:
        model = PAYLOADS[state].model_validate(payload)
    except ValidationError as exc:
        raise invalid_input(f"payload of a step to {state.value} is invalid", exc) from exc
    return model.model_dump(mode="json", exclude_none=True)


def check_transition(case: CaseFacts, target: State, payload: dict[str, Any]) -> None:
    """Raise IllegalTransition unless `case` may step into `target` with this (valid) payload."""
    allowed = NEXT[case.state]
    if target not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "nothing (the case is finished)"
        raise IllegalTransition(
            f"case {case.case_no} is {case.state.value} ({LABELS_ZH[case.state]}); "
            f"it cannot go to {target.value}, only to: {names}",
            current_state=case.state.value,
            allowed=sorted(s.value for s in allowed),
        )
    _check_conditions(case, target, payload)


def _check_conditions(case: CaseFacts, target: State, payload: dict[str, Any]) -> None:
    fined = case.outcome is Outcome.FINE
    if target is State.DECIDED and payload["outcome"] != Outcome.NO_PENALTY and not case.has_party:
        raise IllegalTransition(
            f"case {case.case_no} has no party on record; a fine or 首违不罚 needs one"
        )
    if target is State.PAID and not fined:
        raise IllegalTransition(
            f"case {case.case_no} was decided without a fine; there is nothing to pay"
        )
    if target is State.PAID and payload["amount_fen"] != case.amount_fen:
        raise IllegalTransition(
            f"payment of {payload['amount_fen']} fen does not match the fine of {case.amount_fen} "
            f"fen"
        )
    if target is State.CLOSED and case.state is State.DECIDED and fined:
        raise IllegalTransition(
            f"case {case.case_no} has an unpaid fine; it closes after payment or appeal"
        )


def check_first_offence(case_no: str, earlier_cases: list[str]) -> None:
    """首违不罚 only for a first offence: refuse if the party has earlier decided cases of the type.

    `earlier_cases` are the party's other cases of the same violation type
    that ended in a fine or already used the exemption.
    """
    if earlier_cases:
        # Counted, not named: the caller may not be allowed to open the party's other cases.
        raise FirstOffenceRefused(
            f"首违不罚 refused for case {case_no}: the party already has "
            f"{len(earlier_cases)} case(s) of the same violation type decided with a penalty or "
            "the exemption",
            earlier_cases=len(earlier_cases),
        )


def replay(case_no: str, steps: list[tuple[str, dict[str, Any]]]) -> State:
    """Check a case's recorded steps, `(event type, payload)` in order, against the rules; the final
    state.

    Events that are not steps (evidence, custody, erasure) are skipped. Raises IllegalTransition
    naming the first step the rules do not allow."""
    facts: CaseFacts | None = None
    for type_, payload in steps:
        if not type_.startswith("case."):
            continue
        try:
            target = State(type_.removeprefix("case.").upper())
        except ValueError:
            raise IllegalTransition(
                f"case {case_no} has an event of unknown type {type_}"
            ) from None
        if facts is None:
            if target is not State.REPORTED:
                raise IllegalTransition(f"case {case_no} begins with {type_}, not case.reported")
            facts = CaseFacts(case_no, State.REPORTED, "party" in payload)
            continue
        check_transition(facts, target, payload)
        decided = target is State.DECIDED
        facts = CaseFacts(
            case_no,
            target,
            facts.has_party or "party" in payload,
            Outcome(payload["outcome"]) if decided else facts.outcome,
            payload.get("amount_fen") if decided else facts.amount_fen,
        )
    if facts is None:
        raise IllegalTransition(f"case {case_no} has no case.reported event")
    return facts.state
