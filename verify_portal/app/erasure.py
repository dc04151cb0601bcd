"""Erasing a party's personal data (个人信息删除): everything sealed for the party, in one log
transaction with the erasure event, so no part of it outlives the event that says it is gone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.cases import Idempotency
from ledger.storage import LogTransaction
from ledger.users import Actor
from verify_portal.app.statements import Statements

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services


def erase_party(
    services: Services, actor: Actor, case_no: str, idempotency: Idempotency | None = None
) -> dict[str, Any]:
    """Delete the case's sealed party row (ledger) and sealed statements (portal) and log the
    erasure; the leaves and every proof stay valid. Legal staff only."""

    def work(tx: LogTransaction) -> dict[str, Any]:
        erased = services.cases.erase_party(tx, actor, case_no)
        Statements.erase(tx.session, case_no)
        return erased

    return services.cases.write(actor, idempotency, work)
