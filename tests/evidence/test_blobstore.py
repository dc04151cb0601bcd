"""The blob store: content-addressed, written whole or not at all, never overwritten, verified on
read."""

import hashlib

import pytest

from evidence.blobstore import FileBlobStore
from evidence.errors import TamperedBlob, TooLarge


@pytest.fixture
def store(tmp_path):
    return FileBlobStore(tmp_path / "blobs")


def _put(store, data, limit=1 << 20):
    writer = store.writer(limit)
    writer.write(data)
    return writer.commit()


def test_a_blob_is_stored_under_its_sha256_in_two_levels_of_folders(store):
    blob = _put(store, b"bodycam bytes")
    digest = hashlib.sha256(b"bodycam bytes").hexdigest()
    assert blob.sha256 == digest and blob.created
    assert store.path(digest) == store.root / "sha256" / digest[:2] / digest[2:4] / digest
    assert b"".join(store.open(digest)) == b"bodycam bytes"


def test_the_same_bytes_twice_keep_the_first_file_and_leave_no_temp(store):
    first = _put(store, b"same")
    inode = store.path(first.sha256).stat().st_ino
    second = _put(store, b"same")
    assert not second.created and store.path(first.sha256).stat().st_ino == inode
    assert list(store.tmp.iterdir()) == []


def test_a_blob_over_the_limit_is_refused_and_its_temp_file_removed(store):
    writer = store.writer(10)
    with pytest.raises(TooLarge):
        writer.write(b"x" * 11)
    assert list(store.tmp.iterdir()) == [] and not (store.root / "sha256").exists()


def test_an_aborted_write_leaves_nothing(store):
    writer = store.writer(100)
    writer.write(b"half")
    writer.abort()
    assert list(store.tmp.iterdir()) == [] and not (store.root / "sha256").exists()


def test_reading_a_blob_changed_on_disk_raises_tampered(store):
    blob = _put(store, b"original footage")
    store.path(blob.sha256).write_bytes(b"edited footage!!")
    with pytest.raises(TamperedBlob, match=blob.sha256):
        b"".join(store.open(blob.sha256))
    assert "changed on disk" in store.verify(blob.sha256)


def test_verify_names_a_missing_blob(store):
    assert store.verify("ab" * 32) == "is missing from the blob store"


def test_names_that_are_not_sha256_are_refused(store):
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


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
