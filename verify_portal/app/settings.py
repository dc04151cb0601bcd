"""Every setting of the service, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import ConfigurationError

DEFAULT_ORIGIN = "lianzheng.example/cg-log"
DEFAULT_AGENCY = "链证演示执法机关 Lianzheng demo agency"
DEFAULT_CONTACT = "12345"  # 政务服务便民热线: the national public-service hotline
# The secret files' names: under <data>/keys by default, in ./secrets for docker-compose (`keys
# init`).
CHECKPOINT_KEY_NAME = "checkpoint-ed25519.pem"
PARTY_SECRET_NAME = "party-secret.bin"
PACKAGE_KEY_NAME = "package-ed25519.pem"
CHECKPOINT_SM2_KEY_NAME = "checkpoint-sm2.pem"  # 国密: SM2 beside Ed25519 (DESIGN.md: Formats)
PACKAGE_SM2_KEY_NAME = "package-sm2.pem"
ANCHOR_KEYSTORE_NAME = "anchor-keystore.json"


@dataclass(frozen=True)
class WebSettings:
    """The HTTP service: where it listens, what it accepts, how pages and cookies behave."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    max_request_bytes: int = 1 << 20
    max_package_bytes: int = 8 << 30  # the court page's upload limit
    court_verify_seconds: float = 300.0  # the court page's verifier process: wall-clock limit ...
    court_verify_memory: int = 2 << 30  # ... and address-space limit, in bytes
    public_url: str | None = (
        None  # the portal's address as printed on notices (QR codes); default: as asked
    )
    public_rpc_url: str | None = (
        None  # a chain RPC browsers may call: citizens' pages check anchors there
    )
    secure_cookies: bool = False  # behind TLS in production: session cookies only over HTTPS
    trusted_proxies: int = (
        0  # how many proxies set X-Forwarded-For: the client is the one before them
    )
    rate_limit_storage: str = (
        "memory://"  # per process; redis://host:6379 shares counts between workers
    )
    agency_contact: str = DEFAULT_CONTACT  # whom a citizen calls, on their case page and notice
    explorer_tx_url: str | None = None  # a block explorer's page of a transaction, "{tx}" in it

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebSettings:
        return cls(
            host=env.get("LIANZHENG_HOST", "127.0.0.1"),
            port=_int(env, "LIANZHENG_PORT", 8000),
            workers=_int(env, "LIANZHENG_WORKERS", 2),
            max_request_bytes=_int(env, "LIANZHENG_MAX_REQUEST_BYTES", 1 << 20),
            max_package_bytes=_int(env, "LIANZHENG_MAX_PACKAGE_BYTES", 8 << 30),
            court_verify_seconds=_float(env, "LIANZHENG_COURT_VERIFY_SECONDS", 300.0),
            court_verify_memory=_int(env, "LIANZHENG_COURT_VERIFY_MEMORY", 2 << 30),
            public_url=env.get("LIANZHENG_PUBLIC_URL") or None,
            public_rpc_url=env.get("LIANZHENG_PUBLIC_RPC_URL") or None,
            secure_cookies=env.get("LIANZHENG_SECURE_COOKIES", "0") == "1",
            trusted_proxies=_int(env, "LIANZHENG_TRUSTED_PROXIES", 0),
            rate_limit_storage=env.get("LIANZHENG_RATE_LIMIT_STORAGE") or "memory://",
            agency_contact=env.get("LIANZHENG_AGENCY_CONTACT") or DEFAULT_CONTACT,
            explorer_tx_url=env.get("LIANZHENG_EXPLORER_TX_URL") or None,
        )


