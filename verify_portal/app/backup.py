"""`lianzheng backup` and `lianzheng restore`: database, blobs, keys and the embedded chain in one
folder.

A backup folder holds manifest.json         format, time, schema revisions, the log's checkpoint,
row counts, and the SHA-256 and size of every other file db/<table>.jsonl      every table's rows
(ledger/dump.py), from one consistent snapshot blobs/sha256/..       every evidence blob, checked
against its name while copied keys/                 checkpoint key, party secret, package key (and
the anchor keystore if one is set) chain/                the embedded anvil's state and the
contract's deployment (none for an external chain)

The chain and the database are copied while no anchor cycle runs
(`anchor.leader.pause`), so neither holds an anchor the other lacks; blobs
come after the snapshot, and every blob it names was committed before it
(evidence/service.py stores the blob before the row). Restore checks the
whole folder against the manifest and the target for emptiness before it
writes anything, and writes the database in one transaction, last.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, inspect, select, text
from sqlalchemy.orm import Session

from anchor import leader
from anchor.chain import Chain
from evidence.blobstore import FileBlobStore
from ledger import dump, keys
from ledger.db import make_engine
from ledger.errors import BackupRefused
from ledger.keyring import rotated_paths
from ledger.models import Base, LogHead
from ledger.storage import LogStore
from verify_portal.app import anchoring
from verify_portal.app.services import Services, migrate
from verify_portal.app.settings import (
    ANCHOR_KEYSTORE_NAME,
    CHECKPOINT_KEY_NAME,
    CHECKPOINT_SM2_KEY_NAME,
    PACKAGE_KEY_NAME,
    PACKAGE_SM2_KEY_NAME,
    PARTY_SECRET_NAME,
    Settings,
)

BACKUP_FORMAT = "lianzheng-backup-v1"
SM2_KEY_NAMES = (CHECKPOINT_SM2_KEY_NAME, PACKAGE_SM2_KEY_NAME)
MANIFEST = "manifest.json"
CHUNK = 1 << 20
Progress = Callable[[int], None]  # bytes of blobs copied since the last call


@dataclass(frozen=True)
class KeyFile:
    name: str  # under keys/ in the backup
    path: Path  # where the deployment reads it


def key_files(settings: Settings, backed_up: Iterable[str] = ()) -> list[KeyFile]:
    """The deployment's secret files, as a backup names them: the configured ones, and the keys
    rotated in beside them (ledger/keyring.py), found on disk or, when restoring, among `backed_up`
    names."""
    signing = [
        (CHECKPOINT_KEY_NAME, settings.checkpoint_key_file),
        (PACKAGE_KEY_NAME, settings.package_key_file),
        (CHECKPOINT_SM2_KEY_NAME, settings.checkpoint_sm2_key_file),
        (PACKAGE_SM2_KEY_NAME, settings.package_sm2_key_file),
    ]
    found = [KeyFile(name, path) for name, path in signing]
    found.append(KeyFile(PARTY_SECRET_NAME, settings.party_secret_file))
    if settings.chain.anchor_keystore is not None:
        found.append(KeyFile(ANCHOR_KEYSTORE_NAME, settings.chain.anchor_keystore))
    for name, configured in signing:
        found += _rotated(name, configured, settings.rotated_keys_dir, backed_up)
    return found


def _rotated(name: str, configured: Path, folder: Path, backed_up: Iterable[str]) -> list[KeyFile]:
    """Rotated keys by their key ids: named in a backup after the standard file name (`name`), on
    disk after the configured file (ledger/keyring.py)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    on_disk = {
        p.name.removeprefix(f"{configured.stem}.").removesuffix(configured.suffix)
        for p in rotated_paths(configured, folder)
    }
    in_backup = {
        n.removeprefix(f"keys/{stem}.").removesuffix(suffix)
        for n in backed_up
        if n.startswith(f"keys/{stem}.") and n.endswith(suffix) and n != f"keys/{name}"
    }
    return [
        KeyFile(
            f"{stem}.{key_id}{suffix}", folder / f"{configured.stem}.{key_id}{configured.suffix}"
        )
        for key_id in sorted(on_disk | in_backup)
    ]


