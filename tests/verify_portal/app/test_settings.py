"""Settings from the environment, and keys: made on first start, never replaced."""

import pytest

from ledger.errors import ConfigurationError
from verify_portal.app.services import build
from verify_portal.app.settings import Settings


def test_the_embedded_default_lives_under_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'lianzheng.db'}"
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8000)
    assert settings.log_origin == "lianzheng.example/cg-log"
    assert settings.generate_keys


def test_keys_are_created_once_with_owner_only_permissions_and_reused(tmp_path):
    settings = Settings.from_env({"LIANZHENG_DATA_DIR": str(tmp_path)})
    first = build(settings).store.ring.first.public_key().public_bytes_raw()
    assert build(settings).store.ring.first.public_key().public_bytes_raw() == first
    for path in (settings.checkpoint_key_file, settings.party_secret_file):
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_configured_key_file_that_is_missing_stops_the_service(tmp_path):
    settings = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(tmp_path),
            "LIANZHENG_CHECKPOINT_KEY": str(tmp_path / "nowhere.pem"),
        }
    )
    with pytest.raises(ConfigurationError, match="nowhere.pem"):
        build(settings)


def test_a_bad_number_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="LIANZHENG_PORT"):
        Settings.from_env({"LIANZHENG_PORT": "eighty"})
