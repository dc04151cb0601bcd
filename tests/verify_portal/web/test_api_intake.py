"""The docking station's API: footage from issued bodycams joins the intake chain, the station
reads what the log registered before it wipes a recorder, and a shift's report is one event."""

import hashlib

import pytest

from ledger.models import Leaf
from ledger.users import Role, add_user
from tests.conftest import bearer
from tests.support.api import log_size, move, open_case, stored_blobs, tamper, upload_evidence
from tests.support.intake import docked_photo, intake_upload, issued_bodycam
from verify_portal.app.auditing import run_audit

REPORT = {
    "report_sha256": "ab" * 32,
    "started_at": "2026-11-30T10:00:00Z",
    "ended_at": "2026-11-30T10:20:00Z",
    "recorders": 8,
    "files": 120,
    "bytes": 4 << 30,
    "kept": 2,
}


@pytest.fixture
def photo(media_dir):
    return (media_dir / "photo.jpg").read_bytes()


def test_footage_from_an_issued_bodycam_joins_the_intake_chain_and_the_station_confirms_it(
    client, tokens, services, photo
):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    answer = intake_upload(client, tokens["system"], "DSJ-1", photo)
    assert answer.status_code == 201, answer.json
    registered = answer.json
    assert registered["event"]["case_no"] == "INTAKE"
    assert registered["event"]["type"] == "evidence.registered"
    evidence_id = registered["evidence"]["evidence_id"]
    confirmed = client.get(f"/api/v1/intake/{evidence_id}", headers=bearer(tokens["system"]))
    assert confirmed.status_code == 200
    assert confirmed.json["sha256"] == hashlib.sha256(photo).hexdigest()
    assert confirmed.json["size"] == len(photo)
    assert confirmed.json["leaf_index"] == registered["index"]
    assert confirmed.json["device"] == "DSJ-1"
    with services.sessions() as session:
        assert session.get(Leaf, registered["index"]).case_no == "INTAKE"
    assert run_audit(services).clean


def test_no_case_reader_sees_intake_footage_before_it_is_linked(client, tokens, photo):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    evidence_id = intake_upload(client, tokens["system"], "DSJ-1", photo).json["evidence"][
        "evidence_id"
    ]
    for who in ("officer", "supervisor", "legal"):
        seen = client.get(
            f"/api/v1/evidence/{evidence_id}?reason=case-review", headers=bearer(tokens[who])
        )
        assert seen.status_code == 404, who


def test_the_station_reads_a_recorders_identity_from_the_registry(client, tokens):
    issued_bodycam(client, tokens["admin"], "DSJ-1", officer="officer-1")
    answer = client.get("/api/v1/devices/DSJ-1", headers=bearer(tokens["system"]))
    assert answer.json == {
        "serial": "DSJ-1",
        "kind": "bodycam",
        "status": "certified",
        "issued_to": "officer-1",
    }
    assert client.get("/api/v1/devices/DSJ-9", headers=bearer(tokens["system"])).status_code == 404


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ("unregistered", "not registered"),
        ("revoked", "revoked"),
        ("never-issued", "never issued"),
        ("camera", "camera"),
    ],
)
def test_footage_from_a_recorder_nobody_carries_is_refused_and_leaves_nothing(
    client, tokens, services, photo, setup, why
):
    if setup == "revoked":
        issued_bodycam(client, tokens["admin"], "DSJ-1")
        client.post("/api/v1/devices/DSJ-1/revocation", headers=bearer(tokens["admin"]))
    elif setup == "never-issued":
        issued_bodycam(client, tokens["admin"], "DSJ-1", officer=None)
    elif setup == "camera":
        issued_bodycam(client, tokens["admin"], "DSJ-1", kind="camera")
    size, blobs = log_size(client), stored_blobs(services)
    refused = intake_upload(client, tokens["system"], "DSJ-1", photo)
    assert refused.status_code == 422, refused.json
    assert why in refused.json["detail"]
    assert log_size(client) == size and stored_blobs(services) == blobs


def test_only_a_station_account_ingests_and_intake_names_no_case(client, tokens, photo):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    by_officer = intake_upload(client, tokens["officer"], "DSJ-1", photo)
    assert by_officer.status_code == 403
    case_no = open_case(client, tokens["officer"])
    both = intake_upload(client, tokens["system"], "DSJ-1", photo, case_no=case_no)
    assert both.status_code == 400 and "names no case" in both.json["detail"]
    no_device = upload_evidence(client, tokens["system"], "x", photo, intake="1")
    assert no_device.status_code == 400


def test_a_stations_confirmation_covers_intake_footage_only(client, tokens, photo):
    case_no = open_case(client, tokens["officer"])
    in_case = upload_evidence(client, tokens["officer"], case_no, photo).json["evidence"]
    answer = client.get(
        f"/api/v1/intake/{in_case['evidence_id']}", headers=bearer(tokens["system"])
    )
    assert answer.status_code == 404


def test_a_confirmation_is_refused_when_the_row_was_altered(client, tokens, services, photo):
    issued_bodycam(client, tokens["admin"], "DSJ-1")
    evidence_id = intake_upload(client, tokens["system"], "DSJ-1", photo).json["evidence"][
        "evidence_id"
    ]
    tamper(services, "UPDATE evidence SET size = size + 1 WHERE id = :id", id=evidence_id)
    answer = client.get(f"/api/v1/intake/{evidence_id}", headers=bearer(tokens["system"]))
    assert answer.status_code == 409 and "run `lianzheng audit`" in answer.json["detail"]


