"""The deployment's trust root over time: published, rotated, moved forward by courts.

Packages and receipts made before a key rotation verify against the new root; a signature by a key
outside its period fails; a court's store follows the signed successors without a new paper
confirmation, and refuses one that is not signed by the root it holds.
"""

import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anchor import receipt
from evidence import verify as verifier
from ledger import audit, sm2, trust
from ledger.checkpoint import CheckpointSigner, parse_note
from ledger.errors import ConfigurationError
from ledger.trust import TrustRoot, TrustRoots
from ledger.verdict import Status, Verdict
from tests.conftest import bearer
from tests.support.deployments import anchored_deployment
from tests.support.packages import entries, named, rewrite
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.cli import main


@pytest.fixture
def deployment(tmp_path, database_url, chain, contract):
    with anchored_deployment(
        tmp_path, database_url, chain, contract, LIANZHENG_AGENCY="测试局 Test bureau"
    ) as d:
        yield d


def _cli(d, *args, **kw):
    return CliRunner().invoke(main, list(args), env=d.env, **kw)


def _verify(path, root):
    return verifier.verify(str(path), TrustRoots([root]))


def _failed(report):
    return [c.name for c in report.checks if c.status == Status.FAIL]


def _rotate_and_file(d, case_no, *kinds):
    """Rotate `kinds`, then file the case, anchor and export it: the package and the newest
    root."""
    for kind in kinds:
        rotated = _cli(d, "keys", "rotate", kind)
        assert rotated.exit_code == 0, rotated.output
    d.client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED"},
        headers=bearer(d.tokens["officer"]),
    )
    d.anchor()
    return d.export(case_no, "after.zip"), d.services.trust.latest()


def test_the_deployment_publishes_one_root_naming_its_keys_chain_and_agency(deployment):
    services, client = deployment.services, deployment.client
    served = client.get("/api/v1/trust")
    assert served.status_code == 200 and served.mimetype == "application/json"
    root = TrustRoot.parse(served.data)
    assert root.agency == "测试局 Test bureau" and root.log_origin == services.store.origin
    assert (
        root.chain is not None and root.chain.contract == services.settings.chain.contract_address
    )
    assert [(k.algorithm, k.public_key) for k in root.checkpoint_keys] == [
        ("ed25519", services.store.ring.first.public_key().public_bytes_raw()),
        ("sm2", sm2.public_of(services.store.sm2_ring.first)),
    ]
    assert [(k.algorithm, k.public_key) for k in root.package_keys] == [
        ("ed25519", services.trust.package_ring.first.public_key().public_bytes_raw()),
        ("sm2", sm2.public_of(services.trust.package_sm2_ring.first)),
    ]
    assert root.replaces is None and client.get("/api/v1/trust/history").json["roots"] == [
        root.document
    ]
    services.trust.publish()  # nothing changed: nothing new is published
    assert len(client.get("/api/v1/trust/history").json["roots"]) == 1


def test_packages_signed_before_and_after_rotations_verify_against_the_new_root(deployment):
    d, services = deployment, deployment.services
    case_no = d.open_case()
    d.anchor()
    before = d.export(case_no, "before.zip")
    receipt_before = d.client.get("/api/v1/log/receipt?index=0").json
    first_root = services.trust.latest()
    after, newest = _rotate_and_file(d, case_no, "package", "checkpoint")
    package_keys = [k for k in newest.package_keys if k.algorithm == "ed25519"]
    checkpoint_keys = [k for k in newest.checkpoint_keys if k.algorithm == "ed25519"]
    assert len(package_keys) == 2 and len(checkpoint_keys) == 2
    assert package_keys[0].valid_until == package_keys[1].valid_from
    assert checkpoint_keys[0].valid_until_size == checkpoint_keys[1].valid_from_size
    assert _verify(before, newest).passed and _verify(after, newest).passed
    assert _verify(before, first_root).passed
    assert receipt.verify(receipt_before, TrustRoots([newest])).verdict == Verdict.VERIFIED
    stale = _verify(after, first_root)
    assert {"signature", "checkpoint"} <= set(_failed(stale)) and "does not list" in stale.check(
        "checkpoint"
    ).detail
    with services.sessions() as session:
        assert audit.run(
            session, newest
        ).clean  # old checkpoints by the old key, new ones by the new
    published = d.client.get("/api/v1/log/publickey").json
    assert published["public_key"] == checkpoint_keys[1].public_key.hex()


def test_a_signature_by_a_rotated_out_key_after_its_period_fails(deployment):
    d, services = deployment, deployment.services
    case_no = d.open_case()
    d.anchor()
    old_package_key = services.trust.package_ring.first
    old_checkpoint = services.store.ring.first
    assert _cli(d, "keys", "rotate", "package").exit_code == 0
    assert _cli(d, "keys", "rotate", "checkpoint").exit_code == 0
    d.client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED"},
        headers=bearer(d.tokens["officer"]),
    )
    d.anchor()
    after = d.export(case_no, "after.zip")
    root = services.trust.latest()
    sm2_key = services.trust.package_sm2_ring.first
    late = _verify(
        rewrite(entries(after), d.tmp / "late.zip", old_package_key, True, sm2_key), root
    )
    assert _failed(late) == ["signature"] and "allows only from" in late.check("signature").detail
    found = entries(after)
    proofs = json.loads(found[named(found, "proofs.json")])
    old_signer = CheckpointSigner(
        services.store.origin, old_checkpoint, services.store.sm2_ring.first
    )
    found[named(found, "checkpoint.txt")] = old_signer.sign(
        proofs["size"], bytes.fromhex(proofs["root"])
    ).encode()
    new_package_key = services.trust.package_ring.private(root.package_keys[1].public_key)
    report = _verify(
        rewrite(found, d.tmp / "old-checkpoint.zip", new_package_key, True, sm2_key), root
    )
    assert (
        _failed(report) == ["checkpoint"]
        and "allows only for sizes from 0 below" in report.check("checkpoint").detail
    )


