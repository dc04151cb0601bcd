"""SM2 signatures (ledger/sm2.py) as OpenSSL makes and checks them: SM3 digest, default user id.

Where a trust root lists SM2 keys, a court checks the SM2 signatures with `openssl pkeyutl`
alone, so each signature made here is checked by the `openssl` command itself.
"""

import hashlib
import subprocess

from ledger import sm2
from ledger.checkpoint import SM2_ALGORITHM, CheckpointSigner, parse_note
from tests.support.trust import ORIGIN, Deployment

# SubjectPublicKeyInfo of an SM2 key, up to the raw point: id-ecPublicKey with the SM2 curve.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def _openssl_verifies(tmp_path, public_key: bytes, message: bytes, signature: bytes) -> bool:
    (tmp_path / "key.der").write_bytes(SPKI_PREFIX + public_key)
    (tmp_path / "message").write_bytes(message)
    (tmp_path / "signature").write_bytes(signature)
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.der", "-keyform", "DER"]
        + ["-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{sm2.DEFAULT_USER_ID}"]
        + ["-in", "message", "-sigfile", "signature"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0 and "Signature Verified Successfully" in done.stdout


def test_an_sm2_signature_made_here_verifies_with_openssl_and_the_default_user_id(tmp_path):
    key = sm2.generate()
    signature = sm2.sign(key, b"tagmanifest bytes")
    assert _openssl_verifies(tmp_path, sm2.public_of(key), b"tagmanifest bytes", signature)
    assert not _openssl_verifies(tmp_path, sm2.public_of(key), b"other bytes", signature)
    assert sm2.verify(sm2.public_of(key), signature, b"tagmanifest bytes")
    assert not sm2.verify(sm2.public_of(sm2.generate()), signature, b"tagmanifest bytes")


def test_an_sm2_private_key_survives_its_pem_and_a_point_off_the_curve_is_no_key():
    key = sm2.generate()
    again = sm2.private_key_of_pem(sm2.pem_of(key))
    assert again is not None and sm2.public_of(again) == sm2.public_of(key)
    assert sm2.is_public_key(sm2.public_of(key))
    assert not sm2.is_public_key(b"\x04" + b"\x01" * 64)
    assert not sm2.is_public_key(sm2.public_of(key)[:-1])


def test_a_checkpoints_sm2_line_follows_the_ed25519_one_and_openssl_verifies_it(tmp_path):
    deployment = Deployment.with_sm2()
    note = deployment.signer.sign(5, bytes(32))
    _, body, lines = parse_note(note)
    assert [name for name, _ in lines] == [ORIGIN, ORIGIN]
    public = sm2.public_of(deployment.checkpoint_sm2)
    key_id = hashlib.sha256(ORIGIN.encode() + b"\n" + SM2_ALGORITHM + public).digest()[:4]
    assert SM2_ALGORITHM == b"\xff" + b"lianzheng/sm2-sm3"  # README: the SM2 signature type
    assert lines[1][1][:4] == key_id
    assert _openssl_verifies(tmp_path, public, body.encode(), lines[1][1][4:])


def test_a_signer_without_an_sm2_key_writes_the_ed25519_line_alone():
    signer = CheckpointSigner(ORIGIN, Deployment().checkpoint_key)
    lines = parse_note(signer.sign(5, bytes(32)))[2]
    assert [blob[:4] for _, blob in lines] == [signer.note_key_id]