def test_a_shifts_report_is_one_event_of_the_intake_chain(client, tokens, services):
    size = log_size(client)
    answer = client.post("/api/v1/intake/reports", json=REPORT, headers=bearer(tokens["system"]))
    assert answer.status_code == 201, answer.json
    assert answer.json["event"]["case_no"] == "INTAKE"
    assert answer.json["event"]["type"] == "evidence.ingest-reported"
    assert answer.json["event"]["payload"] == REPORT
    assert log_size(client) == size + 1
    assert run_audit(services).clean


@pytest.mark.parametrize(
    "change",
    [
        {"ended_at": "2026-11-30T09:00:00Z"},
        {"files": -1},
        {"files": "120"},
        {"report_sha256": "AB" * 32},
        {"station": "dock-1"},
        {"started_at": "yesterday"},
    ],
)
def test_a_malformed_report_is_refused_and_logs_nothing(client, tokens, change):
    size = log_size(client)
    body = {**REPORT, **change}
    answer = client.post("/api/v1/intake/reports", json=body, headers=bearer(tokens["system"]))
    assert answer.status_code == 400, answer.json
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert log_size(client) == size


def _link(client, token, evidence_id, case_no, what="link"):
    return client.post(
        f"/api/v1/intake/{evidence_id}/{what}", json={"case_no": case_no}, headers=bearer(token)
    )


def test_docked_footage_is_proposed_for_the_carriers_case_and_once_linked_is_the_cases(
    client, tokens, services, photo
):
    case_no = open_case(client, tokens["officer"])
    evidence_id = docked_photo(client, tokens, photo)
    [listed] = client.get("/api/v1/intake", headers=bearer(tokens["officer"])).json["unlinked"]
    assert listed["evidence_id"] == evidence_id and listed["carrier"] == "officer-1"
    assert listed["proposals"] == [case_no]
    linked = _link(client, tokens["officer"], evidence_id, case_no)
    assert linked.status_code == 201, linked.json
    event = linked.json["event"]
    assert (event["type"], event["case_no"]) == ("evidence.linked", case_no)
    assert event["payload"]["evidence_id"] == evidence_id
    in_case = client.get(f"/api/v1/cases/{case_no}/evidence", headers=bearer(tokens["officer"]))
    assert [e["evidence_id"] for e in in_case.json["evidence"]] == [evidence_id]
    seen = client.get(
        f"/api/v1/evidence/{evidence_id}?reason=case-review", headers=bearer(tokens["officer"])
    )
    assert seen.status_code == 200
    assert client.get("/api/v1/intake", headers=bearer(tokens["officer"])).json["unlinked"] == []
    assert _link(client, tokens["officer"], evidence_id, case_no).status_code == 404  # once
    # a station that restarts after the link still reads what the log registered
    confirmed = client.get(f"/api/v1/intake/{evidence_id}", headers=bearer(tokens["system"]))
    assert confirmed.status_code == 200 and confirmed.json["evidence_id"] == evidence_id
    assert run_audit(services).clean


def test_a_declined_proposal_is_not_proposed_again_and_the_footage_stays_unlinked(
    client, tokens, photo
):
    case_no = open_case(client, tokens["officer"])
    evidence_id = docked_photo(client, tokens, photo)
    declined = _link(client, tokens["supervisor"], evidence_id, case_no, "decline")
    assert declined.status_code == 201
    assert declined.json["event"]["type"] == "evidence.link-declined"
    [listed] = client.get("/api/v1/intake", headers=bearer(tokens["supervisor"])).json["unlinked"]
    assert listed["proposals"] == []


def test_an_officer_neither_sees_nor_links_footage_another_officer_carried(
    client, tokens, services, photo
):
    with services.sessions.begin() as session:
        other = add_user(session, "officer-2", Role.OFFICER)
    case_no = open_case(client, other)
    evidence_id = docked_photo(client, tokens, photo)  # carried by officer-1
    assert client.get("/api/v1/intake", headers=bearer(other)).json["unlinked"] == []
    size = log_size(client)
    assert _link(client, other, evidence_id, case_no).status_code == 404
    assert log_size(client) == size
    by_supervisor = _link(client, tokens["supervisor"], evidence_id, case_no)
    assert by_supervisor.status_code == 201  # a supervisor links any footage


def test_footage_is_not_linked_to_a_closed_case(client, tokens, photo):
    case_no = open_case(client, tokens["officer"])
    move(client, tokens["officer"], case_no, "FILED", ("WITHDRAWN", {"reason": "duplicate"}))
    evidence_id = docked_photo(client, tokens, photo)
    size = log_size(client)
    refused = _link(client, tokens["officer"], evidence_id, case_no)
    assert refused.status_code == 409 and "WITHDRAWN" in refused.json["detail"]
    assert log_size(client) == size


def test_a_row_moved_into_a_case_without_a_link_event_is_refused_and_found_by_the_audit(
    client, tokens, services, photo
):
    case_no = open_case(client, tokens["officer"])
    evidence_id = docked_photo(client, tokens, photo)
    tamper(services, "UPDATE evidence SET case_no = :c WHERE id = :id", c=case_no, id=evidence_id)
    seen = client.get(
        f"/api/v1/evidence/{evidence_id}?reason=case-review", headers=bearer(tokens["officer"])
    )
    assert seen.status_code == 409
    findings = [f.where for f in run_audit(services).findings]
    assert f"evidence {evidence_id}" in findings
