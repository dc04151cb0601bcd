"""Reaching behind a blob store's back, as someone with access to its disk or bucket could."""

from __future__ import annotations

from evidence.blobstore import FileBlobStore
from evidence.s3store import S3BlobStore


def overwrite(store: FileBlobStore | S3BlobStore, sha256: str, data: bytes) -> None:
    """Replace a stored blob's bytes (in a versioned bucket: a newer version over the locked
    one, which is what a reader then gets)."""
    if isinstance(store, FileBlobStore):
        store.path(sha256).write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.key(sha256), Body=data)


def stored_names(store: FileBlobStore | S3BlobStore) -> list[str]:
    """The hashes of the blobs the store holds."""
    if isinstance(store, FileBlobStore):
        folder = store.root / "sha256"
        return sorted(p.name for p in folder.glob("*/*/*")) if folder.exists() else []
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    return sorted(item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", []))
