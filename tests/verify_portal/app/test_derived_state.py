"""Every table the service shows or decides from is a projection of the log (DESIGN.md, The log).

For each derived table, each kind of edit made directly in the database (a changed column, a deleted
row, a row inserted with no leaf) is named by the audit with the log's value and the stored one; the
service decides from the log, never from an altered row; pages and the API say when rows disagree.
"""

import re
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import delete, insert, select, update

from evidence.models import Device, EvidenceItem, Recipient
from ledger.models import Base, Case, Party, PartyCase
from tests.conftest import bearer
from tests.support.api import PARTY, REPORT, STAFF_PASSWORD, sign_in, upload_evidence
from verify_portal.app.auditing import run_audit
from verify_portal.app.models import Statement


@pytest.fixture
def world(services, client, tokens, media_dir):
    officer = bearer(tokens["officer"])
    opened = client.post("/api/v1/cases", json={**REPORT, "party": PARTY}, headers=officer).json[
        "case_no"
    ]
    for state in ("FILED", "INVESTIGATING", "NOTIFIED"):
        assert (
            client.post(
                f"/api/v1/cases/{opened}/transitions", json={"to": state}, headers=officer
            ).status_code
            == 201
        )
    other = client.post("/api/v1/cases", json=REPORT, headers=officer).json["case_no"]
    photo = upload_evidence(
        client, tokens["officer"], opened, (media_dir / "photo.jpg").read_bytes()
    ).json["evidence"]
    device_key = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    admin = bearer(tokens["admin"])
    assert (
        client.post(
            "/api/v1/devices",
            json={
                "serial": "DSJ-1",
                "kind": "bodycam",
                "unit": "xuhui-team-1",
                "public_key": device_key,
            },
            headers=admin,
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/recipients",
            json={"id": "xuhui-court", "name": "徐汇区人民法院"},
            headers=admin,
        ).status_code
        == 201
    )
    services.statements.submit(opened, "我对处罚有异议。", [])
    assert run_audit(services).clean
    return {"case": opened, "other": other, "evidence": photo["evidence_id"]}


def _execute(services, statement):
    with services.engine.begin() as conn:
        conn.execute(statement)


def _clone(services, table, where, **changes):
    """Insert a copy of the row `where` selects, with `changes`: a row no leaf stands behind."""
    with services.engine.begin() as conn:
        row = dict(conn.execute(select(table).where(where)).mappings().one())
        conn.execute(insert(table).values({**row, **changes}))


def _findings(services):
    return [str(f) for f in run_audit(services).findings]


def _one(findings, where, words):
    matching = [f for f in findings if f.startswith(where) and words in f]
    assert matching, findings
    return matching[0]


# --- each table, each kind of edit
# ------------------------------------------------------------------------


def test_a_changed_case_state_is_named_with_the_logs_value_and_the_stored_one(services, world):
    _execute(services, update(Case).where(Case.case_no == world["case"]).values(state="CLOSED"))
    found = _one(_findings(services), f"cases {world['case']}", "state")
    assert "the log says 'NOTIFIED', the row says 'CLOSED'" in found


def test_a_changed_case_amount_and_district_are_each_named(services, world):
    _execute(
        services,
        update(Case)
        .where(Case.case_no == world["case"])
        .values(amount_fen=1, district="elsewhere"),
    )
    findings = _findings(services)
    assert "the row says 1" in _one(findings, f"cases {world['case']}", "amount_fen")
    assert "the row says 'elsewhere'" in _one(findings, f"cases {world['case']}", "district")


def test_a_deleted_case_row_and_an_inserted_one_are_named(services, world):
    _execute(services, delete(Case).where(Case.case_no == world["other"]))
    _clone(
        services,
        Case.__table__,
        Case.case_no == world["case"],
        case_no="CG-2026-999999",
        serial=999999,
    )
    findings = _findings(services)
    _one(findings, f"cases {world['other']}", "the row is missing")
    _one(findings, "cases CG-2026-999999", "no events in the log")


