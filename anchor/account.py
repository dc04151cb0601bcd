"""The anchor account: the key that signs anchor transactions.

Production takes it from a keystore file or the environment; the embedded
chain uses anvil's first development account. The development accounts'
keys are public (derived from a published mnemonic), so production refuses
them: anyone could sign with them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.errors import ConfigurationError

# The mnemonic anvil, hardhat and ganache derive their default accounts from; published everywhere.
DEVELOPMENT_MNEMONIC = "test test test test test test test test test test test junk"
DEVELOPMENT_ACCOUNTS = 20


def development_account(index: int = 0) -> LocalAccount:
    """Anvil's default account `index` (BIP-44 path m/44'/60'/0'/0/index)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(
        DEVELOPMENT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
    )
    return account


@cache
def development_addresses() -> frozenset[str]:
    return frozenset(development_account(i).address for i in range(DEVELOPMENT_ACCOUNTS))


def is_development_key(account: LocalAccount) -> bool:
    return account.address in development_addresses()


def from_key(hex_key: str) -> LocalAccount:
    try:
        account: LocalAccount = Account.from_key(hex_key.strip())
    except (ValueError, TypeError):
        raise ConfigurationError("the anchor key is not a 32-byte hex private key") from None
    return account


def from_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt an Ethereum keystore (V3 JSON) file."""
    try:
        encrypted = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the anchor keystore {path}: {exc.strerror}"
        ) from None
    except ValueError:
        raise ConfigurationError(f"the anchor keystore {path} is not JSON") from None
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(encrypted, password))
    except ValueError:
        raise ConfigurationError(
            f"cannot decrypt the anchor keystore {path}: wrong password?"
        ) from None
    return account


def production_account(account: LocalAccount) -> LocalAccount:
    """`account`, unless it is one of the published development keys."""
    if is_development_key(account):
        raise ConfigurationError(
            f"refusing to anchor on a production chain with {account.address}: it is one of "
            f"anvil's public development accounts, whose private key anyone can derive"
        )
    return account