# --- backup
# ----------------------------------------------------------------------------------------


def create(services: Services, target: Path, progress: Progress = lambda n: None) -> dict[str, Any]:
    """Write a backup of the deployment to the new folder `target`; returns its manifest."""
    _refuse_object_store(services.settings)
    if target.exists():
        raise BackupRefused(f"{target} exists already; a backup is written to a new folder")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # an earlier, interrupted attempt
    partial.mkdir(parents=True, mode=0o700)
    files = _Files(partial)
    settings = services.settings
    with ExitStack() as stack:
        with leader.pause(services.engine):  # no anchor sent or settled from here ...
            chain = _save_chain(settings, files)
            snapshot = stack.enter_context(_snapshot(services.engine, partial))
            log = _log_state(snapshot, services.store)  # ... to here: the snapshot is fixed
        tables = {}
        for table in Base.metadata.sorted_tables:
            with files.text(f"db/{table.name}.jsonl") as out:
                tables[table.name] = dump.write_table(snapshot, table, out)
        revisions = _revisions(snapshot)
    _copy_blobs(settings, files, progress)
    for key in key_files(settings):
        files.copy(key.path, f"keys/{key.name}")
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revisions": revisions,
        "log": log,
        "chain": chain,
        "tables": tables,
        "files": files.written,
    }
    keys.write_new(
        partial / MANIFEST, json.dumps(manifest, indent=1).encode()
    )  # 0600, fsynced, never replaced
    partial.rename(target)  # the folder appears under its name only when complete
    return manifest


@contextmanager
def _snapshot(engine: Engine, folder: Path) -> Iterator[Connection]:
    """A connection that sees the database as of now, for as long as it is open."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            conn.execute(
                text("SELECT 1")
            )  # the snapshot is taken at the transaction's first statement
            yield conn
        return
    copy = folder / "snapshot.sqlite"  # SQLite: the online backup API copies a consistent image
    source, dest = sqlite3.connect(engine.url.database or ""), sqlite3.connect(copy)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()
    snapshot_engine = make_engine(f"sqlite:///{copy}")
    try:
        with snapshot_engine.connect() as conn:
            yield conn
    finally:
        snapshot_engine.dispose()
        for leftover in folder.glob("snapshot.sqlite*"):
            leftover.unlink()


def _log_state(conn: Connection, store: LogStore) -> dict[str, Any]:
    with Session(bind=conn) as session:
        size = store.latest_size(session)
        return {"size": size, "checkpoint": store.checkpoint(session).note if size else None}


def _revisions(conn: Connection) -> list[str]:
    return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))


def _save_chain(settings: Settings, files: _Files) -> dict[str, Any]:
    """The embedded anvil's state (dumped live if it runs) and deployment; an external chain is
    named only."""
    if not settings.chain.embedded:
        return {
            "embedded": False,
            "chain_id": settings.chain.chain_id,
            "contract": settings.chain.contract_address,
        }
    local = anchoring.local_chain(settings)
    deployment = local.dir / "deployment.json"
    if not deployment.exists():
        return {"embedded": True, "deployed": False}
    running = local.running()
    if running is not None:
        state = gzip.decompress(
            bytes.fromhex(str(Chain(running.rpc_url).rpc("anvil_dumpState", []))[2:])
        )
        files.bytes("chain/state.json", state)
    else:
        files.copy(local.state_file, "chain/state.json")
    files.copy(deployment, "chain/deployment.json")
    return {"embedded": True, "deployed": True, **json.loads(deployment.read_text())}


def blob_paths(settings: Settings) -> list[Path]:
    """Every blob file of the deployment's store."""
    return sorted((settings.blob_root / "sha256").glob("*/*/*"))


def _copy_blobs(settings: Settings, files: _Files, progress: Progress) -> None:
    store = FileBlobStore(settings.blob_root)
    for path in blob_paths(settings):
        name = path.name
        with files.writer(f"blobs/sha256/{name[:2]}/{name[2:4]}/{name}") as out:
            for chunk in store.open(name):  # raises TamperedBlob rather than back up a changed file
                out.write(chunk)
                progress(len(chunk))