def test_evidence_rows_changed_deleted_and_inserted_are_named(services, world):
    evidence = world["evidence"]
    _execute(
        services,
        update(EvidenceItem)
        .where(EvidenceItem.id == evidence)
        .values(device_signed=1, sha256="ab" * 32),
    )
    _clone(services, EvidenceItem.__table__, EvidenceItem.id == evidence, id="EV-inserted")
    findings = _findings(services)
    assert "the log says 0, the row says 1" in _one(
        findings, f"evidence {evidence}", "device_signed"
    )
    assert f"the row says '{'ab' * 32}'" in _one(findings, f"evidence {evidence}", "sha256")
    _one(findings, "evidence EV-inserted", "no registration in the log")
    _execute(services, delete(EvidenceItem).where(EvidenceItem.id == evidence))
    _one(_findings(services), f"evidence {evidence}", "the row is missing")


def test_device_and_recipient_rows_changed_deleted_and_inserted_are_named(services, world):
    _execute(services, update(Device).where(Device.serial == "DSJ-1").values(status="revoked"))
    _clone(services, Device.__table__, Device.serial == "DSJ-1", serial="DSJ-FAKE")
    _clone(services, Recipient.__table__, Recipient.id == "xuhui-court", id="made-up-court")
    _execute(services, delete(Recipient).where(Recipient.id == "xuhui-court"))
    findings = _findings(services)
    assert "the log says 'certified', the row says 'revoked'" in _one(
        findings, "devices DSJ-1", "status"
    )
    _one(findings, "devices DSJ-FAKE", "no registration in the log")
    _one(findings, "recipients xuhui-court", "the row is missing")
    _one(findings, "recipients made-up-court", "no registration in the log")
    _execute(services, delete(Device).where(Device.serial == "DSJ-1"))
    _one(_findings(services), "devices DSJ-1", "the row is missing")


def test_statement_rows_changed_deleted_and_inserted_are_named(services, world):
    case = world["case"]
    with services.engine.begin() as conn:
        index = conn.execute(select(Statement.leaf_index)).scalar_one()
    _execute(services, update(Statement).values(ciphertext=b"\x00" * 40))
    _one(
        _findings(services), f"statements {case} (leaf {index})", "does not open to the commitment"
    )
    _clone(services, Statement.__table__, Statement.leaf_index == index, id=999, leaf_index=0)
    _one(_findings(services), f"statements {case} (leaf 0)", "no statement for")
    _execute(services, delete(Statement).where(Statement.leaf_index == index))
    _one(_findings(services), f"statements {case} (leaf {index})", "missing")


def test_party_rows_and_the_party_index_are_checked_against_the_log(services, world):
    case = world["case"]
    _execute(services, update(Party).where(Party.case_no == case).values(ciphertext=b"\x00" * 64))
    _one(_findings(services), f"parties {case}", "does not open to the commitment")
    _execute(services, delete(Party).where(Party.case_no == case))
    _one(_findings(services), f"parties {case}", "missing")
    _execute(services, insert(PartyCase).values(party_key="f" * 64, case_no=world["other"]))
    _one(_findings(services), f"party_cases {world['other']}", "which its events do not name")


def test_every_table_the_service_decides_from_is_audited():
    derived = {"cases", "parties", "party_cases", "evidence", "devices", "recipients", "statements"}
    not_derived = {
        "log_head",
        "log_leaves",
        "log_nodes",
        "log_checkpoints",
        "log_cosignatures",  # checked against the witnesses' keys by the audit itself
        "log_timestamps",  # checked against the authority by every verifier
        "users",
        "idempotency_keys",
        "log_keys",
        "trust_roots",
        "anchors",
        "anchor_worker",
        "evidence_uploads",
        "case_codes",
        "staff_logins",
        "staff_sessions",
        "audit_runs",
        "counters",
        "court_roots",
        # a reporter's address and phone: never in the log, nothing is decided from them; sealed
        # with the case number as associated data, so an edited or moved row does not open
        "citizen_reports",
    }
    assert {t.name for t in Base.metadata.sorted_tables} <= derived | not_derived


# --- decisions come from the log
# ---------------------------------------------------------------------


def test_a_legitimate_step_on_a_case_whose_row_was_altered_is_refused_naming_the_difference(
    client, services, tokens, world
):
    case = world["case"]
    _execute(services, update(Case).where(Case.case_no == case).values(state="CLOSED"))
    step = client.post(
        f"/api/v1/cases/{case}/transitions",
        json={"to": "DECIDED", "payload": {"outcome": "no_penalty"}},
        headers=bearer(tokens["officer"]),
    )
    assert step.status_code == 409 and step.json["type"].endswith("stored-state-mismatch")
    assert "state: the log says 'NOTIFIED', the row says 'CLOSED'" in step.json["detail"]
    shown = client.get(f"/api/v1/cases/{case}", headers=bearer(tokens["supervisor"])).json[
        "integrity"
    ]
    assert shown["consistent"] is False and any("CLOSED" in d for d in shown["disagreements"])


