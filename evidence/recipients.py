"""The bodies evidence may be handed to (法院, 复议机关, 检察院): registered by an admin, named
in share events by their code only, so that no free text (a person's name, an ID number) enters
the log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evidence.devices import registry
from evidence.models import Recipient
from ledger.bounds import has_control_character
from ledger.cases import CaseService
from ledger.errors import InvalidInput
from ledger.event_types import RECIPIENT_REGISTERED
from ledger.projection import REGISTRY
from ledger.storage import LogTransaction
from ledger.users import Action, Actor

_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
MAX_NAME = 100


class Recipients:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.sessions = cases.sessions

    def register(self, actor: Actor, code: str, name: str) -> dict[str, Any]:
        """Register a body under a code (lowercase letters, digits, -_.) and its name (admin)."""
        actor.require(Action.MANAGE_RECIPIENTS)
        name = name.strip()
        if not _CODE.fullmatch(code) or not 0 < len(name) <= MAX_NAME:
            raise InvalidInput(
                f"a recipient is a code (lowercase letters, digits, -_.) and a name of 1 to "
                f"{MAX_NAME} characters"
            )
        if has_control_character(name):
            raise InvalidInput("a recipient's name may not hold control characters")

        def work(tx: LogTransaction) -> dict[str, Any]:
            if (
                code in registry(tx.session).recipients
                or tx.session.get(Recipient, code) is not None
            ):
                raise InvalidInput(f"recipient {code} is registered already")
            self.cases.append_chain_event(
                tx, actor, REGISTRY, RECIPIENT_REGISTERED, {"recipient": code}
            )
            tx.session.add(Recipient(id=code, name=name, registered_at=datetime.now(UTC)))
            return {"id": code, "name": name}

        return self.cases.write(actor, None, work)

    def listing(self) -> list[dict[str, str]]:
        with self.sessions() as session:
            return [
                {"id": r.id, "name": r.name}
                for r in session.scalars(select(Recipient).order_by(Recipient.id))
            ]

    def check(self, session: Session, code: str) -> None:
        """InvalidInput unless `code` names a body registered in the log (and listed here)."""
        if code not in registry(session).recipients or session.get(Recipient, code) is None:
            raise InvalidInput(
                f"recipient {code[:64]!r} is not a registered body: an admin registers the "
                "bodies evidence is handed to (POST /api/v1/recipients)"
            )
