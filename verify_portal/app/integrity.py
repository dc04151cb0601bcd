"""Whether what the pages and the API show of a case agrees with its log: the case row and every
evidence row against their events. A disagreement is shown as a red banner; decisions refuse it
outright."""

from __future__ import annotations

from typing import TYPE_CHECKING

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services


def case_disagreements(services: Services, case_no: str) -> list[str]:
    """Each stored row of the case that disagrees with the log, and how (empty when all agree)."""
    with services.sessions() as session:
        return services.cases.disagreements(session, case_no) + services.evidence.disagreements(
            session, case_no
        )
