"""Upload metadata: tus Upload-Metadata pairs, parsed strictly."""

import pytest

from evidence.meta import UploadMeta, encode_upload_metadata, parse_upload_metadata
from ledger.errors import InvalidInput


def test_pairs_round_trip_through_the_header():
    pairs = {"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00+08:00", "gps": "31.2,121.4"}
    assert parse_upload_metadata(encode_upload_metadata(pairs)) == pairs


def test_a_complete_description_parses():
    meta = UploadMeta.parse({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00+08:00",
                             "device": "DSJ-0042", "gps": "31.2,121.4", "sha256": "ab" * 32,
                             "segment_seq": "3", "segment_prev": "cd" * 32, "filename": "ignored.mp4"})
    assert meta.device == "DSJ-0042" and meta.gps == (31.2, 121.4) and meta.segment_seq == 3
    assert meta.captured_at.utcoffset().total_seconds() == 8 * 3600


@pytest.mark.parametrize("pairs, message", [
    ({"case_no": "CG-2026-000001"}, "captured_at"),
    ({"case_no": "x", "captured_at": "2026-11-22T09:30:00Z"}, "case number"),
    ({"case_no": "CG-2026-000001", "captured_at": "yesterday"}, "RFC 3339"),
    ({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00"}, "time zone"),
    ({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00Z", "gps": "91,0"}, "globe"),
    ({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00Z", "sha256": "XYZ"}, "hex"),
    ({"case_no": "CG-2026-000001", "captured_at": "2026-11-22T09:30:00Z", "segment_seq": "-1"}, "whole number"),
])
def test_bad_metadata_is_refused_naming_the_field(pairs, message):
    with pytest.raises(InvalidInput, match=message):
        UploadMeta.parse(pairs)


def test_a_header_that_is_not_tus_metadata_is_refused():
    with pytest.raises(InvalidInput):
        parse_upload_metadata("case_no not-base64!!")
    with pytest.raises(InvalidInput, match="repeated"):
        parse_upload_metadata("a YQ==,a Yg==")
