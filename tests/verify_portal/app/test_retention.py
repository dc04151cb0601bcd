"""Retention and legal holds as the legal role and the scheduled run use them: what the rules let go
is purged with a custody event and its leaf kept; nothing of an open case or under a hold ever
goes, whichever way it is tried."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from evidence.errors import Purged
from evidence.meta import UploadMeta
from evidence.models import EvidenceItem
from evidence.retention import add_years
from ledger import merkle
from ledger.events import Event, utc_now
from ledger.storage import case_leaves
from ledger.users import by_username
from tests.conftest import bearer
from tests.support.api import NOW, log_size, open_case, tamper, upload_evidence
from tests.support.retention import case_with_a_photo, docked_long_ago, years_ago
from verify_portal.app.auditing import run_audit

RULE = "case-ended-plus-10y"


def _run(services, dry_run=False, as_of=None):
    with services.sessions() as session:
        system = by_username(session, "system-1")
    return services.retention.run(system, dry_run, as_of)


def _blob_of(services, evidence_id):
    return services.evidence.readable(_admin(services), evidence_id).sha256


def _admin(services):
    with services.sessions() as session:
        return by_username(session, "admin-1")


def _hold(client, tokens, evidence_id, reason="litigation"):
    return client.put(
        f"/api/v1/evidence/{evidence_id}/legal-hold",
        json={"reason": reason},
        headers=bearer(tokens["legal"]),
    )


def _lift(client, tokens, evidence_id, reason="proceedings-ended"):
    return client.delete(
        f"/api/v1/evidence/{evidence_id}/legal-hold?reason={reason}",
        headers=bearer(tokens["legal"]),
    )


@pytest.fixture
def photos(media_dir):
    """Distinct photo files (distinct bytes: blobs are content-addressed)."""
    base = (media_dir / "photo.jpg").read_bytes()
    return [base + b"\0" * n for n in range(1, 8)]


def test_an_item_past_its_rule_is_purged_its_leaf_kept_and_its_bytes_refused_with_410(
    client, tokens, services, photos
):
    case_no, item = case_with_a_photo(client, tokens, services, photos[0], 11)
    blob = _blob_of(services, item)
    report = _run(services)
    assert [(d.case_no, d.evidence_id) for d in report.purged] == [(case_no, item)]
    assert report.rule == RULE and report.blobs_deleted == 1
    assert not services.evidence.blobs.exists(blob)

    size = log_size(client)
    refused = client.get(
        f"/api/v1/evidence/{item}/content?reason=audit", headers=bearer(tokens["supervisor"])
    )
    assert refused.status_code == 410 and RULE in refused.json["detail"]
    assert log_size(client) == size, "a refused download was logged"
    record = client.get(f"/api/v1/evidence/{item}?reason=audit", headers=bearer(tokens["admin"]))
    assert record.status_code == 200 and record.json["sha256"] == blob

    trail = client.get(f"/api/v1/evidence/{item}/custody", headers=bearer(tokens["admin"])).json
    [purge] = [c for c in trail["custody"] if c.get("action") == "purge"]
    assert (purge["reason"], purge["role"], purge["actor"]) == (RULE, "system", "system-1")
    registration = trail["custody"][0]
    with services.sessions() as session:
        proof = services.store.inclusion_proof(session, registration["index"])
        root = services.store.root(session, proof.size)
    merkle.verify_inclusion(proof.index, proof.size, proof.leaf_hash, proof.proof, root)

    audit = run_audit(services)
    assert audit.clean, audit.findings
    assert [f.problem for f in audit.acknowledged] == [f"purged under rule {RULE}"]


def test_nothing_of_an_open_case_or_under_a_hold_is_purged_whichever_way_it_is_tried(
    client, tokens, services, photos
):
    _, open_case_item = case_with_a_photo(client, tokens, services, photos[0], 30, ended=False)
    _, too_recent = case_with_a_photo(client, tokens, services, photos[1], 9.9)
    _, held = case_with_a_photo(client, tokens, services, photos[2], 11)
    _, held_again = case_with_a_photo(client, tokens, services, photos[3], 11)
    _, released = case_with_a_photo(client, tokens, services, photos[4], 11)
    assert _hold(client, tokens, held).status_code == 201
    for item in (held_again, released):
        assert _hold(client, tokens, item).status_code == 201
        assert _lift(client, tokens, item).status_code == 201
    assert _hold(client, tokens, held_again, "court-order").status_code == 201

    planned = _run(services, dry_run=True)
    assert [d.evidence_id for d in planned.purged] == [released]
    assert [d.evidence_id for d in _run(services).purged] == [released]
    assert _run(services).purged == [], "a second run found more to purge"
    for item in (open_case_item, too_recent, held, held_again):
        assert services.evidence.blobs.exists(_blob_of(services, item)), item

    assert _lift(client, tokens, held).status_code == 201  # the hold ends: its rule applies again
    assert [d.evidence_id for d in _run(services).purged] == [held]
    assert run_audit(services).clean


def test_a_dry_run_lists_what_would_go_changes_nothing_and_plans_ahead_with_as_of(
    client, tokens, services, photos
):
    _, old = case_with_a_photo(client, tokens, services, photos[0], 11)
    _, younger = case_with_a_photo(client, tokens, services, photos[1], 9)
    size = log_size(client)
    assert [d.evidence_id for d in _run(services, dry_run=True).purged] == [old]
    in_two_years = add_years(datetime.now(UTC), 2)
    ahead = _run(services, dry_run=True, as_of=in_two_years)
    assert {d.evidence_id for d in ahead.purged} == {old, younger}
    assert log_size(client) == size
    assert services.evidence.blobs.exists(_blob_of(services, old))
    with pytest.raises(Exception, match="--dry-run only"):
        _run(services, as_of=in_two_years)


def test_a_blob_that_an_item_still_kept_shares_is_not_deleted(client, tokens, services, photos):
    _, old = case_with_a_photo(client, tokens, services, photos[0], 11)
    current = open_case(client, tokens["officer"])
    kept = upload_evidence(client, tokens["officer"], current, photos[0]).json["evidence"]
    report = _run(services)
    assert [d.evidence_id for d in report.purged] == [old] and report.blobs_deleted == 0
    download = client.get(
        f"/api/v1/evidence/{kept['evidence_id']}/content?reason=audit",
        headers=bearer(tokens["legal"]),
    )
    assert download.status_code == 200 and download.data == photos[0]


def test_holds_are_the_legal_roles_and_a_second_hold_or_a_lift_without_one_is_refused(
    client, tokens, services, photos
):
    _, item = case_with_a_photo(client, tokens, services, photos[0], 1)
    size = log_size(client)
    refused = client.put(
        f"/api/v1/evidence/{item}/legal-hold",
        json={"reason": "litigation"},
        headers=bearer(tokens["supervisor"]),
    )
    assert refused.status_code == 403
    assert _lift(client, tokens, item).status_code == 409
    assert _hold(client, tokens, item, "a judge's name").status_code == 400
    assert log_size(client) == size
    assert _hold(client, tokens, item).status_code == 201
    second = _hold(client, tokens, item)
    assert second.status_code == 409 and "already held (litigation)" in second.json["detail"]
    assert log_size(client) == size + 1


def test_a_purge_that_broke_the_rules_is_a_finding_of_the_audit(client, tokens, services, photos):
    case_no, item = case_with_a_photo(client, tokens, services, photos[0], 20, ended=False)
    with services.sessions() as session:
        system = by_username(session, "system-1")
    payload = {
        "evidence_id": item,
        "sha256": _blob_of(services, item),
        "action": "purge",
        "role": "system",
        "reason": RULE,
    }
    services.cases.write(  # what a faulty or forged run could append
        system,
        None,
        lambda tx: services.cases.append_event(tx, system, case_no, "evidence.custody", payload),
    )
    problems = [f.problem for f in run_audit(services).findings]
    assert f"purge of evidence {item}: purged it while its case was open" in problems


def test_a_run_killed_between_the_purge_record_and_the_deletion_is_finished_by_the_next(
    client, tokens, services, photos, monkeypatch
):
    _, item = case_with_a_photo(client, tokens, services, photos[0], 11)
    blob = _blob_of(services, item)
    blobs = services.retention.blobs

    def killed(sha256):
        raise KeyboardInterrupt("killed before the blob went")

    monkeypatch.setattr(blobs, "delete", killed)
    with pytest.raises(KeyboardInterrupt):
        _run(services)
    monkeypatch.undo()
    assert blobs.exists(blob)
    assert run_audit(services).clean  # a recorded purge whose blob is still there: no finding
    report = _run(services)
    assert report.purged == [] and report.blobs_deleted == 1
    assert not blobs.exists(blob)


def test_a_case_whose_row_disagrees_with_its_log_is_left_alone_and_the_run_goes_on(
    client, tokens, services, photos
):
    altered, first = case_with_a_photo(client, tokens, services, photos[0], 11)
    _, second = case_with_a_photo(client, tokens, services, photos[1], 11)
    tamper(services, "UPDATE cases SET district = 'huangpu' WHERE case_no = :c", c=altered)
    report = _run(services)
    assert [d.evidence_id for d in report.purged] == [second]
    assert "disagrees with its log" in report.refused[altered]
    assert services.evidence.blobs.exists(_blob_of(services, first))


def test_bytes_of_a_purged_item_uploaded_again_are_kept_and_a_deletion_meanwhile_is_refused(
    client, tokens, services, photos
):
    _, old = case_with_a_photo(client, tokens, services, photos[0], 11)
    blob = _blob_of(services, old)
    _run(services)
    current = open_case(client, tokens["officer"])
    again = upload_evidence(client, tokens["officer"], current, photos[0])
    assert again.status_code == 201 and services.evidence.blobs.exists(blob)
    assert _run(services).blobs_deleted == 0  # an item kept uses the bytes now

    with services.sessions() as session:
        officer = by_username(session, "officer-1")
    meta = UploadMeta.parse({"case_no": current, "captured_at": NOW})
    stored = services.evidence.store(officer, meta, [photos[0]], len(photos[0]))
    services.evidence.blobs.delete(blob)  # as a run could, between the store and the register
    size = log_size(client)
    with pytest.raises(Purged, match="send the file again"):
        services.cases.write(
            officer, None, lambda tx: services.evidence.register(tx, officer, stored)
        )
    assert log_size(client) == size


def test_a_closing_event_forged_into_the_database_purges_nothing(client, tokens, services, photos):
    case_no, item = case_with_a_photo(client, tokens, services, photos[0], 20, ended=False)
    with services.sessions() as session:
        [*_, last] = case_leaves(session, case_no)
        size = services.store.latest_size(session)
    forged = Event(
        type="case.withdrawn",
        case_no=case_no,
        seq=Event.decode(last.data).seq + 1,
        actor="officer-1",
        time=years_ago(11),
        prev=last.leaf_hash.hex(),
        payload={"reason": "duplicate"},
    ).encode()
    tamper(  # what someone with the database, but not the agency's keys, could write
        services,
        "INSERT INTO log_leaves (leaf_index, leaf_hash, data, case_no) VALUES (:i, :h, :d, :c)",
        "UPDATE cases SET state = 'WITHDRAWN' WHERE case_no = :c",
        i=size,
        h=merkle.leaf_hash(forged),
        d=forged,
        c=case_no,
    )
    report = _run(services)
    assert report.purged == [] and "past the signed size" in report.refused[case_no]
    assert services.evidence.blobs.exists(_blob_of(services, item))


UNLINKED = "unlinked-plus-6m"


def test_docked_footage_no_case_holds_goes_after_six_months_and_its_leaf_stays(
    client, tokens, services, photos
):
    old = docked_long_ago(client, tokens, services, photos[0], 0.6, tag="old")
    recent = docked_long_ago(client, tokens, services, photos[1], 0.4, tag="new")
    planned = _run(services, dry_run=True)
    assert [(d.case_no, d.evidence_id, d.rule) for d in planned.purged] == [
        ("INTAKE", old, UNLINKED)
    ]
    report = _run(services)
    assert [d.evidence_id for d in report.purged] == [old] and report.blobs_deleted == 1
    assert report.to_json()["unlinked_rule"] == UNLINKED
    assert not services.evidence.blobs.exists(
        services.intake.confirm(_admin(services), old)["sha256"]
    )
    assert services.evidence.blobs.exists(
        services.intake.confirm(_admin(services), recent)["sha256"]
    )
    audit = run_audit(services)
    assert audit.clean
    assert any(UNLINKED in f.problem for f in audit.acknowledged)
    case_no = open_case(client, tokens["officer"])
    linked = client.post(
        f"/api/v1/intake/{old}/link",
        json={"case_no": case_no},
        headers=bearer(tokens["supervisor"]),
    )
    assert linked.status_code == 410  # its bytes are gone: no case gets it
    assert _run(services).purged == []  # once


def test_docked_footage_linked_to_a_case_is_never_purged_as_unlinked(
    client, tokens, services, photos
):
    services.cases.clock = lambda: years_ago(0.6)
    try:
        case_no = open_case(client, tokens["officer"])
    finally:
        services.cases.clock = utc_now
    item = docked_long_ago(client, tokens, services, photos[0], 0.6)
    linked = client.post(
        f"/api/v1/intake/{item}/link", json={"case_no": case_no}, headers=bearer(tokens["officer"])
    )
    assert linked.status_code == 201, linked.json
    assert _run(services, dry_run=True).purged == [] and _run(services).purged == []
    # Nor when the row is edited to look unlinked: the intake chain records the link.
    tamper(
        services, "UPDATE evidence SET case_no = 'INTAKE', linked_leaf = NULL WHERE id = :i", i=item
    )
    assert _run(services).purged == []
    with services.sessions() as session:
        blob = session.scalar(select(EvidenceItem.sha256).where(EvidenceItem.id == item))
    assert services.evidence.blobs.exists(blob)


def test_footage_linked_while_the_run_folds_the_intake_chain_is_left_for_the_next_run(
    client, tokens, services, photos, monkeypatch
):
    """The intake chain is folded before the append lock is taken; a link appended in between is
    seen under the lock, and the footage is not purged."""
    item = docked_long_ago(client, tokens, services, photos[0], 0.6)
    case_no = open_case(client, tokens["officer"])
    real = type(services.retention)._signed_intake

    def fold_then_link(self, root):
        folded = real(self, root)
        linked = client.post(
            f"/api/v1/intake/{item}/link",
            json={"case_no": case_no},
            headers=bearer(tokens["supervisor"]),
        )
        assert linked.status_code == 201, linked.json
        return folded

    monkeypatch.setattr(type(services.retention), "_signed_intake", fold_then_link)
    assert _run(services).purged == []
    assert (
        client.get(
            f"/api/v1/evidence/{item}/content?reason=audit", headers=bearer(tokens["supervisor"])
        ).status_code
        == 200
    )


def test_docked_footage_under_a_legal_hold_outlives_its_six_months_until_the_hold_is_lifted(
    client, tokens, services, photos
):
    item = docked_long_ago(client, tokens, services, photos[0], 0.6)
    assert _hold(client, tokens, item).status_code == 201
    assert _hold(client, tokens, item).status_code == 409  # held already
    assert _run(services).purged == []
    assert _lift(client, tokens, item).status_code == 201
    assert _hold(client, tokens, item, "court-order").status_code == 201  # set again
    assert _run(services).purged == []
    assert _lift(client, tokens, item, "order-lifted").status_code == 201
    assert [d.evidence_id for d in _run(services).purged] == [item]
    assert run_audit(services).clean


def test_only_the_legal_role_holds_docked_footage(client, tokens, services, photos):
    item = docked_long_ago(client, tokens, services, photos[0], 0.1)
    for who in ("officer", "supervisor", "system", "admin"):
        refused = client.put(
            f"/api/v1/evidence/{item}/legal-hold",
            json={"reason": "litigation"},
            headers=bearer(tokens[who]),
        )
        assert refused.status_code == 403, who
