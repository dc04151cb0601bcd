"""What only the S3 store does: Object Lock in compliance mode, parts for large blobs, refusing to
replace an object, sweeping uploads a killed process left, and the service wired on a bucket."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from evidence import s3store
from evidence.s3store import S3BlobStore
from ledger.events import utc_now
from ledger.users import Role, add_user, by_username
from tests.conftest import bearer
from tests.support.api import log_size, move, open_case, upload_evidence
from tests.support.blobs import overwrite, stored_names
from verify_portal.app.auditing import run_audit
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app


def _store(s3_server, tmp_path, object_lock=True):
    bucket = s3_server.new_bucket(object_lock=object_lock)
    return S3BlobStore(s3_server.client(), bucket, "p", tmp_path / "staging", timedelta(days=30))


def _put(store, data):
    writer = store.writer(1 << 30)
    writer.write(data)
    return writer.commit()


def test_each_object_is_locked_in_compliance_mode_and_cannot_be_deleted(s3_server, tmp_path):
    store = _store(s3_server, tmp_path)
    blob = _put(store, b"bodycam")
    head = store.client.head_object(Bucket=store.bucket, Key=store.key(blob.sha256))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert timedelta(days=29) < until - datetime.now(UTC) <= timedelta(days=30)
    [version] = store.client.list_object_versions(Bucket=store.bucket)["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        store.client.delete_object(
            Bucket=store.bucket, Key=store.key(blob.sha256), VersionId=version["VersionId"]
        )


def test_a_locked_blob_says_until_when_and_its_deletion_is_refused_until_then(s3_server, tmp_path):
    store = _store(s3_server, tmp_path)
    blob = _put(store, b"bodycam")
    until = store.locked_until(blob.sha256)
    assert until is not None and timedelta(days=29) < until - datetime.now(UTC)
    with pytest.raises(ClientError, match="AccessDenied"):
        store.delete(blob.sha256)
    assert store.exists(blob.sha256)


def test_an_unlocked_blob_is_deleted_with_every_version(s3_server, tmp_path):
    store = _store(s3_server, tmp_path, object_lock=False)
    store.client.put_bucket_versioning(
        Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    blob = _put(store, b"purged")
    assert store.locked_until(blob.sha256) is None
    store.delete(blob.sha256)
    store.delete(blob.sha256)
    listed = store.client.list_object_versions(Bucket=store.bucket)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
    assert not store.exists(blob.sha256)


def test_a_bucket_without_object_lock_still_gets_write_once_objects(s3_server, tmp_path):
    store = _store(s3_server, tmp_path, object_lock=False)
    blob = _put(store, b"camera still")
    assert b"".join(store.open(blob.sha256)) == b"camera still"
    assert not _put(store, b"camera still").created


def test_a_large_blob_goes_up_in_parts_and_reads_back_whole(s3_server, tmp_path, monkeypatch):
    monkeypatch.setattr(s3store, "PART", 5 << 20)  # S3's smallest part
    store = _store(s3_server, tmp_path)
    sent = []
    real_upload_part = store.client.upload_part

    def upload_part(**kwargs):
        sent.append(len(kwargs["Body"]))
        return real_upload_part(**kwargs)

    monkeypatch.setattr(store.client, "upload_part", upload_part)
    data = bytes(range(256)) * (11 << 12)  # 11 MiB
    blob = _put(store, data)
    assert sent == [5 << 20, 5 << 20, 1 << 20], "one part in memory at a time"
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(b"".join(store.open(blob.sha256))).hexdigest() == blob.sha256


def test_a_name_stored_meanwhile_by_another_writer_is_not_replaced(
    s3_server, tmp_path, monkeypatch
):
    store = _store(s3_server, tmp_path)
    digest = hashlib.sha256(b"footage").hexdigest()
    monkeypatch.setattr(store, "exists", lambda sha256: False)  # both checked before either put
    first = _put(store, b"footage")
    overwrite_attempt = _put(store, b"footage")
    assert first.created and not overwrite_attempt.created
    versions = store.client.list_object_versions(Bucket=store.bucket)["Versions"]
    assert [v["Key"] for v in versions] == [store.key(digest)], "If-None-Match kept one version"


def test_multipart_uploads_left_by_a_killed_process_are_aborted(s3_server, tmp_path):
    store = _store(s3_server, tmp_path)
    store.client.create_multipart_upload(Bucket=store.bucket, Key="p/sha256/ab/cd/half")
    assert store.sweep_stale() == 1  # moto dates every upload in 2010: older than a day
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_a_multipart_upload_started_less_than_a_day_ago_is_left_to_finish(
    s3_server, tmp_path, monkeypatch
):
    store = _store(s3_server, tmp_path)
    fresh = {"Key": "p/x", "UploadId": "u", "Initiated": datetime.now(UTC) - timedelta(hours=23)}
    monkeypatch.setattr(store.client, "list_multipart_uploads", lambda **_: {"Uploads": [fresh]})
    assert store.sweep_stale() == 0


def test_health_names_a_bucket_that_cannot_be_reached(s3_server, tmp_path):
    store = S3BlobStore(s3_server.client(), "no-such-bucket", "", tmp_path, timedelta(days=1))
    assert store.health().startswith("bucket no-such-bucket is not reachable")


@pytest.fixture
def s3_services(s3_server, tmp_path, monkeypatch, database_url):
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket()
    settings = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "LIANZHENG_BLOB_URL": f"s3://{bucket}/lianzheng",
        }
    )
    services = build(settings)
    migrate(services.engine)
    yield services
    services.engine.dispose()


def test_the_service_on_a_bucket_stores_evidence_there_and_its_audit_checks_it(
    s3_services, media_dir
):
    services = s3_services
    photo = (media_dir / "photo.jpg").read_bytes()
    assert isinstance(services.evidence.blobs, S3BlobStore)
    with services.sessions.begin() as session:
        token = add_user(session, "officer-1", Role.OFFICER)
        legal = add_user(session, "legal-1", Role.LEGAL)
    client = create_app(services=services).test_client()
    case_no = open_case(client, token)
    uploaded = upload_evidence(client, token, case_no, photo)
    assert uploaded.status_code == 201, uploaded.json
    sha256 = uploaded.json["evidence"]["sha256"]
    assert stored_names(services.evidence.blobs) == [sha256]
    assert not (services.settings.blob_root / "sha256").exists(), "nothing in the file store"
    evidence_id = uploaded.json["evidence"]["evidence_id"]
    downloaded = client.get(
        f"/api/v1/evidence/{evidence_id}/content?reason=hearing", headers=bearer(legal)
    )
    assert downloaded.status_code == 200 and downloaded.data == photo
    assert client.get("/readyz").json["checks"]["blob_store"] == "ok"
    assert run_audit(services).clean
    overwrite(services.evidence.blobs, sha256, b"edited")
    findings = run_audit(services).findings
    assert any(sha256 in str(f) for f in findings), findings


def test_a_backup_of_a_deployment_on_a_bucket_is_refused_rather_than_left_without_blobs(
    s3_services, tmp_path
):
    from ledger.errors import BackupRefused
    from verify_portal.app import backup

    with pytest.raises(BackupRefused, match="versioning and replication"):
        backup.create(s3_services, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_an_item_due_whose_object_is_still_locked_is_left_for_a_later_run(s3_services, media_dir):
    services = s3_services
    with services.sessions.begin() as session:
        officer = add_user(session, "officer-1", Role.OFFICER)
        add_user(session, "system-1", Role.SYSTEM)
    client = create_app(services=services).test_client()
    services.cases.clock = lambda: "2015-06-01T09:00:00.000000Z"  # a case of eleven years ago
    case_no = open_case(client, officer)
    item = upload_evidence(client, officer, case_no, (media_dir / "photo.jpg").read_bytes()).json
    move(client, officer, case_no, "FILED", ("WITHDRAWN", {"reason": "duplicate"}))
    services.cases.clock = utc_now
    size = log_size(client)
    with services.sessions() as session:
        report = services.retention.run(by_username(session, "system-1"), dry_run=False)
    [locked] = report.locked
    assert locked.evidence_id == item["evidence"]["evidence_id"] and report.purged == []
    assert locked.locked_until > datetime.now(UTC) + timedelta(days=170)  # uploaded just now
    assert log_size(client) == size and report.blobs_deleted == 0
    assert services.evidence.blobs.exists(item["evidence"]["sha256"])
