"""The one exception tree of Lianzheng.

Every error a user can cause or see derives from `LianzhengError`. Each class
carries a stable `code`: it becomes the problem `type` in the JSON API and
the CLI's message prefix. The mapping to HTTP statuses lives in one place,
`verify_portal/web/problems.py`; the domain code never speaks HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class LianzhengError(Exception):
    """Root of every error raised on purpose by Lianzheng."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class VerificationError(LianzhengError):
    """A proof, signature or hash does not verify; the message names the check."""

    code = "verification-failed"


class CheckIncomplete(LianzhengError):
    """A check could not be completed (a chain unreachable, an anchor not final yet): neither
    passed nor failed, so a verdict that needs it is INCOMPLETE (DESIGN.md: What VERIFIED means)."""

    code = "check-incomplete"


class InvalidInput(LianzhengError):
    """A request is malformed: wrong type, unknown field, value out of range."""

    code = "invalid-input"


class NotFound(LianzhengError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    code = "not-found"


class IllegalTransition(LianzhengError):
    """A case step that the lifecycle of DESIGN.md does not allow from the current state."""

    code = "illegal-transition"


class StoredStateMismatch(LianzhengError):
    """A derived row disagrees with the log events it is derived from: a decision is refused until
    the audit has said what was altered."""

    code = "stored-state-mismatch"


class CaseClosed(IllegalTransition):
    """Evidence or a statement for a case that is closed or withdrawn."""

    code = "case-closed"


class FirstOffenceRefused(IllegalTransition):
    """首违不罚 asked for a party that already has a penalised case of the same type."""

    code = "first-offence-refused"


class IdempotencyConflict(LianzhengError):
    """An Idempotency-Key was reused for a different request."""

    code = "idempotency-conflict"


class Unauthenticated(LianzhengError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class Forbidden(LianzhengError):
    """The caller is known but their role does not allow this."""

    code = "forbidden"


class ConfigurationError(LianzhengError):
    """A setting or key file is missing or unusable."""

    code = "configuration"


class BackupRefused(LianzhengError):
    """A backup is damaged or incomplete, or a restore's target is not empty; nothing was
    changed."""

    code = "backup-refused"


def invalid_input(message: str, exc: ValidationError) -> InvalidInput:
    """An InvalidInput from a pydantic ValidationError, listing each field and what is wrong.

    The offending input itself is left out: it may hold personal data.
    """
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
        for e in exc.errors()
    ]
    return InvalidInput(message, errors=errors)
