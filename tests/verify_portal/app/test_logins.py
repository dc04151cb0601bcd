"""How portal passwords are kept: scrypt at the cost verify_portal/app/logins.py documents, checked
against OpenSSL's scrypt, an implementation of its own."""

import base64
import subprocess

import pytest

from tests.conftest import PRODUCTION_SCRYPT
from verify_portal.app import logins


@pytest.fixture(autouse=True)
def production_cost(monkeypatch):
    """The cost the service uses; the rest of the suite hashes at less (tests/conftest.py)."""
    monkeypatch.setattr(logins, "SCRYPT", PRODUCTION_SCRYPT)


def openssl_scrypt(password: str, salt: bytes, n: int) -> bytes:
    """RFC 7914 scrypt (r=8, p=1, 32 bytes) by the `openssl kdf` command."""
    command = ["openssl", "kdf", "-keylen", "32", "-kdfopt", f"pass:{password}"]
    command += ["-kdfopt", f"hexsalt:{salt.hex()}", "-kdfopt", f"n:{n}"]
    command += ["-kdfopt", "r:8", "-kdfopt", "p:1", "-kdfopt", f"maxmem_bytes:{64 << 20}"]
    command.append("SCRYPT")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return bytes.fromhex(out.strip().replace(":", ""))


def test_a_portal_password_is_kept_as_scrypt_at_n_2_15_with_its_salt():
    salt = bytes(range(16))
    stored = logins.hash_password("correct horse battery", salt)
    kind, kept_salt, digest = stored.split("$")
    assert kind == "scrypt" and base64.b64decode(kept_salt) == salt
    assert base64.b64decode(digest) == openssl_scrypt("correct horse battery", salt, 2**15)
    assert base64.b64decode(digest) != openssl_scrypt("correct horse battery", salt, 2**14)


def test_only_the_same_password_matches_what_is_kept():
    stored = logins.hash_password("correct horse battery")
    assert logins.password_matches("correct horse battery", stored)
    assert not logins.password_matches("correct horse batterY", stored)
    assert stored != logins.hash_password("correct horse battery")  # a new salt each time
