"""The roles a user acts in. Pure: no I/O."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"  # 执法队员: records case steps, uploads evidence
    SYSTEM = "system"  # 非现场执法 systems and integrations that write
    SUPERVISOR = "supervisor"  # 督查: reads and audits everything, writes nothing
    LEGAL = "legal"  # 法制审核: reads everything, erases personal data on legal grounds
    COURT = "court"  # 法院/复议机关: packages and proofs only
    ADMIN = "admin"
