"""Wiring: the database, the keys and the domain services one deployment runs on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import anchor
import anchor.models  # noqa: F401 - registers the anchor tables on the shared metadata
import evidence
import verify_portal.app.models  # noqa: F401 - and the portal's
from evidence.blobstore import BlobStore, FileBlobStore
from evidence.devices import DeviceRegistry
from evidence.intake import Intake
from evidence.retention import Rules
from evidence.retention_service import RetentionService
from evidence.service import EvidenceService, Limits
from evidence.uploads import Uploads
from ledger import db, keys
from ledger import models as db_models
from ledger.cases import CaseService
from ledger.errors import ConfigurationError
from ledger.keyring import ED25519, SM2, KeyRing
from ledger.parties import PartySecrets
from ledger.storage import LogStore
from verify_portal.app.citizens import CitizenAccess
from verify_portal.app.court_roots import CourtRoots
from verify_portal.app.logins import StaffLogins
from verify_portal.app.settings import EvidenceSettings, Settings
from verify_portal.app.statements import Statements
from verify_portal.app.trust import TrustService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: LogStore
    cases: CaseService
    evidence: EvidenceService
    uploads: Uploads
    trust: TrustService
    court: CourtRoots
    citizens: CitizenAccess
    logins: StaffLogins
    statements: Statements
    retention: RetentionService
    intake: Intake


log = logging.getLogger(__name__)
PORTAL_MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(engine: Engine) -> None:
    """Bring every domain's tables up to date: the ledger's, anchoring's, evidence's, then the
    portal's."""
    db.upgrade(engine, locations=(anchor.MIGRATIONS, evidence.MIGRATIONS, PORTAL_MIGRATIONS))


def upgrade_database(settings: Settings) -> None:
    """Migrate as the tables' owner and, where the service connects as another role, grant that role
    only what it needs (ledger/db.py): the service itself can then never alter or delete a leaf."""
    owner_url = settings.migration_database_url or settings.database_url
    owner = db.make_engine(owner_url)
    try:
        migrate(owner)
        service = make_url(settings.database_url)
        if owner.dialect.name == "postgresql" and service.username != make_url(owner_url).username:
            tables = [t.name for t in db_models.Base.metadata.sorted_tables]
            db.grant_service_role(owner, service.username or "", service.password, tables)
    finally:
        owner.dispose()


def _owner_only(database: Path) -> None:
    """An SQLite file (with its journal) made readable by its owner only, as new files are: it holds
    GPS positions and password hashes. Tightens what an earlier version left group- or
    world-readable."""
    for path in (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    ):
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except PermissionError:
            log.warning("%s is readable by others and not ours to change: make it mode 0600", path)


def blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings name: an S3-compatible bucket for LIANZHENG_BLOB_URL, else
    files under the blob folder."""
    url = settings.evidence.blob_url
    if url is None:
        return FileBlobStore(settings.blob_root)
    from evidence.s3store import S3BlobStore, staging_folder  # boto3 only where it is used

    retention = timedelta(days=settings.evidence.s3_retention_days)
    return S3BlobStore.from_url(url, staging_folder(settings.data_dir), retention)


def build(settings: Settings) -> Services:
    """Open the database and load (on first start: create) the keys under the data directory."""
    create = settings.generate_keys
    rotated = settings.rotated_keys_dir
    checkpoint_keys = KeyRing(settings.checkpoint_key_file, create, rotated, ED25519)
    checkpoint_sm2_keys = KeyRing(settings.checkpoint_sm2_key_file, create, rotated, SM2)
    party_secrets = PartySecrets.derive(keys.secret(settings.party_secret_file, create=create))
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _owner_only(Path(settings.database_url.removeprefix("sqlite:///")))
    engine = db.make_engine(settings.database_url)
    sessions = db.session_factory(engine)
    store = LogStore(settings.log_origin, checkpoint_keys, checkpoint_sm2_keys)
    cases = CaseService(sessions, store, party_secrets)
    blobs = blob_store(settings)
    evidence_settings = settings.evidence
    limits = Limits(
        evidence_settings.max_evidence_bytes, timedelta(seconds=evidence_settings.clock_skew)
    )
    evidence_service = EvidenceService(cases, blobs, DeviceRegistry(cases), limits)
    upload_lifetime = timedelta(hours=evidence_settings.upload_lifetime_hours)
    uploads = Uploads(evidence_service, settings.uploads_dir, upload_lifetime)
    trust = TrustService(
        settings,
        sessions,
        store,
        KeyRing(settings.package_key_file, create, rotated, ED25519),
        KeyRing(settings.package_sm2_key_file, create, rotated, SM2),
    )
    citizens = CitizenAccess(sessions, cases, party_secrets.code_key)
    court = CourtRoots(settings, sessions, trust)
    return Services(
        settings,
        engine,
        sessions,
        store,
        cases,
        evidence_service,
        uploads,
        trust,
        court,
        citizens,
        StaffLogins(sessions),
        Statements(cases, evidence_service, party_secrets),
        RetentionService(sessions, cases, blobs, _retention_rules(evidence_settings), trust.latest),
        Intake(cases, blobs, timedelta(minutes=evidence_settings.link_window_minutes)),
    )


def _retention_rules(settings: EvidenceSettings) -> Rules:
    try:
        return Rules(settings.retention_years, settings.retention_unlinked_months)
    except ValueError as exc:
        raise ConfigurationError(
            f"LIANZHENG_RETENTION_YEARS or LIANZHENG_RETENTION_UNLINKED_MONTHS: {exc}"
        ) from None
