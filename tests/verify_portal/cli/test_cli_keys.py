"""`lianzheng keys init`: the secret files of the production stack."""

import re
import stat

from click.testing import CliRunner

from anchor import account
from ledger import keys
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.cli import main

PASSWORD = "correct-horse-battery"


def _init(directory, *extra):
    return CliRunner().invoke(
        main,
        ["keys", "init", "--dir", str(directory), *extra],
        env={"LIANZHENG_ANCHOR_KEYSTORE_PASSWORD": PASSWORD},
    )


def test_keys_init_writes_the_four_secret_files_readable_by_the_owner_only(tmp_path):
    result = _init(tmp_path / "secrets")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "secrets").iterdir())
    assert names == [
        "anchor-keystore.json",
        "checkpoint-ed25519.pem",
        "package-ed25519.pem",
        "party-secret.bin",
    ]
    for path in (tmp_path / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_the_service_starts_on_the_keys_and_the_keystore_opens_to_the_printed_account(
    tmp_path, database_url
):
    secrets = tmp_path / "secrets"
    result = _init(secrets)
    services = build(
        Settings.from_env(
            {
                "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
                "DATABASE_URL": database_url,
                "LIANZHENG_CHECKPOINT_KEY": str(secrets / "checkpoint-ed25519.pem"),
                "LIANZHENG_PARTY_SECRET": str(secrets / "party-secret.bin"),
                "LIANZHENG_PACKAGE_KEY": str(secrets / "package-ed25519.pem"),
            }
        )
    )
    migrate(services.engine)
    root = services.trust.latest()
    checkpoint_key = keys.ed25519_key(secrets / "checkpoint-ed25519.pem", create=False)
    assert [k.public_key for k in root.checkpoint_keys] == [
        checkpoint_key.public_key().public_bytes_raw()
    ]
    printed = re.search(r"anchor account: (0x[0-9a-fA-F]{40})", result.output).group(1)
    assert account.from_keystore(secrets / "anchor-keystore.json", PASSWORD).address == printed
    assert f"package key {root.package_keys[0].key_id}" in result.output


def test_keys_init_refuses_to_overwrite_and_leaves_the_existing_keys_alone(tmp_path):
    secrets = tmp_path / "secrets"
    _init(secrets)
    before = {p.name: p.read_bytes() for p in secrets.iterdir()}
    again = _init(secrets)
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert {p.name: p.read_bytes() for p in secrets.iterdir()} == before


def test_keys_init_refuses_a_short_keystore_password_and_writes_nothing(tmp_path):
    result = CliRunner().invoke(
        main, ["keys", "init", "--dir", str(tmp_path / "s"), "--password", "short"]
    )
    assert result.exit_code == 2 and "at least 12 characters" in result.output
    assert not (tmp_path / "s").exists()
