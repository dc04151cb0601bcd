"""`lianzheng keys init`: the secret files of the production stack."""

import re
import stat
import subprocess

import pytest
from click.testing import CliRunner

from anchor import account
from ledger import keys, sm2
from ledger.errors import ConfigurationError
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


def test_keys_init_writes_the_six_secret_files_readable_by_the_owner_only(tmp_path):
    result = _init(tmp_path / "secrets")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "secrets").iterdir())
    assert names == [
        "anchor-keystore.json",
        "checkpoint-ed25519.pem",
        "checkpoint-sm2.pem",
        "package-ed25519.pem",
        "package-sm2.pem",
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
                "LIANZHENG_CHECKPOINT_SM2_KEY": str(secrets / "checkpoint-sm2.pem"),
                "LIANZHENG_PACKAGE_SM2_KEY": str(secrets / "package-sm2.pem"),
            }
        )
    )
    migrate(services.engine)
    root = services.trust.latest()
    checkpoint_key = keys.ed25519_key(secrets / "checkpoint-ed25519.pem", create=False)
    checkpoint_sm2 = keys.sm2_key(secrets / "checkpoint-sm2.pem", create=False)
    package_sm2 = keys.sm2_key(secrets / "package-sm2.pem", create=False)
    assert [(k.algorithm, k.public_key) for k in root.checkpoint_keys] == [
        ("ed25519", checkpoint_key.public_key().public_bytes_raw()),
        ("sm2", sm2.public_of(checkpoint_sm2)),
    ]
    assert ("sm2", sm2.public_of(package_sm2)) in [
        (k.algorithm, k.public_key) for k in root.package_keys
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


def test_keys_add_sm2_gives_a_folder_from_before_sm2_its_two_keys_and_never_overwrites(tmp_path):
    secrets = tmp_path / "secrets"
    _init(secrets)
    for name in ("checkpoint-sm2.pem", "package-sm2.pem"):  # as `keys init` left it before 国密
        (secrets / name).unlink()
    added = CliRunner().invoke(main, ["keys", "add-sm2", "--dir", str(secrets)])
    assert added.exit_code == 0, added.output
    for name in ("checkpoint-sm2.pem", "package-sm2.pem"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600
        keys.sm2_key(secrets / name, create=False)
    before = {p.name: p.read_bytes() for p in secrets.iterdir()}
    again = CliRunner().invoke(main, ["keys", "add-sm2", "--dir", str(secrets)])
    assert again.exit_code == 1 and "already holds checkpoint-sm2.pem" in again.output
    assert {p.name: p.read_bytes() for p in secrets.iterdir()} == before


def test_an_sm2_key_that_openssl_made_is_read_and_one_of_another_kind_is_refused(tmp_path):
    made = tmp_path / "openssl-sm2.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", str(made)], check=True)
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(made), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    assert public.endswith(sm2.public_of(keys.sm2_key(made, create=False)))
    other = tmp_path / "ed25519.pem"
    other.write_bytes(keys.new_ed25519_pem())
    with pytest.raises(ConfigurationError, match="is not an SM2 private key"):
        keys.sm2_key(other, create=False)
