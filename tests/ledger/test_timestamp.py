"""RFC 3161 tokens from a real time-stamping authority (OpenSSL's, with a test CA), checked as
`openssl ts -verify` checks them, against the authority the trust root names."""

import pytest

from ledger import timestamp
from ledger.errors import VerificationError
from tests.support.tsa import TestAuthority

NOTE = (
    b"lianzheng.example/cg-log\n5\nq1V3nNCeO3uXzLEx9tUN/9kK9AzZ0gZdc7yw9d2EFbM=\n"
    b"\n\xe2\x80\x94 lianzheng.example/cg-log AAAA\n"
)


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return TestAuthority(tmp_path_factory.mktemp("tsa"))


def _token(authority, data):
    query, nonce = timestamp.request(data)
    return timestamp.token_of_response(authority.reply(query), nonce)


def test_a_token_over_the_note_verifies_against_the_authority_and_openssl_agrees(
    authority, tmp_path
):
    token = _token(authority, NOTE)
    stamped = timestamp.verify(token, NOTE, authority.chain_pem)
    assert stamped.authority == "CN=Test TSA" and stamped.time.tzinfo is not None
    (tmp_path / "note.txt").write_bytes(NOTE)
    (tmp_path / "token.tsr").write_bytes(token)
    done = authority.openssl_verify(tmp_path / "note.txt", tmp_path / "token.tsr")
    assert done.returncode == 0 and "Verification: OK" in done.stdout


def test_a_token_over_a_changed_note_fails_here_and_in_openssl(authority, tmp_path):
    token = _token(authority, NOTE)
    changed = NOTE.replace(b"\n5\n", b"\n6\n")
    with pytest.raises(VerificationError, match="stamps other bytes"):
        timestamp.verify(token, changed, authority.chain_pem)
    (tmp_path / "changed.txt").write_bytes(changed)
    (tmp_path / "token.tsr").write_bytes(token)
    assert (
        authority.openssl_verify(tmp_path / "changed.txt", tmp_path / "token.tsr").returncode != 0
    )


def test_a_token_of_another_authority_is_refused(authority, tmp_path):
    stranger = TestAuthority(tmp_path / "stranger", name="Stranger TSA")
    token = _token(stranger, NOTE)
    with pytest.raises(VerificationError, match="does not name or issue"):
        timestamp.verify(token, NOTE, authority.chain_pem)


def test_a_token_whose_signature_was_altered_is_refused(authority):
    token = bytearray(_token(authority, NOTE))
    token[-5] ^= 1  # inside the signature, the last field of the SignerInfo
    with pytest.raises(VerificationError, match="signature does not verify"):
        timestamp.verify(bytes(token), NOTE, authority.chain_pem)


def test_an_answer_to_another_request_or_garbage_is_refused(authority):
    query, nonce = timestamp.request(NOTE)
    answer = authority.reply(query)
    with pytest.raises(VerificationError, match="nonce differs"):
        timestamp.token_of_response(answer, nonce + 1)
    with pytest.raises(VerificationError, match="not a time-stamp response"):
        timestamp.token_of_response(b"\x30\x03\x02\x01\x05", nonce)
    with pytest.raises(VerificationError, match="malformed"):
        timestamp.verify(b"\x30\x00", NOTE, authority.chain_pem)
