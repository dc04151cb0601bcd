"""The public verification API of DESIGN.md, checked as a monitor would script against it."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import merkle
from ledger.checkpoint import verify_note
from tests.conftest import bearer


@pytest.fixture
def five_events(client, tokens):
    for _ in range(5):
        r = client.post(
            "/api/v1/cases",
            json={"source": "camera", "violation_type": "stall", "district": "d"},
            headers=bearer(tokens["system"]),
        )
        assert r.status_code == 201
    return client


def _checkpoint(client):
    key = client.get("/api/v1/log/publickey").json
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"]))
    return verify_note(
        client.get("/api/v1/log/checkpoint").get_data(as_text=True), key["origin"], public
    )


def test_the_public_key_names_its_origin_id_and_algorithm(client):
    key = client.get("/api/v1/log/publickey").json
    assert set(key) == {"origin", "key_id", "algorithm", "public_key"}
    assert (
        key["algorithm"] == "ed25519" and len(key["public_key"]) == 64 and len(key["key_id"]) == 8
    )


def test_the_checkpoint_is_a_signed_note_that_verifies_with_the_published_key(five_events):
    r = five_events.get("/api/v1/log/checkpoint")
    assert r.mimetype == "text/plain"
    assert _checkpoint(five_events).size == 5


def test_an_empty_log_has_no_checkpoint_yet(client):
    r = client.get("/api/v1/log/checkpoint")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_leaves_and_an_inclusion_proof_verify_against_the_checkpoint(five_events):
    checkpoint = _checkpoint(five_events)
    leaves = five_events.get("/api/v1/log/leaves?start=0&end=5").json["leaves"]
    assert [leaf["index"] for leaf in leaves] == [0, 1, 2, 3, 4]
    proof = five_events.get("/api/v1/log/proof/inclusion?index=3").json
    assert set(proof) == {"index", "size", "leaf_hash", "root", "proof"}
    assert proof["size"] == checkpoint.size and proof["leaf_hash"] == leaves[3]["leaf_hash"]
    merkle.verify_inclusion(
        3,
        checkpoint.size,
        bytes.fromhex(leaves[3]["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        checkpoint.root,
    )


def test_a_consistency_proof_links_an_older_checkpoint_to_the_latest(five_events):
    old = five_events.get("/api/v1/log/checkpoint?size=2").get_data(as_text=True)
    proof = five_events.get("/api/v1/log/proof/consistency?from=2&to=5").json
    assert set(proof) == {"from", "to", "root_from", "root_to", "proof"}
    assert proof["root_from"] == _root_hex(old)
    merkle.verify_consistency(
        2,
        5,
        bytes.fromhex(proof["root_from"]),
        _checkpoint(five_events).root,
        [bytes.fromhex(p) for p in proof["proof"]],
    )


def _root_hex(note):
    import base64

    return base64.b64decode(note.split("\n")[2]).hex()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/proof/inclusion?index=5",
        "/api/v1/log/proof/inclusion?index=0&size=6",
        "/api/v1/log/proof/inclusion?index=-1",
        "/api/v1/log/proof/inclusion?index=abc",
        "/api/v1/log/proof/inclusion",
        "/api/v1/log/proof/consistency?from=0&to=5",
        "/api/v1/log/proof/consistency?from=4&to=3",
        "/api/v1/log/leaves?start=0&end=1001",
        "/api/v1/log/leaves?start=7&end=9",
    ],
)
def test_proofs_and_leaves_outside_the_tree_are_400_problems(five_events, url):
    r = five_events.get(url)
    assert r.status_code == 400, r.json
    assert r.content_type == "application/problem+json" and r.json["detail"]


def test_an_unknown_route_is_a_404_problem(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/checkpoint?size=9223372036854775808",
        "/api/v1/log/anchors?before=9223372036854775808",
        "/api/v1/log/anchors?limit=99999999999999999999",
        "/api/v1/log/proof/inclusion?index=0&size=%C2%B2",  # "²" passes str.isdigit()
        "/api/v1/log/leaves?start=0&end=18446744073709551616",
    ],
)
def test_integers_beyond_the_databases_range_are_400_naming_the_bound(five_events, url):
    r = five_events.get(url)
    assert r.status_code == 400, r.json
    assert (
        r.content_type == "application/problem+json" and "9223372036854775807" in r.json["detail"]
    )


def test_the_largest_64_bit_size_is_in_range_but_not_in_the_log(five_events):
    r = five_events.get("/api/v1/log/checkpoint?size=9223372036854775807")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
