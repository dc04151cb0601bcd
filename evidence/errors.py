"""Errors of evidence ingest, under the one root `ledger.errors.LianzhengError`."""

from __future__ import annotations

from ledger.errors import InvalidInput, LianzhengError


class TooLarge(LianzhengError):
    """The upload is larger than the configured limit."""

    code = "too-large"


class UnsupportedMedia(InvalidInput):
    """The bytes are not of an allowed media type (decided from the content, not the name)."""

    code = "unsupported-media"


class ChecksumMismatch(InvalidInput):
    """The bytes received do not hash to what the client declared."""

    code = "checksum-mismatch"


class Truncated(InvalidInput):
    """The body ended before the declared length."""

    code = "truncated-upload"


class OffsetConflict(LianzhengError):
    """A resumable upload's PATCH does not start where the upload stands."""

    code = "offset-conflict"


class TamperedBlob(LianzhengError):
    """A stored blob no longer hashes to its name."""

    code = "tampered-blob"


class DeviceRefused(InvalidInput):
    """A device signature is bad, or the device is unknown or revoked."""

    code = "device-refused"


class TusVersionMismatch(InvalidInput):
    """A resumable-upload request without `Tus-Resumable: 1.0.0`."""

    code = "tus-version"


class Purged(LianzhengError):
    """The item's blob was purged under a retention rule (evidence/retention.py): its record,
    leaf and hashes stay, its bytes are gone."""

    code = "purged"


class HoldConflict(LianzhengError):
    """A legal hold set on an item already held, or lifted from one that is not."""

    code = "hold-conflict"
