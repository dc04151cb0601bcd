"""SM2 signatures (GB/T 32918) over SM3 with the default user id `1234567812345678` (DESIGN.md:
国密 digests and signatures), through tongsuopy, a binding of Tongsuo (OpenSSL's fork with the
Chinese algorithms; README: Dependencies). A signature here is what

    openssl pkeyutl -sign|-verify -rawin -digest sm3 -pkeyopt distid:1234567812345678

makes and checks: DER `SEQUENCE {r, s}`. Public keys travel as the 65 raw bytes of the
uncompressed point (04 || x || y). Pure: no I/O.
"""

from __future__ import annotations

from typing import TypeAlias

from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature, UnsupportedAlgorithm

ALGORITHM = "sm2"
RAW_SIZE = 65
DEFAULT_USER_ID = "1234567812345678"  # GB/T 35276: the default distinguishing identifier
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey
_SIGNING = ec.ECDSA(hashes.SM3())  # tongsuopy's SM2 signature: SM3 over Z_A (default id) || M


def public_key_of_pem(pem: bytes) -> bytes | None:
    """The raw public key of an SM2 public key in PEM (SubjectPublicKeyInfo); None when the PEM is
    no SM2 key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SM2):
        return None
    return raw_public_key(key)


def raw_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    raw: bytes = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return raw


def is_public_key(public_key: bytes) -> bool:
    """Whether `public_key` is 65 raw bytes of a point on the SM2 curve."""
    if len(public_key) != RAW_SIZE:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public_key)
    except ValueError:
        return False
    return True


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is the SM2 signature of `message` by the raw `public_key`."""
    if len(public_key) != RAW_SIZE or len(signature) > 80:  # DER of two 256-bit integers
        return False
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public_key)
        key.verify(signature, message, _SIGNING)
    except (InvalidSignature, ValueError):
        return False
    return True


def generate() -> PrivateKey:
    return ec.generate_private_key(ec.SM2())


def private_key_of_pem(pem: bytes) -> PrivateKey | None:
    """The SM2 private key in PKCS#8 PEM (as `openssl genpkey -algorithm SM2` writes it); None
    when the PEM holds no SM2 key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SM2):
        return None
    return key


def pem_of(private_key: PrivateKey) -> bytes:
    """An SM2 private key as unencrypted PKCS#8 PEM (the file itself is mode 0600)."""
    pem: bytes = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def public_of(private_key: PrivateKey) -> bytes:
    """The raw public key of an SM2 private key."""
    return raw_public_key(private_key.public_key())


def sign(private_key: PrivateKey, message: bytes) -> bytes:
    signature: bytes = private_key.sign(message, _SIGNING)
    return signature
