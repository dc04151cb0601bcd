"""RFC 3161 time-stamp tokens over checkpoint notes (DESIGN.md: Formats, Timestamps; GB/T 20520 is
the Chinese profile of the same protocol). Pure: no I/O.

A token is a CMS SignedData whose content is a TSTInfo: the SHA-256 of the stamped bytes (the
message imprint), the authority's time and policy. It is checked here the way `openssl ts
-verify` checks it: the imprint against the bytes, the signed attributes' message digest against
the TSTInfo, the signature by the signer's certificate, and that certificate against the
authority's certificates the verifier's trust root names (never the ones the token carries
alone). ASN.1 is read with asn1crypto; signatures are checked with cryptography.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ledger.errors import VerificationError

MAX_TOKEN_BYTES = 64 << 10
_HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


@dataclass(frozen=True)
class Stamped:
    """What a verified token says."""

    time: datetime  # the authority's genTime, UTC
    authority: str  # the signer certificate's subject, RFC 4514
    serial: int  # the token's serial number


def request(data: bytes) -> tuple[bytes, int]:
    """A TimeStampReq (DER) for `data` asking for the signer's certificate, and its nonce."""
    nonce = secrets.randbits(63)
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return req.dump(), nonce


def token_of_response(response: bytes, nonce: int) -> bytes:
    """The token (DER ContentInfo) of a granted TimeStampResp answering the request of `nonce`."""
    try:
        resp = tsp.TimeStampResp.load(response)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native
            raise VerificationError(f"the time-stamping authority refused: {status} {text}")
        token = resp["time_stamp_token"]
        info = _tst_info(token)
    except (ValueError, TypeError, KeyError) as exc:
        raise VerificationError(
            f"the authority's answer is not a time-stamp response: {exc}"
        ) from None
    if info["nonce"].native != nonce:
        raise VerificationError("the authority's answer is for another request (nonce differs)")
    return bytes(token.dump())


def verify(token: bytes, data: bytes, authority_pem: str) -> Stamped:
    """What `token` says about `data` once checked against the authority's certificates
    (`authority_pem`, from the trust root); VerificationError naming the failed step."""
    if len(token) > MAX_TOKEN_BYTES:
        raise VerificationError(f"the time-stamp token has {len(token)} bytes, at most 65536")
    try:
        info_object = cms.ContentInfo.load(token)
        signed = info_object["content"]
        info = _tst_info(info_object)
        [signer] = list(signed["signer_infos"])
    except (ValueError, TypeError, KeyError) as exc:
        raise VerificationError(f"the time-stamp token is malformed: {exc}") from None
    _check_imprint(info, data)
    certificate = _signer_certificate(signed, signer, authority_pem)
    _check_signature(signer, info_object, certificate)
    return Stamped(
        info["gen_time"].native.astimezone(UTC),
        certificate.subject.rfc4514_string(),
        int(info["serial_number"].native),
    )


def _tst_info(content_info: cms.ContentInfo) -> tsp.TSTInfo:
    encap = content_info["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise VerificationError("the token's content is not a TSTInfo")
    return encap["content"].parsed


def _check_imprint(info: tsp.TSTInfo, data: bytes) -> None:
    imprint = info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        raise VerificationError(f"the token's imprint uses {algorithm}, not a SHA-2 hash")
    digest = hashlib.new(algorithm, data).digest()
    if imprint["hashed_message"].native != digest:
        raise VerificationError("the token stamps other bytes: its message imprint differs")


def _signer_certificate(
    signed: cms.SignedData, signer: cms.SignerInfo, authority_pem: str
) -> x509.Certificate:
    """The signer's certificate: one the trust root names, or one in the token that a certificate
    the trust root names issued. Either way it must be for time-stamping."""
    trusted = x509.load_pem_x509_certificates(authority_pem.encode())
    carried = [
        x509.load_der_x509_certificate(c.chosen.dump())
        for c in (signed["certificates"] or [])
        if c.name == "certificate"
    ]
    sid = signer["sid"]
    if sid.name != "issuer_and_serial_number":
        raise VerificationError("the token names its signer by key id, not issuer and serial")
    serial = sid.chosen["serial_number"].native
    for certificate in [*trusted, *carried]:
        if certificate.serial_number != serial:
            continue
        if certificate in trusted or any(_issued_by(certificate, t) for t in trusted):
            _check_time_stamping(certificate)
            return certificate
    raise VerificationError(
        "the token is signed by a certificate the trust root's time-stamping authority "
        f"does not name or issue (serial {serial:x})"
    )


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_time_stamping(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise VerificationError("the signer's certificate is not for time-stamping") from None
    if ExtendedKeyUsageOID.TIME_STAMPING not in usage.value:
        raise VerificationError("the signer's certificate is not for time-stamping")


def _check_signature(
    signer: cms.SignerInfo, content_info: cms.ContentInfo, certificate: x509.Certificate
) -> None:
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise VerificationError(f"the token is signed over {digest_name}, not a SHA-2 hash")
    content = content_info["content"]["encap_content_info"]["content"].contents
    attributes = signer["signed_attrs"]
    digests = [a["values"][0].native for a in attributes if a["type"].native == "message_digest"]
    if digests != [hashlib.new(digest_name, content).digest()]:
        raise VerificationError("the token's signed message digest does not match its TSTInfo")
    # RFC 5652 §5.4: the signature covers the attributes DER-encoded as a SET OF (tag 0x31), not
    # with the [0] IMPLICIT tag (0xA0) they carry inside SignerInfo.
    signed_bytes = b"\x31" + attributes.dump()[1:]
    _verify(certificate, signer["signature"].native, signed_bytes, _HASHES[digest_name])


def _verify(
    certificate: x509.Certificate, signature: bytes, message: bytes, digest: hashes.HashAlgorithm
) -> None:
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(digest))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            raise VerificationError("the signer's key type is not supported")
    except InvalidSignature:
        raise VerificationError("the token's signature does not verify") from None
