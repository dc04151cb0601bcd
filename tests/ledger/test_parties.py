"""Party data: commitments that open, pseudonyms without names, sealed rows bound to their case."""

import pytest
from cryptography.exceptions import InvalidTag

from ledger import parties
from ledger.parties import PartyData, PartySecrets

SECRETS = PartySecrets.derive(b"\x01" * 32)
ZHANG = PartyData(name="张三", id_type="resident_id", id_number="310101199001011234")


@pytest.mark.parametrize(
    "id_type, id_number",
    [
        ("resident_id", " 310101199001011234 "),
        ("resident_id", "310101 19900101 1234"),
        ("resident_id", "310101-19900101-1234"),
        ("resident_id", "３１０１０１１９９００１０１１２３４"),  # full-width digits
        ("resident_id", "310101\u200b199001011234"),  # a zero-width space
        ("other", "310101199001011234"),  # a type the caller chose freely
        ("passport", "310101199001011234"),
    ],
)
def test_the_same_identity_gets_the_same_pseudonym_however_it_was_typed(id_type, id_number):
    typed = PartyData.model_validate({"name": "张 三", "id_type": id_type, "id_number": id_number})
    assert typed.id_number == "310101199001011234" and typed.id_type == "resident_id"
    assert parties.party_key(SECRETS, typed) == parties.party_key(SECRETS, ZHANG)


def test_another_deployment_secret_gives_another_pseudonym():
    other = PartySecrets.derive(b"\x02" * 32)
    assert parties.party_key(other, ZHANG) != parties.party_key(SECRETS, ZHANG)


def test_a_sealed_party_opens_to_its_commitment():
    sealed = parties.seal(SECRETS, ZHANG, "CG-2026-000001")
    salt, data = parties.unseal(SECRETS, sealed.nonce, sealed.ciphertext, "CG-2026-000001")
    assert data == ZHANG and parties.commitment(salt, data) == sealed.commitment


def test_the_commitment_is_salted():
    assert (
        parties.seal(SECRETS, ZHANG, "c").commitment != parties.seal(SECRETS, ZHANG, "c").commitment
    )


def test_a_sealed_row_moved_to_another_case_does_not_open():
    sealed = parties.seal(SECRETS, ZHANG, "CG-2026-000001")
    with pytest.raises(InvalidTag):
        parties.unseal(SECRETS, sealed.nonce, sealed.ciphertext, "CG-2026-000002")