@dataclass(frozen=True)
class ChainSettings:
    """The chain and the anchor worker (DESIGN.md: Chain). No RPC URL means the embedded anvil."""

    rpc_url: str | None = None
    chain_id: int | None = None
    contract_address: str | None = None
    contract_block: int = 0  # the contract's deployment block: where its history starts
    anchor_key: str | None = field(default=None, repr=False)
    anchor_keystore: Path | None = None
    anchor_keystore_password: str = field(default="", repr=False)
    anchor_interval: float = 30.0
    anchor_max_leaves: int = 10_000
    anchor_confirmations: int = 12
    anchor_stuck_after: float = 120.0
    anchor_in_serve: bool = True
    anchor_lag_limit: float = 600.0  # /readyz fails when a leaf has waited longer for its anchor
    anvil_bin: str | None = None

    @property
    def embedded(self) -> bool:
        return self.rpc_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChainSettings:
        rpc_url = env.get("LIANZHENG_RPC_URL") or None
        keystore = env.get("LIANZHENG_ANCHOR_KEYSTORE")
        return cls(
            rpc_url=rpc_url,
            chain_id=_int(env, "LIANZHENG_CHAIN_ID", 0) or None,
            contract_address=env.get("LIANZHENG_CONTRACT_ADDRESS") or None,
            contract_block=_int(env, "LIANZHENG_CONTRACT_BLOCK", 0),
            anchor_key=env.get("LIANZHENG_ANCHOR_KEY") or None,
            anchor_keystore=Path(keystore) if keystore else None,
            anchor_keystore_password=env.get("LIANZHENG_ANCHOR_KEYSTORE_PASSWORD", ""),
            anchor_interval=_float(env, "LIANZHENG_ANCHOR_INTERVAL", 30.0),
            anchor_max_leaves=_int(env, "LIANZHENG_ANCHOR_MAX_LEAVES", 10_000),
            anchor_confirmations=_int(env, "LIANZHENG_ANCHOR_CONFIRMATIONS", 12),
            anchor_stuck_after=_float(env, "LIANZHENG_ANCHOR_STUCK_AFTER", 120.0),
            anchor_lag_limit=_float(env, "LIANZHENG_ANCHOR_LAG_LIMIT", 600.0),
            # The embedded default anchors from inside `serve`; production runs `anchor run` apart.
            anchor_in_serve=env.get("LIANZHENG_ANCHOR_IN_SERVE", "0" if rpc_url else "1") == "1",
            anvil_bin=env.get("LIANZHENG_ANVIL") or None,
        )


