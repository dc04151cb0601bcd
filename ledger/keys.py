"""Key files under the data directory: created on first start, mode 0600, never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from ledger import sm2
from ledger.errors import ConfigurationError


def _create_exclusively(path: Path, content: bytes) -> None:
    """Write a new secret file; if another process won the race, keep theirs."""
    try:
        write_new(path, content)
    except ConfigurationError:
        pass


def write_new(path: Path, content: bytes) -> None:
    """Write a new secret file (mode 0600); refuse if one is already there, so no key is ever
    replaced."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} exists already; a key file is never overwritten"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot write the key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def new_ed25519_pem() -> bytes:
    """A fresh Ed25519 private key as PKCS#8 PEM."""
    return pem_of(Ed25519PrivateKey.generate())


def pem_of(key: Ed25519PrivateKey) -> bytes:
    """An Ed25519 private key as unencrypted PKCS#8 PEM (the file itself is mode 0600)."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def ed25519_key(path: Path, create: bool = True) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM at `path`, generated there first if allowed."""
    if create and not path.exists():
        _create_exclusively(path, new_ed25519_pem())
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the Ed25519 key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key


def sm2_key(path: Path, create: bool = True) -> sm2.PrivateKey:
    """The SM2 private key in PEM at `path`, generated there first if allowed; a key that
    `openssl genpkey -algorithm SM2` made is read as well."""
    if create and not path.exists():
        _create_exclusively(path, sm2.pem_of(sm2.generate()))
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the SM2 key {path}: {exc.strerror}; a deployment from before SM2 "
            "signatures makes its SM2 keys with `lianzheng keys add-sm2`"
        ) from exc
    key = sm2.private_key_of_pem(pem)
    if key is None:
        raise ConfigurationError(f"{path} is not an SM2 private key in PEM")
    return key


def secret(path: Path, create: bool = True, size: int = 32) -> bytes:
    """A random secret of `size` bytes at `path`, generated there first if allowed."""
    if create and not path.exists():
        _create_exclusively(path, os.urandom(size))
    try:
        value = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the secret {path}: {exc}") from exc
    if len(value) != size:
        raise ConfigurationError(f"secret {path} has {len(value)} bytes, expected {size}")
    return value
