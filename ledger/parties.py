"""Personal data of a party, kept out of the log (DESIGN.md: The log).

A leaf carries only
- a salted commitment to the party's data: SHA-256 over a random salt and the
  canonical data, so the data can later be shown to be what was recorded,
  yet nothing can be guessed from the leaf; and
- a pseudonymous party key: HMAC-SHA256 under a deployment secret over the
  party's identity number, so cases of the same party can be found (首违不罚)
  without names.
The data and its salt are sealed with AES-256-GCM in their own table. Erasing
them (crypto-shredding) leaves the commitment unopenable and every proof valid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledger import identity, jsontext

_COMMITMENT_DOMAIN = b"lianzheng/party-commitment/v1\x00"


class PartyData(BaseModel):
    """Who a case is against (当事人). Never logged, never in a leaf."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(min_length=1, max_length=100)
    id_type: Literal["resident_id", "passport", "uscc", "other"]  # uscc: 统一社会信用代码
    id_number: str = Field(min_length=1, max_length=40)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=200)
    plate: str | None = Field(default=None, max_length=16)

    @model_validator(mode="before")
    @classmethod
    def _canonical_identity(cls, data: object) -> object:
        """The identity number normalised and checked (ledger/identity.py) before anything is made
        of it."""
        if (
            isinstance(data, dict)
            and isinstance(data.get("id_number"), str)
            and isinstance(data.get("id_type"), str)
        ):
            id_type, number = identity.canonical(data["id_type"], data["id_number"][:100])
            return {**data, "id_type": id_type, "id_number": number}
        return data


@dataclass(frozen=True)
class PartySecrets:
    """The keys derived from the deployment's party secret, one per use."""

    encryption_key: bytes
    pseudonym_key: bytes
    code_key: bytes  # HMAC of citizens' verification codes and of client addresses
    session_key: bytes  # signs the portal's session cookies
    record_key: (
        bytes  # HMAC of records the service trusts later (where an incremental audit starts)
    )

    @classmethod
    def derive(cls, master: bytes) -> PartySecrets:
        """Separate keys for each use (HKDF, RFC 5869)."""
        return cls(
            *(
                _hkdf(master, b"lianzheng/" + use)
                for use in (
                    b"party-encryption",
                    b"party-pseudonym",
                    b"case-codes",
                    b"portal-session",
                    b"audit-records",
                )
            )
        )


@dataclass(frozen=True)
class SealedParty:
    """What the database keeps of a party, and what the log gets (commitment, party_key)."""

    salt: bytes
    nonce: bytes
    ciphertext: bytes
    commitment: str
    party_key: str


def _hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(master)


def party_key(secrets: PartySecrets, party: PartyData) -> str:
    """Keyed pseudonym of the party's identity number (canonical, ledger/identity.py): same person,
    same key, whatever type the caller named; no name in it."""
    return hmac.new(
        secrets.pseudonym_key, f"id:{party.id_number}".encode(), hashlib.sha256
    ).hexdigest()


def commitment(salt: bytes, party: PartyData) -> str:
    """Salted commitment to the party's whole record, hex."""
    return hashlib.sha256(
        _COMMITMENT_DOMAIN + salt + jsontext.canonical_bytes(party.model_dump())
    ).hexdigest()


def seal_record(secrets: PartySecrets, record: dict[str, Any], case_no: str) -> tuple[bytes, bytes]:
    """A record about a case's party encrypted (AES-256-GCM, a fresh 96-bit nonce), the case number
    bound in as associated data so a row moved to another case does not open: (nonce,
    ciphertext)."""
    nonce = os.urandom(12)
    return nonce, AESGCM(secrets.encryption_key).encrypt(
        nonce, jsontext.canonical_bytes(record), case_no.encode()
    )


def open_record(
    secrets: PartySecrets, nonce: bytes, ciphertext: bytes, case_no: str
) -> dict[str, Any]:
    """A record sealed by `seal_record` for `case_no`; InvalidTag if it was altered or moved."""
    opened: dict[str, Any] = json.loads(
        AESGCM(secrets.encryption_key).decrypt(nonce, ciphertext, case_no.encode())
    )
    return opened


def seal(secrets: PartySecrets, party: PartyData, case_no: str) -> SealedParty:
    """Encrypt a party's data for the case, with the salt of its commitment."""
    salt = os.urandom(32)
    nonce, ciphertext = seal_record(
        secrets, {"salt": salt.hex(), "party": party.model_dump()}, case_no
    )
    return SealedParty(salt, nonce, ciphertext, commitment(salt, party), party_key(secrets, party))


def unseal(
    secrets: PartySecrets, nonce: bytes, ciphertext: bytes, case_no: str
) -> tuple[bytes, PartyData]:
    """Decrypt a sealed party: its salt and data."""
    plain = open_record(secrets, nonce, ciphertext, case_no)
    return bytes.fromhex(plain["salt"]), PartyData.model_validate(plain["party"])