def test_a_courts_store_moves_forward_along_signed_successors_only(deployment):
    d, services = deployment, deployment.services
    first = services.trust.latest()
    first_file = d.tmp / "first.json"
    first_file.write_text(services.trust.latest_text())
    assert (
        _cli(d, "trust", "add", str(first_file), "--fingerprint", first.fingerprint).exit_code == 0
    )
    assert _cli(d, "keys", "rotate", "package").exit_code == 0
    history = d.tmp / "history.json"
    history.write_text(json.dumps(d.client.get("/api/v1/trust/history").json))
    newest = services.trust.latest()
    moved = _cli(d, "trust", "update", str(history))
    assert (
        moved.exit_code == 0 and f"{first.fingerprint} -> {newest.fingerprint}" in moved.output
    ), moved.output
    assert (
        newest.fingerprint in _cli(d, "trust", "list").output
        and first.fingerprint not in _cli(d, "trust", "list").output
    )
    assert "up to date" in _cli(d, "trust", "update", str(history)).output
    forged = trust.sign_replacement(
        {**newest.document, "agency": "forged"}, newest, Ed25519PrivateKey.generate()
    )
    history.write_text(json.dumps({"roots": [newest.document, forged]}))
    refused = _cli(d, "trust", "update", str(history))
    assert refused.exit_code == 1 and "no valid signature" in refused.output


def test_a_key_in_use_without_its_key_file_stops_the_service(deployment):
    d, services = deployment, deployment.services
    d.open_case()
    assert _cli(d, "keys", "rotate", "checkpoint").exit_code == 0
    rotated = services.store.ring.paths()[1:]
    assert len(rotated) == 1 and rotated[0].stat().st_mode & 0o777 == 0o600
    rotated[0].unlink()
    fresh = build(services.settings)
    with pytest.raises(ConfigurationError, match="no key file"):
        fresh.trust.check_keys()
    fresh.engine.dispose()


def test_a_rotation_of_an_unused_key_is_refused(deployment):
    d = deployment
    d.open_case()
    assert _cli(d, "keys", "rotate", "checkpoint").exit_code == 0
    again = _cli(d, "keys", "rotate", "checkpoint")
    assert again.exit_code == 1 and "has not signed anything yet" in again.output
    assert _cli(d, "keys", "rotate", "nonsense").exit_code == 2


def test_a_deployment_from_before_sm2_moves_to_a_root_listing_sm2_keys_that_its_old_root_vouches(
    tmp_path, database_url
):
    env = {"LIANZHENG_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    before = build(Settings.from_env(env))
    before.store.sm2_ring = None  # as the service ran before 国密 signatures
    before.trust.package_sm2_ring = None
    migrate(before.engine)
    with before.store.transaction(before.sessions) as tx:
        tx.append([(b'{"before":"sm2"}', None), (b'{"before":"sm2","n":2}', None)])
    old = before.trust.latest()
    assert {k.algorithm for k in (*old.checkpoint_keys, *old.package_keys)} == {"ed25519"}
    with before.sessions() as session:
        old_head = before.store.checkpoint(session)
    assert len(parse_note(old_head.note)[2]) == 1

    after = build(Settings.from_env(env))  # the upgraded service, started on the same data
    new = after.trust.publish()
    assert new.replaces == old.fingerprint and trust.verify_replacement(old, new)
    assert trust.verify_checkpoint(new, old_head.note).sm2_key is None  # signed before SM2
    sm2_key = new.sm2_checkpoint_key(old_head.size + 1)
    assert sm2_key is not None and sm2_key.valid_from_size == old_head.size + 1
    with after.store.transaction(after.sessions) as tx:
        tx.append([(b'{"after":"sm2"}', None)])
    with after.sessions() as session:
        new_head = after.store.checkpoint(session)
    assert trust.verify_checkpoint(new, new_head.note).sm2_key == sm2_key
    assert after.trust.seal().sm2_key is not None
    assert after.trust.latest().fingerprint == new.fingerprint  # the SM2 package key was listed


def test_the_sm2_keys_rotate_like_the_ed25519_ones(deployment):
    d = deployment
    case_no = d.open_case()
    d.anchor()
    before = d.export(case_no, "before.zip")
    after, newest = _rotate_and_file(d, case_no, "package-sm2", "checkpoint-sm2")
    package_sm2 = [k for k in newest.package_keys if k.algorithm == "sm2"]
    checkpoint_sm2 = [k for k in newest.checkpoint_keys if k.algorithm == "sm2"]
    assert len(package_sm2) == 2 and package_sm2[0].valid_until == package_sm2[1].valid_from
    assert checkpoint_sm2[0].valid_until_size == checkpoint_sm2[1].valid_from_size
    assert _verify(before, newest).passed and _verify(after, newest).passed
    signed_by = json.loads(entries(after)[named(entries(after), "signature-sm2.json")])
    assert signed_by["key_id"] == package_sm2[1].key_id
