"""Every setting of the service, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import ConfigurationError

DEFAULT_ORIGIN = "lianzheng.example/cg-log"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    log_origin: str
    checkpoint_key_file: Path
    party_secret_file: Path
    host: str
    port: int
    workers: int
    max_request_bytes: int
    generate_keys: bool  # only the embedded default makes its own keys; named key files must exist

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: the process environment), with the embedded defaults."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("LIANZHENG_DATA_DIR", "var")).resolve()
        keys = data_dir / "keys"
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", f"sqlite:///{data_dir / 'lianzheng.db'}"),
            log_origin=env.get("LIANZHENG_LOG_ORIGIN", DEFAULT_ORIGIN),
            checkpoint_key_file=Path(env.get("LIANZHENG_CHECKPOINT_KEY", keys / "checkpoint-ed25519.pem")),
            party_secret_file=Path(env.get("LIANZHENG_PARTY_SECRET", keys / "party-secret.bin")),
            host=env.get("LIANZHENG_HOST", "127.0.0.1"),
            port=_int(env, "LIANZHENG_PORT", 8000),
            workers=_int(env, "LIANZHENG_WORKERS", 2),
            max_request_bytes=_int(env, "LIANZHENG_MAX_REQUEST_BYTES", 1 << 20),
            generate_keys=not ({"LIANZHENG_CHECKPOINT_KEY", "LIANZHENG_PARTY_SECRET"} & env.keys()),
        )



def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {env[name]!r}") from None
