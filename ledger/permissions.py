"""Who may do what: the one table of actions and roles. Pure: no I/O.

Every write and every read of a case's content goes through `Actor.require`
with an action from this table; an officer bound to a district acts only in
that district (`DISTRICT_BOUND`). The access tests walk every route with every
role and with an officer of another district against this table.
"""

from __future__ import annotations

from enum import StrEnum

from ledger.roles import Role


class Action(StrEnum):
    OPEN_CASE = "open cases"
    RECORD_STEP = "record case steps"
    ERASE_PARTY = "erase personal data"
    READ_CASE = "read cases"
    ISSUE_CODE = "issue verification codes"
    READ_STATEMENTS = "read statements"
    UPLOAD_EVIDENCE = "upload evidence"
    DERIVE_EVIDENCE = "derive evidence"
    READ_EVIDENCE = "see evidence"
    SHARE_EVIDENCE = "hand evidence to another body"
    READ_CUSTODY = "read custody trails"
    EXPORT_PACKAGE = "export evidence packages"
    ACKNOWLEDGE_GAP = "acknowledge a gap in a device's recordings"
    MANAGE_DEVICES = "register or revoke devices"
    MANAGE_RECIPIENTS = "register the bodies evidence is shared with"
    MANAGE_TRUST_ROOTS = "register other agencies' trust roots"
    SEE_DASHBOARD = "see the supervision dashboard"
    RUN_AUDIT = "run the audit"
    HOLD_EVIDENCE = "set or lift a legal hold on evidence"
    COPY_OUT_EVIDENCE = "copy raw footage out of the system"
    PURGE_EVIDENCE = "purge evidence whose retention has ended"
    INTAKE_EVIDENCE = "ingest footage at a docking station"
    LINK_EVIDENCE = "link docked footage to its case"


OFFICER, SYSTEM, SUPERVISOR, LEGAL, COURT, ADMIN = (
    Role.OFFICER,
    Role.SYSTEM,
    Role.SUPERVISOR,
    Role.LEGAL,
    Role.COURT,
    Role.ADMIN,
)
_OVERSIGHT = frozenset({SUPERVISOR, LEGAL, ADMIN})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.OPEN_CASE: frozenset({OFFICER, SYSTEM, ADMIN}),
    Action.RECORD_STEP: frozenset({OFFICER, SYSTEM, ADMIN}),
    Action.ERASE_PARTY: frozenset({LEGAL, ADMIN}),
    Action.READ_CASE: frozenset({OFFICER, SUPERVISOR, LEGAL, ADMIN}),
    Action.ISSUE_CODE: frozenset({OFFICER, SYSTEM, ADMIN}),
    Action.READ_STATEMENTS: frozenset({OFFICER, SUPERVISOR, LEGAL, ADMIN}),
    Action.UPLOAD_EVIDENCE: frozenset({OFFICER, SYSTEM, ADMIN}),
    Action.DERIVE_EVIDENCE: frozenset({OFFICER, ADMIN}),  # reads the original and writes a copy
    Action.READ_EVIDENCE: frozenset({OFFICER, SUPERVISOR, LEGAL, ADMIN}),
    # Handing evidence over is a case officer's act; supervisors and legal review read, they do not
    # act.
    Action.SHARE_EVIDENCE: frozenset({OFFICER, ADMIN}),
    Action.READ_CUSTODY: _OVERSIGHT,
    Action.EXPORT_PACKAGE: frozenset({SUPERVISOR, COURT, ADMIN}),
    Action.ACKNOWLEDGE_GAP: frozenset({SUPERVISOR, ADMIN}),
    Action.MANAGE_DEVICES: frozenset({ADMIN}),
    Action.MANAGE_RECIPIENTS: frozenset({ADMIN}),
    Action.MANAGE_TRUST_ROOTS: frozenset({ADMIN}),
    Action.SEE_DASHBOARD: _OVERSIGHT,
    Action.RUN_AUDIT: frozenset({SUPERVISOR, ADMIN}),
    # 法制审核 holds evidence for proceedings; nobody else may keep it past its rule or let it go.
    Action.HOLD_EVIDENCE: frozenset({LEGAL}),
    # Raw files leave the system only with those who answer for them (officers play footage in the
    # staff pages; a court gets a package).
    Action.COPY_OUT_EVIDENCE: _OVERSIGHT,
    # The retention run is a scheduled job of the system (or an admin running it by hand).
    Action.PURGE_EVIDENCE: frozenset({SYSTEM, ADMIN}),
    # A docking station runs as a system account: it reads which officer carries a recorder and
    # ingests its footage, and sees nothing of any case.
    Action.INTAKE_EVIDENCE: frozenset({SYSTEM, ADMIN}),
    # The officer who carried the recorder (their own footage only) or a supervisor links footage
    # to its case, or declines a proposed link.
    Action.LINK_EVIDENCE: frozenset({OFFICER, SUPERVISOR, ADMIN}),
}

# Actions on one case (or a case about to be opened): an officer bound to a district does them there
# only.
DISTRICT_BOUND = frozenset(
    {
        Action.OPEN_CASE,
        Action.RECORD_STEP,
        Action.READ_CASE,
        Action.ISSUE_CODE,
        Action.READ_STATEMENTS,
        Action.UPLOAD_EVIDENCE,
        Action.DERIVE_EVIDENCE,
        Action.READ_EVIDENCE,
        Action.SHARE_EVIDENCE,
        Action.LINK_EVIDENCE,
    }
)


def allowed(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]
