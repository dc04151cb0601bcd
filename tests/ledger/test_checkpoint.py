"""C2SP signed-note checkpoints: what we sign verifies, anything altered does not."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import CheckpointSigner, parse_note, raw_public_key, verify_note
from ledger.errors import VerificationError

ORIGIN = "lianzheng.example/cg-log"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture
def signer():
    return CheckpointSigner(ORIGIN, Ed25519PrivateKey.generate())


def test_a_note_has_the_checkpoint_body_a_blank_line_and_one_signature_line(signer):
    lines = signer.sign(42, ROOT).split("\n")
    assert lines[:4] == [ORIGIN, "42", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith(f"\u2014 {ORIGIN} ") and lines[5] == ""
    blob = base64.b64decode(lines[4].split(" ")[2])
    assert blob[:4] == signer.note_key_id and len(blob) == 4 + 64


def test_the_key_id_follows_the_signed_note_spec(signer):
    expected = hashlib.sha256(
        ORIGIN.encode() + b"\n\x01" + raw_public_key(signer.public_key)
    ).digest()[:4]
    assert signer.note_key_id == expected


def test_a_signed_checkpoint_verifies(signer):
    checkpoint = verify_note(signer.sign(42, ROOT), ORIGIN, signer.public_key)
    assert (checkpoint.size, checkpoint.root) == (42, ROOT)


def test_a_checkpoint_with_a_changed_size_fails_its_signature(signer):
    note = signer.sign(42, ROOT).replace("\n42\n", "\n43\n")
    with pytest.raises(VerificationError, match="signature .* does not verify"):
        verify_note(note, ORIGIN, signer.public_key)


def test_a_checkpoint_signed_by_another_key_is_refused(signer):
    other = CheckpointSigner(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError, match="no signature by key"):
        verify_note(other.sign(42, ROOT), ORIGIN, signer.public_key)


def test_a_checkpoint_of_another_log_is_refused(signer):
    other = CheckpointSigner("other.example/log", Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError, match="is from log 'other.example/log'"):
        verify_note(other.sign(1, ROOT), ORIGIN, signer.public_key)


@pytest.mark.parametrize(
    "note",
    [
        "",
        "x\n1\nAAAA\n\n\u2014 x AAAA\n",
        f"{ORIGIN}\n01\n{base64.b64encode(ROOT).decode()}\n\n\u2014 a b\n",
    ],
)
def test_malformed_notes_are_refused_with_a_reason(note):
    with pytest.raises(VerificationError):
        parse_note(note)


@pytest.mark.parametrize(
    "size",
    ["01", "\u00b2", "\u0663", "-1", "9" * 5000, str(1 << 63), " 1"],
)
def test_a_size_that_is_not_a_decimal_number_within_64_bits_is_refused_naming_it(size):
    note = f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n\n\u2014 a b\n"
    with pytest.raises(VerificationError, match="is not a decimal number from 0 to"):
        parse_note(note)


def test_the_largest_size_a_database_holds_is_read():
    note = f"{ORIGIN}\n{(1 << 63) - 1}\n{base64.b64encode(ROOT).decode()}\n\n\u2014 a AAAA\n"
    assert parse_note(note)[0].size == (1 << 63) - 1
