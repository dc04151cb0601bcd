"""Wiring: the database, the keys and the domain services one deployment runs on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import anchor
import anchor.models  # noqa: F401 - registers the anchor tables on the shared metadata
import evidence
import verify_portal.models  # noqa: F401 - and the portal's
from evidence.blobstore import FileBlobStore
from evidence.devices import DeviceRegistry
from evidence.service import EvidenceService, Limits
from evidence.uploads import Uploads
from ledger import db, keys
from ledger.cases import CaseService
from ledger.keyring import KeyRing
from ledger.parties import PartySecrets
from ledger.storage import LogStore
from verify_portal.citizens import CitizenAccess
from verify_portal.court_roots import CourtRoots
from verify_portal.settings import Settings
from verify_portal.staff import StaffLogins
from verify_portal.statements import Statements
from verify_portal.trust import TrustService


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
    staff: StaffLogins
    statements: Statements


EXTENSION = "lianzheng"
PORTAL_MIGRATIONS = Path(__file__).parent / "migrations"


def install(app: Flask, services: Services) -> None:
    """Make `services` the app's, for `current()` in request handlers."""
    app.extensions[EXTENSION] = services


def current() -> Services:
    """The services of the app handling the current request."""
    return current_app.extensions[EXTENSION]


def migrate(engine: Engine) -> None:
    """Bring every domain's tables up to date: the ledger's, anchoring's, evidence's, then the portal's."""
    db.upgrade(engine, locations=(anchor.MIGRATIONS, evidence.MIGRATIONS, PORTAL_MIGRATIONS))


def build(settings: Settings) -> Services:
    """Open the database and load (on first start: create) the keys under the data directory."""
    create = settings.generate_keys
    checkpoint_keys = KeyRing(settings.checkpoint_key_file, create, settings.rotated_keys_dir)
    party_secrets = PartySecrets.derive(keys.secret(settings.party_secret_file, create=create))
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(settings.database_url)
    sessions = db.session_factory(engine)
    store = LogStore(settings.log_origin, checkpoint_keys)
    cases = CaseService(sessions, store, party_secrets)
    blobs = FileBlobStore(settings.blob_root)
    evidence_service = EvidenceService(cases, blobs, DeviceRegistry(sessions), Limits(settings.max_evidence_bytes))
    uploads = Uploads(evidence_service, settings.uploads_dir, timedelta(hours=settings.upload_lifetime_hours))
    trust = TrustService(settings, sessions, store,
                         KeyRing(settings.package_key_file, create, settings.rotated_keys_dir))
    citizens = CitizenAccess(sessions, cases, party_secrets.code_key)
    court = CourtRoots(settings, sessions, trust)
    return Services(settings, engine, sessions, store, cases, evidence_service, uploads, trust, court, citizens,
                    StaffLogins(sessions), Statements(cases, evidence_service, party_secrets))