def test_an_evidence_row_whose_hash_was_changed_is_never_served(client, services, tokens, world):
    evidence = world["evidence"]
    _execute(
        services, update(EvidenceItem).where(EvidenceItem.id == evidence).values(sha256="cd" * 32)
    )
    content = client.get(
        f"/api/v1/evidence/{evidence}/content?reason=audit", headers=bearer(tokens["supervisor"])
    )
    assert content.status_code == 409 and "sha256" in content.json["detail"]
    item = client.get(
        f"/api/v1/evidence/{evidence}?reason=audit", headers=bearer(tokens["supervisor"])
    )
    assert item.status_code == 409


def test_the_staff_page_and_the_citizen_page_show_a_red_banner_when_rows_disagree(
    client, services, tokens, world
):
    case = world["case"]
    code = client.post(
        f"/api/v1/cases/{case}/verification-code", headers=bearer(tokens["officer"])
    ).json["code"]
    client.post("/check", data={"case_no": case, "code": code})
    assert 'id="integrity-banner"' not in client.get("/check/case").get_data(as_text=True)
    _execute(
        services,
        update(EvidenceItem).where(EvidenceItem.id == world["evidence"]).values(device_signed=1),
    )
    citizen = client.get("/check/case").get_data(as_text=True)
    assert 'id="integrity-banner" class="banner fail"' in citizen
    services.logins.set_password("supervisor-1", STAFF_PASSWORD)
    sign_in(client)
    staff = client.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert (
        'id="integrity-banner"' in staff
        and "device_signed: the log says 0, the row says 1" in staff
    )


def test_first_offence_is_decided_from_the_log_not_from_an_altered_outcome(
    client, services, tokens
):
    officer = bearer(tokens["officer"])
    first = _decided_case(client, officer, {"outcome": "fine", "amount_fen": 20000})
    _execute(
        services,
        update(Case).where(Case.case_no == first).values(outcome="no_penalty", amount_fen=None),
    )
    second = _decided_case(client, officer, None)
    refused = client.post(
        f"/api/v1/cases/{second}/transitions",
        json={"to": "DECIDED", "payload": {"outcome": "first_offence_exempt"}},
        headers=officer,
    )
    assert refused.status_code == 409 and refused.json["type"].endswith("first-offence-refused")
    assert first not in refused.json["detail"]  # no case number the caller may not open


def _decided_case(client, officer, decision):
    case = client.post("/api/v1/cases", json={**REPORT, "party": PARTY}, headers=officer).json[
        "case_no"
    ]
    for state in ("FILED", "INVESTIGATING", "NOTIFIED"):
        client.post(f"/api/v1/cases/{case}/transitions", json={"to": state}, headers=officer)
    if decision is not None:
        assert (
            client.post(
                f"/api/v1/cases/{case}/transitions",
                json={"to": "DECIDED", "payload": decision},
                headers=officer,
            ).status_code
            == 201
        )
    return case


# --- the audit from the dashboard, its findings in /metrics
# -------------------------------------------------


def test_a_supervisor_runs_the_audit_from_the_dashboard_and_its_findings_link_to_the_case(
    client, services, tokens, world
):
    _execute(services, update(Case).where(Case.case_no == world["case"]).values(state="CLOSED"))
    services.logins.set_password("supervisor-1", STAFF_PASSWORD)
    sign_in(client)
    page = client.get("/staff").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    assert client.post("/staff/audit", data={"csrf": csrf}).status_code == 303
    deadline = time.monotonic() + 60
    while (
        'id="audit-running"' in (page := client.get("/staff").get_data(as_text=True))
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert f'href="/staff/cases/{world["case"]}' in page and "the row says &#39;CLOSED&#39;" in page
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "lianzheng_audit_clean 0" in metrics
    assert int(re.search(r"lianzheng_audit_open_findings (\d+)", metrics)[1]) >= 1
