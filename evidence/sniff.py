"""Media types from the content's first bytes (magic numbers), never from a name or a client's
header. Pure."""

from __future__ import annotations

SNIFF_BYTES = 256  # enough for every signature below (MPEG-TS needs byte 188)

VIDEO = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/x-matroska",
        "video/webm",
        "video/x-msvideo",
        "video/mp2t",
    }
)
AUDIO = frozenset({"audio/wav", "audio/mpeg"})
IMAGE = frozenset({"image/jpeg", "image/png"})
DOCUMENT = frozenset({"application/pdf"})
ALLOWED = VIDEO | AUDIO | IMAGE | DOCUMENT

_QUICKTIME_BRANDS = (b"qt  ",)


def media_type(head: bytes) -> str | None:
    """The media type of a file starting with `head`, or None when it is none we accept."""
    if head[4:8] == b"ftyp":  # ISO base media (ISO/IEC 14496-12): size, 'ftyp', major brand
        return "video/quicktime" if head[8:12] in _QUICKTIME_BRANDS else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML header; the DocType names webm or matroska
        return "video/webm" if b"webm" in head[:SNIFF_BYTES] else "video/x-matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if (
        len(head) > 188 and head[0] == 0x47 and head[188] == 0x47
    ):  # MPEG-TS: sync byte every 188 bytes
        return "video/mp2t"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None
