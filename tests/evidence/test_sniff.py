"""Media types come from the bytes: names and client headers are never asked."""

import pytest

from evidence.sniff import media_type


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"\x47" + bytes(187) + b"\x47" + bytes(10), "video/mp2t"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"ID3\x04\x00", "audio/mpeg"),
    ],
)
def test_known_signatures_are_recognised(head, expected):
    assert media_type(head) == expected


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"#!/bin/sh\n", b"<html>", b"PK\x03\x04", b""])
def test_anything_else_is_not_media(head):
    assert media_type(head) is None
