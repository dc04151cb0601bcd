"""Every type of event the log holds, in one place: the names are part of the log's fixed format
(DESIGN.md: Formats), read back by the audit, the projections, the offline verifier and the citizen
page. Pure: no I/O."""

from __future__ import annotations

from ledger.lifecycle import State

# A case's steps: `case.<state>`, one per state of the lifecycle (ledger/lifecycle.py).
CASE_EVENTS = {state: f"case.{state.value.lower()}" for state in State}
# The party of a case: its data crypto-shredded; its statement at the notice stage (sealed off the log).
PARTY_ERASED = "party.erased"
PARTY_STATEMENT = "party.statement"
# Evidence of a case: a file registered; who viewed, played, downloaded, exported or shared it;
# a supervisor's explanation of a gap in a device's recordings.
EVIDENCE_REGISTERED = "evidence.registered"
EVIDENCE_CUSTODY = "evidence.custody"
GAP_ACKNOWLEDGED = "evidence.gap-acknowledged"
# The registry chain (ledger/cases.py REGISTRY): devices and the bodies evidence may be shared with.
DEVICE_REGISTERED = "device.registered"
DEVICE_REVOKED = "device.revoked"
RECIPIENT_REGISTERED = "recipient.registered"

ALL = frozenset([*CASE_EVENTS.values(), PARTY_ERASED, PARTY_STATEMENT, EVIDENCE_REGISTERED, EVIDENCE_CUSTODY,
                 GAP_ACKNOWLEDGED, DEVICE_REGISTERED, DEVICE_REVOKED, RECIPIENT_REGISTERED])
