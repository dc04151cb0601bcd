"""Trust roots: the fingerprint, strict parsing, and checkpoints, packages and successors checked
against the root alone."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import sm2, trust
from ledger.checkpoint import CheckpointSigner
from ledger.cosignature import cosign
from ledger.errors import InvalidInput, VerificationError
from tests.support.trust import EPOCH, ORIGIN, Deployment

ROOT_HASH = hashlib.sha256(b"root").digest()


def test_the_fingerprint_is_sha256_of_the_jcs_bytes_without_the_signatures():
    doc = Deployment().document()
    expected = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    assert trust.fingerprint(doc) == expected
    assert trust.fingerprint({**doc, "signatures": [{"x": "y"}]}) == expected
    assert trust.fingerprint({**doc, "agency": "another"}) != expected


def test_a_root_survives_a_round_trip_through_its_json_text():
    deployment = Deployment()
    root = trust.TrustRoot.parse(json.dumps(deployment.document(), ensure_ascii=False))
    assert root.log_origin == ORIGIN and root.agency == deployment.agency
    assert root.fingerprint == trust.fingerprint(deployment.document())
    assert root.chain is not None and root.chain.chain_id == 31337


def test_a_root_whose_agency_holds_a_control_character_is_refused():
    doc = {**Deployment().document(), "agency": "城管执法局\u0000"}
    with pytest.raises(InvalidInput, match="agency holds a control character"):
        trust.TrustRoot.parse(json.dumps(doc))


def test_a_key_id_that_is_not_the_keys_own_refuses_the_root():
    doc = Deployment().document()
    doc["package_keys"][0]["key_id"] = "00" * 8
    with pytest.raises(InvalidInput, match="key_id '0000000000000000' is not the key's"):
        trust.TrustRoot.from_document(doc)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"format": "lianzheng-trust/2"}, "format"),
        ({"extra": 1}, "unknown members"),
        ({"witness_quorum": 1}, "witness_quorum"),
        ({"witness_quorum": True}, "witness_quorum"),
        ({"chain": {"chain_id": 1}}, "chain must hold"),
        ({"chain": None, "require_chain_check": True}, "no chain is named"),
        ({"checkpoint_keys": []}, "checkpoint_keys is empty"),
        ({"log_origin": "has space"}, "log_origin"),
        ({"replaces": "abc"}, "replaces"),
    ],
)
def test_a_malformed_root_is_refused_naming_the_member(change, words):
    with pytest.raises(InvalidInput, match=words):
        trust.TrustRoot.from_document(Deployment().document(**change))


def test_a_deeply_nested_or_oversized_root_is_refused_before_parsing():
    with pytest.raises(InvalidInput, match="nests deeper"):
        trust.TrustRoot.parse("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidInput, match="more than"):
        trust.TrustRoot.parse(b" " * (trust.MAX_ROOT_BYTES + 1))


def test_a_checkpoint_signed_by_the_roots_key_verifies():
    deployment = Deployment()
    verified = trust.verify_checkpoint(deployment.root(), deployment.signer.sign(5, ROOT_HASH))
    assert verified.checkpoint.size == 5 and verified.checkpoint.root == ROOT_HASH


def test_a_checkpoint_signed_by_a_stranger_names_the_unknown_key_and_the_root():
    deployment, stranger = Deployment(), CheckpointSigner(ORIGIN, Ed25519PrivateKey.generate())
    root = deployment.root()
    with pytest.raises(VerificationError) as refused:
        trust.verify_checkpoint(root, stranger.sign(5, ROOT_HASH))
    assert f"checkpoint signed by key {stranger.note_key_id.hex()}" in refused.value.message
    assert "does not list" in refused.value.message and root.fingerprint in refused.value.message


def test_a_checkpoint_of_another_log_is_refused():
    other = Deployment(origin="other.example/log")
    with pytest.raises(VerificationError, match="is for log"):
        trust.verify_checkpoint(Deployment().root(), other.signer.sign(5, ROOT_HASH))


def test_a_checkpoint_key_signs_only_the_sizes_of_its_period():
    deployment = Deployment()
    doc = deployment.document()
    doc["checkpoint_keys"][0]["valid_until_size"] = 5
    root = trust.TrustRoot.from_document(doc)
    assert trust.verify_checkpoint(root, deployment.signer.sign(4, ROOT_HASH))
    with pytest.raises(VerificationError, match="allows only for sizes from 0 below 5"):
        trust.verify_checkpoint(root, deployment.signer.sign(5, ROOT_HASH))


def test_an_altered_checkpoint_body_fails_its_signature():
    deployment = Deployment()
    note = deployment.signer.sign(5, ROOT_HASH).replace("\n5\n", "\n6\n", 1)
    with pytest.raises(VerificationError, match="does not verify"):
        trust.verify_checkpoint(deployment.root(), note)


def test_witness_cosignatures_count_only_for_the_roots_witnesses():
    witness, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    deployment = Deployment(witnesses=[("court.example/w1", witness)], witness_quorum=1)
    note = deployment.signer.sign(5, ROOT_HASH)
    body = note.split("\n\n")[0] + "\n"
    cosigned = note + cosign(witness, "court.example/w1", body, 1_790_000_000)
    root = deployment.root()
    assert [w.name for w in trust.witnesses_of(root, trust.verify_checkpoint(root, cosigned))] == [
        "court.example/w1"
    ]
    forged = note + cosign(stranger, "court.example/w1", body, 1_790_000_000)
    assert trust.witnesses_of(root, trust.verify_checkpoint(root, forged)) == []


def test_a_known_witness_line_that_does_not_verify_rejects_the_note():
    witness = Ed25519PrivateKey.generate()
    deployment = Deployment(witnesses=[("court.example/w1", witness)], witness_quorum=1)
    note = deployment.signer.sign(5, ROOT_HASH)
    line = cosign(witness, "court.example/w1", "another body\n", 1_790_000_000)
    root = deployment.root()
    with pytest.raises(VerificationError, match="cosignature of witness court.example/w1"):
        trust.witnesses_of(root, trust.verify_checkpoint(root, note + line))


def test_the_quorum_check_names_each_witnesss_result():
    w1, w2, w3 = (Ed25519PrivateKey.generate() for _ in range(3))
    names = ["court.example/w1", "notary.example/w2", "justice.example/w3"]
    deployment = Deployment(witnesses=list(zip(names, (w1, w2, w3), strict=True)), witness_quorum=2)
    note = deployment.signer.sign(5, ROOT_HASH)
    body = note.split("\n\n")[0] + "\n"
    cosigned = note + cosign(w1, names[0], body, 1_790_000_000) + cosign(w2, names[1], body, 1)
    root = deployment.root()
    found = trust.check_witnesses(root, trust.verify_checkpoint(root, cosigned))
    assert found.startswith("2 of 2 required cosignatures: ")
    assert "cosigned by court.example/w1 at 2026-09-21T" in found
    assert "cosigned by notary.example/w2 at 1970-01-01T00:00:01Z" in found
    assert "justice.example/w3: missing" in found
    bad = note + cosign(w1, names[0], body, 5) + cosign(w2, names[1], "another body\n", 5)
    with pytest.raises(VerificationError, match="does not verify") as refused:
        trust.check_witnesses(root, trust.verify_checkpoint(root, bad))
    assert "cosigned by court.example/w1" in refused.value.message


def test_a_package_signature_is_checked_against_the_roots_key_and_its_period():
    deployment = Deployment()
    root = deployment.root()
    public = deployment.package_key.public_key().public_bytes_raw()
    message = b"tagmanifest"
    signature = deployment.package_key.sign(message)
    key = trust.verify_package_signature(
        root, public, signature, message, EPOCH + timedelta(days=1)
    )
    assert key.key_id == trust.package_key_id(public)
    with pytest.raises(VerificationError, match="allows only from"):
        trust.verify_package_signature(root, public, signature, message, EPOCH - timedelta(days=1))


def test_a_package_signed_by_a_stranger_names_the_recomputed_key_id():
    stranger = Ed25519PrivateKey.generate()
    public = stranger.public_key().public_bytes_raw()
    with pytest.raises(VerificationError) as refused:
        trust.verify_package_signature(
            Deployment().root(), public, stranger.sign(b"m"), b"m", datetime.now(UTC)
        )
    assert f"signed by key {trust.package_key_id(public)}" in refused.value.message


def test_a_successor_root_signed_by_the_old_package_key_replaces_it():
    deployment = Deployment()
    old = deployment.root()
    new_key = Ed25519PrivateKey.generate()
    doc = deployment.document()
    doc["package_keys"][0]["valid_until"] = "2026-06-01T00:00:00Z"
    doc["package_keys"].append(
        trust.package_key_entry(
            new_key.public_key().public_bytes_raw(), datetime(2026, 6, 1, tzinfo=UTC)
        )
    )
    successor = trust.TrustRoot.from_document(
        trust.sign_replacement(doc, old, deployment.package_key)
    )
    assert (
        trust.verify_replacement(old, successor).public_key
        == deployment.package_key.public_key().public_bytes_raw()
    )
    assert trust.successor_chain(old, [successor]) == [successor]


def test_a_successor_signed_by_a_stranger_or_naming_another_root_is_refused():
    deployment = Deployment()
    old = deployment.root()
    forged = trust.TrustRoot.from_document(
        trust.sign_replacement(
            deployment.document(agency="forged"), old, Ed25519PrivateKey.generate()
        )
    )
    with pytest.raises(VerificationError, match="no valid signature"):
        trust.verify_replacement(old, forged)
    unrelated = trust.TrustRoot.from_document(
        trust.sign_replacement(
            deployment.document(agency="x"), Deployment().root(), deployment.package_key
        )
    )
    with pytest.raises(VerificationError, match="does not name"):
        trust.verify_replacement(old, unrelated)


def test_the_replacement_signature_is_over_the_new_fingerprints_ascii():
    deployment = Deployment()
    old = deployment.root()
    signed = trust.sign_replacement(deployment.document(agency="next"), old, deployment.package_key)
    signature = base64.b64decode(signed["signatures"][0]["signature"])
    deployment.package_key.public_key().verify(signature, trust.fingerprint(signed).encode())


def test_two_different_successors_of_one_root_are_refused_as_a_split_history():
    deployment = Deployment()
    old = deployment.root()
    one = trust.TrustRoot.from_document(
        trust.sign_replacement(deployment.document(agency="a"), old, deployment.package_key)
    )
    other = trust.TrustRoot.from_document(
        trust.sign_replacement(deployment.document(agency="b"), old, deployment.package_key)
    )
    with pytest.raises(VerificationError, match="split history"):
        trust.successor_chain(old, [one, other])


# --- SM2 beside Ed25519 (DESIGN.md: 国密 digests and signatures) ------------------------------


def test_a_root_lists_sm2_keys_with_key_ids_recomputed_from_the_keys():
    deployment = Deployment.with_sm2()
    root = deployment.root()
    [checkpoint_sm2] = [k for k in root.checkpoint_keys if k.algorithm == "sm2"]
    [package_sm2] = [k for k in root.package_keys if k.algorithm == "sm2"]
    public = sm2.public_of(deployment.package_sm2)
    assert package_sm2.key_id == hashlib.sha256(public).hexdigest()[:16]
    assert checkpoint_sm2.key_id == deployment.signer.sm2[0].hex()
    doc = deployment.document()
    doc["package_keys"][1]["key_id"] = "00" * 8
    with pytest.raises(InvalidInput, match=r"package_keys\[1\]: key_id"):
        trust.TrustRoot.from_document(doc)


@pytest.mark.parametrize(
    "public_key, words",
    [
        ("04" + "01" * 64, "not a point of the SM2 curve"),
        ("ab" * 32, "must be 130 lowercase hex digits"),
    ],
)
def test_an_sm2_key_of_the_wrong_size_or_off_the_curve_refuses_the_root(public_key, words):
    doc = Deployment.with_sm2().document()
    doc["checkpoint_keys"][1]["public_key"] = public_key
    with pytest.raises(InvalidInput, match=words):
        trust.TrustRoot.from_document(doc)


def test_a_root_with_an_sm2_checkpoint_key_requires_its_line_on_the_sizes_it_covers():
    deployment = Deployment.with_sm2()
    root = deployment.root()
    verified = trust.verify_checkpoint(root, deployment.signer.sign(5, ROOT_HASH))
    assert verified.sm2_key is not None and "and SM2 key" in verified.signers()
    ed25519_only = CheckpointSigner(ORIGIN, deployment.checkpoint_key).sign(5, ROOT_HASH)
    with pytest.raises(VerificationError, match="requires an SM2 signature by checkpoint key"):
        trust.verify_checkpoint(root, ed25519_only)
    doc = deployment.document()
    doc["checkpoint_keys"][1]["valid_from_size"] = 6  # SM2 added to a running log at size 6
    assert trust.verify_checkpoint(trust.TrustRoot.from_document(doc), ed25519_only)


def test_an_altered_sm2_line_rejects_the_note_and_an_sm2_line_alone_verifies_nothing():
    deployment = Deployment.with_sm2()
    head, ed25519_line, sm2_line, _ = deployment.signer.sign(5, ROOT_HASH).rsplit("\n", 3)
    blob = bytearray(base64.b64decode(sm2_line.split(" ")[2]))
    blob[-3] ^= 1
    altered = f"{sm2_line.rsplit(' ', 1)[0]} {base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(VerificationError, match="checkpoint's sm2 signature by key"):
        trust.verify_checkpoint(deployment.root(), f"{head}\n{ed25519_line}\n{altered}\n")
    stranger = CheckpointSigner(ORIGIN, Ed25519PrivateKey.generate(), deployment.checkpoint_sm2)
    with pytest.raises(VerificationError, match="SM2 signature alone is never enough"):
        trust.verify_checkpoint(deployment.root(), stranger.sign(5, ROOT_HASH))


def test_an_sm2_package_signature_is_checked_against_the_roots_sm2_key_only():
    deployment = Deployment.with_sm2()
    root = deployment.root()
    public = sm2.public_of(deployment.package_sm2)
    signature = sm2.sign(deployment.package_sm2, b"m")
    key = trust.verify_package_signature(root, public, signature, b"m", EPOCH, "sm2")
    assert key.algorithm == "sm2" and root.sm2_package_key(EPOCH) == key
    with pytest.raises(VerificationError, match="does not verify"):
        trust.verify_package_signature(root, public, signature, b"n", EPOCH, "sm2")
    ed25519 = deployment.package_key.public_key().public_bytes_raw()
    with pytest.raises(VerificationError, match="does not list as an sm2 package key"):
        trust.verify_package_signature(root, ed25519, signature, b"m", EPOCH, "sm2")


def test_an_sm2_package_key_never_vouches_for_a_successor_root():
    root = Deployment.with_sm2().root()
    assert [k.algorithm for k in root.current_package_keys()] == ["ed25519"]


@pytest.mark.parametrize("algorithm", [["sm2"], {"sm2": 1}, None, 2])
def test_a_key_whose_algorithm_is_not_a_string_refuses_the_root(algorithm):
    doc = Deployment.with_sm2().document()
    doc["checkpoint_keys"][1]["algorithm"] = algorithm
    with pytest.raises(InvalidInput, match=r"checkpoint_keys\[1\]: algorithm .* is not supported"):
        trust.TrustRoot.from_document(doc)