class _Files:
    """Files written into a backup folder, each fsynced and recorded with its SHA-256 and size."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: dict[str, dict[str, Any]] = {}

    @contextmanager
    def writer(self, name: str) -> Iterator[_HashingFile]:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            hashing = _HashingFile(f)
            yield hashing
            f.flush()
            os.fsync(f.fileno())
        self.written[name] = {"sha256": hashing.digest.hexdigest(), "size": hashing.size}

    @contextmanager
    def text(self, name: str) -> Iterator[_TextOut]:
        with self.writer(name) as out:
            yield _TextOut(out)

    def bytes(self, name: str, content: bytes) -> None:
        with self.writer(name) as out:
            out.write(content)

    def copy(self, source: Path, name: str) -> None:
        with open(source, "rb") as f, self.writer(name) as out:
            while chunk := f.read(CHUNK):
                out.write(chunk)


class _HashingFile:
    def __init__(self, f: Any) -> None:
        self.f, self.digest, self.size = f, hashlib.sha256(), 0

    def write(self, chunk: bytes) -> None:
        self.f.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)


class _TextOut:
    def __init__(self, out: _HashingFile) -> None:
        self.out = out

    def write(self, line: str) -> None:
        self.out.write(line.encode())


# --- restore
# ---------------------------------------------------------------------------------------


def read_manifest(source: Path, progress: Progress = lambda n: None) -> dict[str, Any]:
    """The manifest of the backup at `source`, once every file there has the hash and size it
    names."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{source} holds no readable {MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupRefused(f"{source / MANIFEST} is not a {BACKUP_FORMAT} manifest")
    listed = manifest["files"]
    present = {str(p.relative_to(source)) for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    if present - set(listed):
        raise BackupRefused(
            f"files not in the manifest: {', '.join(sorted(present - set(listed))[:5])}"
        )
    for name, expected in sorted(listed.items()):
        if name not in present:
            raise BackupRefused(f"{name} is missing from the backup")
        digest, size = _hash_file(source / name, progress)
        if (digest, size) != (expected["sha256"], expected["size"]):
            raise BackupRefused(
                f"{name} was changed: its SHA-256 is {digest}, the manifest says "
                f"{expected['sha256']}"
            )
    return manifest


def _hash_file(path: Path, progress: Progress) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            progress(len(chunk))
    return digest.hexdigest(), size


def restore(
    settings: Settings, source: Path, progress: Progress = lambda n: None
) -> dict[str, Any]:
    """Restore the backup at `source` into this (empty) deployment; refuse before writing if it is
    not."""
    _refuse_object_store(settings)
    manifest = read_manifest(source, progress)
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        _check_empty(settings, engine, manifest, source)
        for key in key_files(settings, manifest["files"]):
            if not key.path.exists() and f"keys/{key.name}" in manifest["files"]:
                keys.write_new(key.path, (source / "keys" / key.name).read_bytes())
        _restore_blobs(FileBlobStore(settings.blob_root), source, manifest)
        _restore_chain(settings, source, manifest)
        migrate(engine)
        _load_tables(engine, source, manifest)
    finally:
        engine.dispose()
    return manifest


def _refuse_object_store(settings: Settings) -> None:
    """A backup holds the file store's blobs; blobs in a bucket are kept by the bucket's own
    versioning, Object Lock and replication, and a backup without them would look whole."""
    if settings.evidence.blob_url:
        raise BackupRefused(
            f"the blobs are in {settings.evidence.blob_url}: keep them with the bucket's "
            "versioning and replication; `lianzheng backup` covers deployments whose blobs are "
            "files (unset LIANZHENG_BLOB_URL)"
        )


def _check_empty(
    settings: Settings, engine: Engine, manifest: dict[str, Any], source: Path
) -> None:
    """Refuse a target that holds anything the backup would not put there itself."""
    for key in key_files(settings, manifest["files"]):
        if f"keys/{key.name}" not in manifest["files"]:
            if key.name in SM2_KEY_NAMES:  # a backup from before 国密: new SM2 keys start later
                continue
            raise BackupRefused(
                f"the backup holds no {key.name}, which this deployment is configured with"
            )
        if key.path.exists() and _differs(key.path, source / "keys" / key.name):
            raise BackupRefused(
                f"{key.path} exists and differs from the backup's {key.name}; "
                "restore into an empty deployment"
            )
    blobs = settings.blob_root / "sha256"
    foreign = [p.name for p in blobs.glob("*/*/*")] if blobs.exists() else []
    if any(f"blobs/sha256/{n[:2]}/{n[2:4]}/{n}" not in manifest["files"] for n in foreign):
        raise BackupRefused(
            f"{blobs} holds blobs the backup does not; restore into an empty deployment"
        )
    state = anchoring.local_chain(settings).state_file
    if (
        settings.chain.embedded
        and state.exists()
        and (
            not (source / "chain" / "state.json").exists()
            or _differs(state, source / "chain" / "state.json")
        )
    ):
        raise BackupRefused(
            f"{settings.chain_dir} holds a chain already; restore into an empty deployment"
        )
    if manifest["chain"]["embedded"] != settings.chain.embedded:
        where = "the embedded chain" if manifest["chain"]["embedded"] else "an external chain"
        raise BackupRefused(
            f"the backup anchors on {where}; configure this deployment the same way"
        )
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if (
                table.name in tables
                and table.name != LogHead.__tablename__
                and conn.scalar(select(table).limit(1)) is not None
            ):
                raise BackupRefused(
                    f"the database already holds {table.name} rows; restore into an empty one"
                )


def _differs(ours: Path, backed_up: Path) -> bool:
    """Whether a file already in place is not the backup's (the same one is left by an interrupted
    restore)."""
    return ours.read_bytes() != backed_up.read_bytes()


def _restore_blobs(store: FileBlobStore, source: Path, manifest: dict[str, Any]) -> None:
    for name in sorted(n for n in manifest["files"] if n.startswith("blobs/")):
        sha256 = name.rsplit("/", 1)[1]
        if store.exists(sha256):
            continue  # content-addressed: the same name holds the same bytes
        writer = store.writer(manifest["files"][name]["size"])
        try:
            with open(source / name, "rb") as f:
                while chunk := f.read(CHUNK):
                    writer.write(chunk)
            if writer.digest() != sha256:
                raise BackupRefused(f"{name} does not hash to its name")
            writer.commit()
        except BaseException:
            writer.abort()
            raise


def _restore_chain(settings: Settings, source: Path, manifest: dict[str, Any]) -> None:
    if not (manifest["chain"]["embedded"] and manifest["chain"]["deployed"]):
        return
    settings.chain_dir.mkdir(parents=True, exist_ok=True)
    for name in ("state.json", "deployment.json"):
        shutil.copyfile(source / "chain" / name, settings.chain_dir / name)


def _load_tables(engine: Engine, source: Path, manifest: dict[str, Any]) -> None:
    with engine.begin() as conn:
        revisions = _revisions(conn)
        if revisions != manifest["revisions"]:
            raise BackupRefused(
                f"the backup's schema is at {manifest['revisions']}, this version's at "
                f"{revisions}: restore with the version that made the backup"
            )
        conn.execute(delete(LogHead))  # the migration's empty head; the backup brings its own
        for table in Base.metadata.sorted_tables:
            with open(source / "db" / f"{table.name}.jsonl", encoding="utf-8") as lines:
                for batch in dump.read_table(table, lines):
                    conn.execute(table.insert(), batch)
        counts = dump.row_counts(conn, Base.metadata)
        if counts != manifest["tables"]:
            raise BackupRefused(
                f"restored row counts {counts} differ from the backup's {manifest['tables']}"
            )
        dump.reset_sequences(conn, Base.metadata)


def check_restored(services: Services, manifest: dict[str, Any]) -> None:
    """The restored log's checkpoint must be the one the backup recorded."""
    with services.sessions() as session:
        state = {
            "size": services.store.latest_size(session),
            "checkpoint": services.store.checkpoint(session).note
            if manifest["log"]["size"]
            else None,
        }
    if state != manifest["log"]:
        raise BackupRefused(
            f"the restored log has {state['size']} leaves and another checkpoint than the "
            f"backup's {manifest['log']['size']}"
        )
