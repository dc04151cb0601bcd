"""The anchor account: keys from a keystore or the environment; anvil's public keys refused in
production."""

import json

import pytest
from eth_account import Account

from anchor import account
from ledger.errors import ConfigurationError


def test_anvils_development_accounts_are_refused_in_production():
    with pytest.raises(ConfigurationError, match="public development accounts"):
        account.production_account(account.development_account(3))


def test_a_fresh_key_is_accepted_in_production():
    fresh = Account.create()
    assert account.production_account(fresh).address == fresh.address


def test_a_keystore_file_is_decrypted_with_its_password(tmp_path):
    fresh = Account.create()
    path = tmp_path / "anchor.json"

    path.write_text(json.dumps(Account.encrypt(fresh.key, "s3cret", iterations=2)))
    assert account.from_keystore(path, "s3cret").address == fresh.address
    with pytest.raises(ConfigurationError, match="wrong password"):
        account.from_keystore(path, "guess")


def test_a_malformed_key_is_a_clear_configuration_error():
    with pytest.raises(ConfigurationError, match="32-byte hex"):
        account.from_key("0x1234")