@dataclass(frozen=True)
class EvidenceSettings:
    """Evidence files: where they are kept and what an upload may be."""

    blob_dir: Path | None = None  # default <data>/blobs
    blob_url: str | None = None  # s3://bucket/prefix: blobs in an S3-compatible object store
    s3_retention_days: int = 180  # Object Lock (compliance) on each object: the shortest class
    retention_years: int = 10  # an item is kept this long after its case closed (retention.py)
    retention_unlinked_months: int = 6  # docked footage no case holds, after its registration
    link_window_minutes: int = 120  # intake footage is proposed for cases this close in time
    max_evidence_bytes: int = 8 << 30
    upload_lifetime_hours: float = 24.0
    clock_skew: float = (
        300.0  # seconds a capture time may lie after an upload's arrival (device clocks)
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EvidenceSettings:
        blob_dir = env.get("LIANZHENG_BLOB_DIR")
        return cls(
            blob_dir=Path(blob_dir) if blob_dir else None,
            blob_url=env.get("LIANZHENG_BLOB_URL") or None,
            s3_retention_days=_int(env, "LIANZHENG_S3_RETENTION_DAYS", 180),
            retention_years=_int(env, "LIANZHENG_RETENTION_YEARS", 10),
            retention_unlinked_months=_int(env, "LIANZHENG_RETENTION_UNLINKED_MONTHS", 6),
            link_window_minutes=_int(env, "LIANZHENG_LINK_WINDOW_MINUTES", 120),
            max_evidence_bytes=_int(env, "LIANZHENG_MAX_EVIDENCE_BYTES", 8 << 30),
            upload_lifetime_hours=_float(env, "LIANZHENG_UPLOAD_LIFETIME_HOURS", 24.0),
            clock_skew=_float(env, "LIANZHENG_CLOCK_SKEW", 300.0),
        )


@dataclass(frozen=True)
class WitnessSettings:
    """Who else vouches for this log: the witnesses it asks to cosign its checkpoints (DESIGN.md:
    Witnesses) and the time-stamping authority that stamps its anchored ones (Timestamps)."""

    file: Path | None = None  # JSON list of {"name", "url", "public_key"}: none configured if unset
    quorum: int | None = None  # cosignatures a checkpoint needs; default: a majority of them
    timeout: float = 5.0  # seconds one witness may take to answer
    interval: float = 2.0  # seconds between rounds: at high rates the newest checkpoint goes out
    tsa_url: str | None = None  # an RFC 3161 authority that stamps each anchored checkpoint
    tsa_certificates: Path | None = None  # its certificate chain (PEM), named in the trust root

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WitnessSettings:
        file = env.get("LIANZHENG_WITNESSES")
        quorum = env.get("LIANZHENG_WITNESS_QUORUM")
        certificates = env.get("LIANZHENG_TSA_CERTS")
        return cls(
            file=Path(file) if file else None,
            quorum=None if not quorum else _int(env, "LIANZHENG_WITNESS_QUORUM", 0),
            timeout=_float(env, "LIANZHENG_WITNESS_TIMEOUT", 5.0),
            interval=_float(env, "LIANZHENG_WITNESS_INTERVAL", 2.0),
            tsa_url=env.get("LIANZHENG_TSA_URL") or None,
            tsa_certificates=Path(certificates) if certificates else None,
        )


@dataclass(frozen=True)
class ClientSettings:
    """The command line's side: the `lianzheng upload` client and the roots this user trusts."""

    server: str = "http://127.0.0.1:8000"
    token: str | None = field(default=None, repr=False)
    state_dir: Path = Path.home() / ".cache" / "lianzheng"
    trust_store: Path = Path.home() / ".config" / "lianzheng" / "trust"  # `lianzheng trust add`

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClientSettings:
        home = Path.home()
        return cls(
            server=env.get("LIANZHENG_SERVER", "http://127.0.0.1:8000"),
            token=env.get("LIANZHENG_TOKEN") or None,
            state_dir=Path(env.get("LIANZHENG_CLIENT_STATE", home / ".cache" / "lianzheng")),
            trust_store=Path(
                env.get("LIANZHENG_TRUST_STORE", home / ".config" / "lianzheng" / "trust")
            ),
        )


@dataclass(frozen=True)
class Settings:
    """One deployment: its data, database, log and keys, and a part per concern."""

    data_dir: Path
    database_url: str  # the service's connection: in production a role that may not alter the log
    log_origin: str
    checkpoint_key_file: Path
    party_secret_file: Path
    package_key_file: Path
    checkpoint_sm2_key_file: Path
    package_sm2_key_file: Path
    generate_keys: bool  # only the embedded default makes its own keys; named key files must exist
    migration_database_url: str | None = None  # the tables' owner, for `db upgrade` only
    agency: str = DEFAULT_AGENCY  # the trust root's `agency`: who stands behind this log
    require_chain_check: bool = False  # the trust root's `require_chain_check`
    overdue_days: int = 90  # a filed case without a decision after this many days is overdue (§60)
    web: WebSettings = WebSettings()
    chain: ChainSettings = ChainSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    witnesses: WitnessSettings = WitnessSettings()
    client: ClientSettings = ClientSettings()

    @property
    def chain_dir(self) -> Path:
        return self.data_dir / "chain"

    @property
    def blob_root(self) -> Path:
        return self.evidence.blob_dir or self.data_dir / "blobs"

    @property
    def rotated_keys_dir(self) -> Path:
        """Where `keys rotate` writes new keys: the data directory, writable even when the
        configured keys are read-only secret mounts."""
        return self.data_dir / "keys"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: the process environment), with the embedded defaults."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("LIANZHENG_DATA_DIR", "var")).resolve()
        keys = data_dir / "keys"
        named_keys = {
            "LIANZHENG_CHECKPOINT_KEY",
            "LIANZHENG_PARTY_SECRET",
            "LIANZHENG_PACKAGE_KEY",
            "LIANZHENG_CHECKPOINT_SM2_KEY",
            "LIANZHENG_PACKAGE_SM2_KEY",
        }
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", f"sqlite:///{data_dir / 'lianzheng.db'}"),
            migration_database_url=env.get("LIANZHENG_MIGRATION_DATABASE_URL") or None,
            log_origin=env.get("LIANZHENG_LOG_ORIGIN", DEFAULT_ORIGIN),
            checkpoint_key_file=Path(
                env.get("LIANZHENG_CHECKPOINT_KEY", keys / CHECKPOINT_KEY_NAME)
            ),
            party_secret_file=Path(env.get("LIANZHENG_PARTY_SECRET", keys / PARTY_SECRET_NAME)),
            package_key_file=Path(env.get("LIANZHENG_PACKAGE_KEY", keys / PACKAGE_KEY_NAME)),
            checkpoint_sm2_key_file=Path(
                env.get("LIANZHENG_CHECKPOINT_SM2_KEY", keys / CHECKPOINT_SM2_KEY_NAME)
            ),
            package_sm2_key_file=Path(
                env.get("LIANZHENG_PACKAGE_SM2_KEY", keys / PACKAGE_SM2_KEY_NAME)
            ),
            generate_keys=not (named_keys & env.keys()),
            agency=env.get("LIANZHENG_AGENCY") or DEFAULT_AGENCY,
            require_chain_check=env.get("LIANZHENG_REQUIRE_CHAIN_CHECK", "0") == "1",
            overdue_days=_int(env, "LIANZHENG_OVERDUE_DAYS", 90),
            web=WebSettings.from_env(env),
            chain=ChainSettings.from_env(env),
            evidence=EvidenceSettings.from_env(env),
            witnesses=WitnessSettings.from_env(env),
            client=ClientSettings.from_env(env),
        )


PRIVATE_UMASK = (
    0o077  # files 0600, folders 0700: the data holds GPS, password hashes, keys, footage
)


def private_files() -> None:
    """From here on this process (and what it starts) creates files only its owner can read."""
    os.umask(PRIVATE_UMASK)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name, default))
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {env[name]!r}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {env[name]!r}") from None
