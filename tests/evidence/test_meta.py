"""Upload metadata: tus Upload-Metadata pairs, parsed strictly."""

from datetime import UTC, datetime, timedelta

import pytest

from evidence.meta import (
    UploadMeta,
    check_not_future,
    encode_upload_metadata,
    parse_upload_metadata,
)
from ledger.errors import InvalidInput


def test_pairs_round_trip_through_the_header():
    pairs = {
        "case_no": "CG-2026-000001",
        "captured_at": "2026-11-22T09:30:00+08:00",
        "gps": "31.2,121.4",
    }
    assert parse_upload_metadata(encode_upload_metadata(pairs)) == pairs


def test_a_complete_description_parses():
    meta = UploadMeta.parse(
        {
            "case_no": "CG-2026-000001",
            "captured_at": "2026-11-22T09:30:00+08:00",
            "device": "DSJ-0042",
            "gps": "31.2,121.4",
            "sha256": "ab" * 32,
            "segment_seq": "3",
            "segment_prev": "cd" * 32,
            "filename": "ignored.mp4",
        }
    )
    assert meta.device == "DSJ-0042" and meta.gps == (31.2, 121.4) and meta.segment_seq == 3
    assert meta.captured_at == datetime(
        2026, 11, 22, 1, 30, tzinfo=UTC
    )  # converted, never re-labelled
    assert meta.captured_text == "2026-11-22T09:30:00+08:00"  # as sent: what a device signs


@pytest.mark.parametrize(
    "pairs, message",
    [
        ({"case_no": "CG-2026-000001"}, "captured_at"),
        ({"case_no": "x", "captured_at": "2026-11-22T09:30:00Z"}, "case number"),
        ({"case_no": "CG-2026-000001", "captured_at": "yesterday"}, "RFC 3339"),
        ({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00"}, "time zone"),
        (
            {"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00Z", "gps": "91,0"},
            "globe",
        ),
        (
            {"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00Z", "sha256": "XYZ"},
            "hex",
        ),
        (
            {
                "case_no": "CG-2026-000001",
                "captured_at": "2026-11-22T09:30:00Z",
                "segment_seq": "-1",
            },
            "whole number",
        ),
        (
            {"case_no": "CG-2026-000001", "captured_at": "9999-12-31T23:59:59-23:59"},
            "RFC 3339 time that can be",
        ),
        ({"case_no": "CG-2026-000001", "captured_at": "0001-01-01T00:00:00Z"}, "before 2000"),
        ({"case_no": "CG-2026-000001", "captured_at": "1999-12-31T23:59:59Z"}, "before 2000"),
    ],
)
def test_bad_metadata_is_refused_naming_the_field(pairs, message):
    with pytest.raises(InvalidInput, match=message):
        UploadMeta.parse(pairs)


def test_a_header_that_is_not_tus_metadata_is_refused():
    with pytest.raises(InvalidInput):
        parse_upload_metadata("case_no not-base64!!")
    with pytest.raises(InvalidInput, match="repeated"):
        parse_upload_metadata("a YQ==,a Yg==")


def test_a_capture_time_after_the_upload_arrived_is_refused_beyond_the_clock_skew():
    meta = UploadMeta.parse(
        {"case_no": "CG-2026-000001", "captured_at": "2099-01-01T00:00:00+08:00"}
    )
    with pytest.raises(InvalidInput, match="later than this upload arrived"):
        check_not_future(meta, datetime(2026, 11, 30, tzinfo=UTC), timedelta(minutes=5))
    near = UploadMeta.parse(
        {"case_no": "CG-2026-000001", "captured_at": "2026-11-30T08:04:00+08:00"}
    )
    check_not_future(
        near, datetime(2026, 11, 30, tzinfo=UTC), timedelta(minutes=5)
    )  # within the skew
