"""Blobs in an S3-compatible object store (DESIGN.md: Storage and scale, "an S3-compatible object
store for blobs (write-once with Object Lock)"), chosen by `LIANZHENG_BLOB_URL=s3://bucket/prefix`.

A write is staged on local disk while it is hashed (ffprobe and the sniffers read it there, as with
the file store), then sent under `<prefix>/sha256/ab/cd/<hash>`:
- write-once: the put (or the multipart completion) carries `If-None-Match: *`, so the server
  refuses to replace an existing object; the same name always means the same bytes;
- in parts of PART bytes read from the staged file, never the whole file in memory, each with its
  SHA-256 checksum for the server to check;
- with Object Lock retention in compliance mode for `retention` when the bucket has Object Lock
  enabled: not even the account's root user can delete or overwrite the version before then.
Reads verify the hash, as the file store's do. Endpoint, region and credentials come from the usual
AWS variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from evidence.blobstore import CHUNK, StagedStore, blob_name, check_digest

PART = 8 << 20  # bytes per multipart part (S3's minimum is 5 MiB); one part in memory at a time
STALE_UPLOAD = timedelta(days=1)  # a multipart upload this old was left by a killed process


class S3BlobStore(StagedStore):
    """Blobs as objects in `bucket` under `prefix`, staged in `staging` while written."""

    def __init__(
        self, client: Any, bucket: str, prefix: str, staging: Path, retention: timedelta
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.tmp = staging
        self.retention = retention
        self._locking: bool | None = None  # whether the bucket has Object Lock, once asked

    @classmethod
    def from_url(cls, url: str, staging: Path, retention: timedelta) -> S3BlobStore:
        """The store of `s3://bucket/prefix`, with a client configured from the environment."""
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"a blob URL is s3://bucket/prefix, not {url!r}")
        config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10)
        return cls(
            boto3.client("s3", config=config), parsed.netloc, parsed.path, staging, retention
        )

    def key(self, sha256: str) -> str:
        return f"{self.prefix}/{blob_name(sha256)}" if self.prefix else blob_name(sha256)

    # --- reading -------------------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise FileNotFoundError(f"blob {sha256} is not in bucket {self.bucket}")
        return int(head["ContentLength"])

    def open(self, sha256: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]
        digest = hashlib.sha256()
        try:
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
                yield chunk
        finally:
            body.close()
        check_digest(sha256, digest, "in the object store")

    @contextmanager
    def local_file(self, sha256: str) -> Iterator[Path]:
        """A checked copy in the staging folder while the block runs (ffmpeg reads files)."""
        with self.scratch() as folder:
            path = folder / sha256
            with open(path, "wb") as out:
                for chunk in self.open(sha256):
                    out.write(chunk)
            yield path

    def health(self) -> str:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            return f"bucket {self.bucket} is not reachable: {exc}"
        return "ok"

    def locked_until(self, sha256: str) -> datetime | None:
        """The retain-until date of the blob's Object Lock, while it lies ahead."""
        head = self._head(sha256)
        until = None if head is None else head.get("ObjectLockRetainUntilDate")
        return until if until is not None and until > datetime.now(UTC) else None

    def delete(self, sha256: str) -> None:
        """Delete every version of the object (a delete without a version only hides it behind a
        marker in a versioned bucket, as Object Lock buckets are)."""
        key = self.key(sha256)
        listed = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
            if version["Key"] == key:
                self.client.delete_object(
                    Bucket=self.bucket, Key=key, VersionId=version["VersionId"]
                )

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head

    # --- writing -------------------------------------------------------------------

    def place(self, temp: Path, sha256: str) -> bool:
        """Send the staged file under its name; False when the bytes were already stored."""
        if self.exists(sha256):
            return False
        size = temp.stat().st_size
        try:
            if size <= PART:
                self._put(temp, sha256)
            else:
                self._put_in_parts(temp, sha256)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                return False  # stored by a concurrent writer meanwhile: the same bytes
            raise
        return True

    def _put(self, temp: Path, sha256: str) -> None:
        with open(temp, "rb") as body:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(sha256),
                Body=body,
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_b64(bytes.fromhex(sha256)),
                **self._lock(),
            )

    def _put_in_parts(self, temp: Path, sha256: str) -> None:
        key = self.key(sha256)
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **self._lock()
        )["UploadId"]
        try:
            parts = self._send_parts(temp, key, upload)
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise

    def _send_parts(self, temp: Path, key: str, upload: str) -> list[dict[str, Any]]:
        parts = []
        with open(temp, "rb") as f:
            number = 1
            while part := f.read(PART):
                checksum = _b64(hashlib.sha256(part).digest())
                sent = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    PartNumber=number,
                    Body=part,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=checksum,
                )
                parts.append(
                    {"ETag": sent["ETag"], "PartNumber": number, "ChecksumSHA256": checksum}
                )
                number += 1
        return parts

    def _lock(self) -> dict[str, Any]:
        """Object Lock arguments for a new object: compliance mode until now + retention, when the
        bucket has Object Lock enabled (it can only be enabled when the bucket is created)."""
        if self._locking is None:
            try:
                found = self.client.get_object_lock_configuration(Bucket=self.bucket)
                enabled = found.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._locking = enabled == "Enabled"
            except ClientError:
                self._locking = False
        if not self._locking:
            return {}
        return {
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": datetime.now(UTC) + self.retention,
        }

    def sweep_stale(self) -> int:
        """The local staging sweep, and multipart uploads under the prefix that a killed process
        started more than a day ago (they hold storage until aborted)."""
        removed = super().sweep_stale()
        cutoff = datetime.now(UTC) - STALE_UPLOAD
        listed = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        for upload in listed.get("Uploads", []):
            if upload["Initiated"] < cutoff:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                removed += 1
        return removed


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def staging_folder(data_dir: Path) -> Path:
    """Where S3 writes are staged: on the node's own disk, private."""
    folder = data_dir / "blob-staging"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder
