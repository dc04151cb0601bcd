"""The anchor list and receipts through the API, checked against the chain alone."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anchor import receipt
from anchor.account import development_account
from anchor.worker import Target
from ledger import merkle
from ledger.checkpoint import CheckpointSigner
from ledger.trust import TrustRoots
from ledger.users import Role, add_user
from ledger.verdict import Status, Verdict
from tests.anchor.support import append, worker
from tests.conftest import bearer
from tests.support.api import PARTY, open_case
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app


@pytest.fixture
def anchored(tmp_path, database_url, chain, contract):
    """A deployment configured for the contract on the test anvil (production-style settings)."""
    settings = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "LIANZHENG_RPC_URL": chain.url,
            "LIANZHENG_CHAIN_ID": str(chain.chain_id),
            "LIANZHENG_CONTRACT_ADDRESS": contract.address,
        }
    )
    services = build(settings)
    migrate(services.engine)
    target = Target(chain, contract, development_account(0), chain.latest_number() - 1)
    yield services, worker(services, target), create_app(services=services).test_client()
    services.engine.dispose()


def test_the_anchor_list_shows_each_anchor_on_chain(anchored, chain, contract):
    services, w, client = anchored
    assert client.get("/api/v1/log/anchors").json["anchors"] == []
    append(services, 3)
    w.cycle()
    append(services, 2)
    w.cycle()
    body = client.get("/api/v1/log/anchors").json
    assert body["chain_id"] == chain.chain_id and body["contract"] == contract.address
    assert [a["size"] for a in body["anchors"]] == [5, 3]
    newest = body["anchors"][0]
    assert newest["root"] == contract.root_at(5).hex()
    assert newest["block_hash"] == "0x" + chain.block(newest["block_number"]).hash.hex()
    assert newest["final"] is False
    assert [a["size"] for a in client.get("/api/v1/log/anchors?before=5").json["anchors"]] == [3]


def _verify(services, data, chain):
    return receipt.verify(data, TrustRoots([services.trust.latest()]), [chain] if chain else [])


def _statuses(report):
    return {c.name: c.status for c in report.checks}


def test_a_receipt_verifies_against_the_trust_root_and_the_chain_it_pins(anchored, chain):
    services, w, client = anchored
    append(services, 6)
    w.cycle()
    answer = client.get("/api/v1/log/receipt?index=4")
    assert answer.status_code == 200
    early = _verify(services, answer.json, chain)
    assert (
        early.verdict == Verdict.INCOMPLETE and "confirmations" in early.checks[-1].detail
    )  # not final yet
    chain.rpc("anvil_mine", [hex(65)])  # final: anvil finalizes 64 blocks behind the latest
    report = _verify(services, answer.json, chain)
    assert report.verdict == Verdict.VERIFIED, report.to_json()
    assert set(_statuses(report).values()) == {
        Status.PASS,
        Status.NOT_RUN,
    }  # no witnesses configured
    assert {c.name for c in report.checks} >= {
        receipt.ANCHORED,
        "the contract's own inclusion check",
    }


def test_offline_a_receipt_is_verified_with_the_anchor_not_checked(anchored):
    services, w, client = anchored
    append(services, 3)
    w.cycle()
    report = _verify(services, client.get("/api/v1/log/receipt?index=1").json, None)
    assert (
        report.verdict == Verdict.VERIFIED and _statuses(report)[receipt.ANCHORED] == Status.NOT_RUN
    )


def test_a_tampered_receipt_fails_the_check_it_breaks(anchored, chain):
    services, w, client = anchored
    append(services, 6)
    w.cycle()
    chain.rpc("anvil_mine", [hex(65)])  # final: anvil finalizes 64 blocks behind the latest
    forged = client.get("/api/v1/log/receipt?index=2").json
    forged["leaf_hash"] = "00" * 32
    report = _verify(services, forged, chain)
    failed = {c.name for c in report.checks if c.status == Status.FAIL}
    assert failed == {
        "inclusion proof leads to the checkpoint's root",
        "the contract's own inclusion check",
    }
    assert report.verdict == Verdict.NOT_VERIFIED


def test_a_receipt_forged_consistently_with_another_key_names_that_key(anchored, chain):
    services, w, client = anchored
    append(services, 3)
    w.cycle()
    forged = client.get("/api/v1/log/receipt?index=1").json
    event = b"forged event"
    leaves = [merkle.leaf_hash(b"a"), merkle.leaf_hash(event), merkle.leaf_hash(b"c")]
    root = merkle.root_from_leaves(leaves)
    stranger = CheckpointSigner(services.store.origin, Ed25519PrivateKey.generate())
    forged.update(
        leaf_hash=leaves[1].hex(),
        checkpoint=stranger.sign(3, root),
        inclusion={"size": 3, "root": root.hex(), "proof": [leaves[0].hex(), leaves[2].hex()]},
    )
    forged["anchor"].update(root=root.hex(), block_number=999999)
    report = _verify(services, forged, chain)
    assert report.verdict == Verdict.NOT_VERIFIED
    [failed] = [c for c in report.checks if c.status == Status.FAIL]
    assert failed.name == "checkpoint is signed by a key of the trusted root"
    assert stranger.note_key_id.hex() in failed.detail and "does not list" in failed.detail


def test_a_leaf_not_yet_anchored_has_no_receipt_yet(anchored):
    services, w, client = anchored
    append(services, 2)
    w.cycle()
    append(services, 1)
    answer = client.get("/api/v1/log/receipt?index=2")
    assert answer.status_code == 409
    assert answer.json["type"].endswith("not-anchored-yet")
    assert client.get("/api/v1/log/receipt?index=3").status_code == 404


def test_a_case_has_a_receipt_for_every_anchored_event_with_the_event_itself(anchored, chain):
    services, w, client = anchored
    with services.sessions.begin() as session:
        token = add_user(session, "officer-1", Role.OFFICER)
    case_no = open_case(client, token, party=PARTY)
    w.cycle()
    r = client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED", "payload": {}},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.json
    body = client.get(f"/api/v1/cases/{case_no}/receipts", headers=bearer(token)).json
    assert len(body["receipts"]) == 1 and len(body["not_yet_anchored"]) == 1
    [first] = body["receipts"]
    assert case_no in first["event"] and PARTY["name"] not in first["event"]
    assert _verify(services, first, None).verdict == Verdict.VERIFIED
    assert client.get(f"/api/v1/cases/{case_no}/receipts").status_code == 401


def test_a_receipt_stays_pinned_to_the_first_anchor_that_covered_its_leaf(anchored, chain):
    services, w, client = anchored
    append(services, 2)
    w.cycle()
    first = client.get("/api/v1/log/receipt?index=1").json["anchor"]
    chain.rpc("anvil_mine", [65])
    w.cycle()  # the anchor of size 2 is final
    append(services, 2)
    w.cycle()  # the anchor of size 4 is only mined
    again = client.get("/api/v1/log/receipt?index=1").json["anchor"]
    assert (again["size"], again["block_number"], again["final"]) == (
        2,
        first["block_number"],
        True,
    )
    newest = client.get("/api/v1/log/receipt?index=3").json["anchor"]
    assert (newest["size"], newest["final"]) == (4, False)
