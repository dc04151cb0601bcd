"""The blob store: content-addressed, written whole or not at all, never overwritten, verified on
read. Each test runs against the file store and against the S3 store on an S3 server."""

import hashlib
from datetime import timedelta

import pytest

from evidence.blobstore import FileBlobStore
from evidence.errors import TamperedBlob, TooLarge
from evidence.s3store import S3BlobStore
from tests.support.blobs import overwrite, stored_names


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path):
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    return S3BlobStore(
        server.client(), bucket, "lianzheng", tmp_path / "staging", timedelta(days=1)
    )


def _put(store, data, limit=1 << 20):
    writer = store.writer(limit)
    writer.write(data)
    return writer.commit()


def test_a_blob_is_stored_under_its_sha256_in_two_levels_of_folders(store):
    blob = _put(store, b"bodycam bytes")
    digest = hashlib.sha256(b"bodycam bytes").hexdigest()
    assert blob.sha256 == digest and blob.created and blob.size == 13
    name = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    if isinstance(store, FileBlobStore):
        assert store.path(digest) == store.root / name
    else:
        assert store.key(digest) == f"lianzheng/{name}"
    assert stored_names(store) == [digest]
    assert b"".join(store.open(digest)) == b"bodycam bytes"
    assert store.exists(digest) and store.size(digest) == 13
    with store.local_file(digest) as path:
        assert path.read_bytes() == b"bodycam bytes"


def test_the_same_bytes_twice_keep_the_first_copy_and_leave_no_temp(store):
    first = _put(store, b"same")
    second = _put(store, b"same")
    assert first.created and not second.created
    assert stored_names(store) == [first.sha256]
    assert list(store.tmp.iterdir()) == []


def test_a_blob_over_the_limit_is_refused_and_its_temp_file_removed(store):
    writer = store.writer(10)
    with pytest.raises(TooLarge):
        writer.write(b"x" * 11)
    assert list(store.tmp.iterdir()) == [] and stored_names(store) == []


def test_an_aborted_write_leaves_nothing(store):
    writer = store.writer(100)
    writer.write(b"half")
    writer.abort()
    assert list(store.tmp.iterdir()) == [] and stored_names(store) == []


def test_reading_a_blob_changed_behind_the_stores_back_raises_tampered(store):
    blob = _put(store, b"original footage")
    overwrite(store, blob.sha256, b"edited footage!!")
    with pytest.raises(TamperedBlob, match=blob.sha256):
        b"".join(store.open(blob.sha256))
    assert "was changed" in store.verify(blob.sha256)
    if isinstance(store, S3BlobStore):  # a copy is made to hand out a file: checked on the way
        with pytest.raises(TamperedBlob), store.local_file(blob.sha256):
            pass


def test_verify_names_a_missing_blob(store):
    assert store.verify("ab" * 32) == "is missing from the blob store"


def test_names_that_are_not_sha256_are_refused(store):
    with pytest.raises(ValueError):
        store.exists("../../etc/passwd")


def test_temp_files_of_a_dead_process_are_swept_and_live_ones_kept(store):
    import os
    import socket

    store.tmp.mkdir(parents=True)
    dead = store.tmp / f"upload-{socket.gethostname()}-999999999-abc"
    alive = store.tmp / f"upload-{socket.gethostname()}-{os.getpid()}-abc"
    dead.write_bytes(b"half")
    alive.write_bytes(b"in progress")
    assert store.sweep_stale() == 1
    assert not dead.exists() and alive.exists()


def test_a_deleted_file_blob_is_gone_and_deleting_it_again_is_no_error(tmp_path):
    store = FileBlobStore(
        tmp_path / "blobs"
    )  # the S3 store's deletion: tests/evidence/test_s3store
    blob, kept = _put(store, b"purged under its rule"), _put(store, b"kept")
    assert store.locked_until(blob.sha256) is None
    store.delete(blob.sha256)
    store.delete(blob.sha256)
    assert not store.exists(blob.sha256) and store.verify(blob.sha256)
    assert b"".join(store.open(kept.sha256)) == b"kept"


def test_a_finished_upload_is_taken_whole_hashed_and_left_in_place_until_the_caller_drops_it(
    store, tmp_path
):
    upload = tmp_path / "uploads" / "u1"
    upload.parent.mkdir()
    upload.write_bytes(b"\xff\xd8\xff" + bytes(300_000))
    writer = store.writer(1 << 20)
    writer.take(upload)
    assert writer.size == upload.stat().st_size and writer.head[:3] == b"\xff\xd8\xff"
    blob = writer.commit()
    assert blob.sha256 == hashlib.sha256(upload.read_bytes()).hexdigest()
    assert b"".join(store.open(blob.sha256)) == upload.read_bytes()
    if isinstance(store, FileBlobStore):  # same file system: no second copy of the bytes
        assert store.path(blob.sha256).stat().st_ino == upload.stat().st_ino


def test_a_taken_upload_over_the_limit_is_refused_and_leaves_nothing(store, tmp_path):
    upload = tmp_path / "u2"
    upload.write_bytes(bytes(2048))
    writer = store.writer(1024)
    with pytest.raises(TooLarge):
        writer.take(upload)
    assert stored_names(store) == [] and upload.exists()
