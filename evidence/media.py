"""Media facts and derived files, through the system's ffprobe and ffmpeg (ffmpeg-python builds the
commands).

`probe` reads what a court and a supervisor need: container, duration,
streams, codecs, resolution, frame rate, and the creation time and device
tags when present. `poster` takes one frame for the portal. `derive` makes a
trimmed or blurred copy; the original is only read.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from evidence.errors import UnsupportedMedia
from evidence.sniff import AUDIO, VIDEO
from ledger.bounds import finite_number
from ledger.errors import InvalidInput

DEVICE_TAGS = (
    "make",
    "model",
    "com.apple.quicktime.make",
    "com.apple.quicktime.model",
    "com.android.manufacturer",
    "com.android.model",
    "encoder",
    "device",
    "serial",
)


def probe(path: Path, media_type: str) -> dict[str, Any]:
    """The media facts of a file whose type was sniffed as `media_type`; other files get their type
    only.

    A file that claims a video or audio type but that ffprobe cannot read is refused.
    """
    if media_type not in VIDEO | AUDIO:
        return {"media_type": media_type}
    try:
        info = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        reason = _last_line(exc.stderr, path) or "unreadable"
        raise UnsupportedMedia(
            f"the file looks like {media_type} but cannot be read as media: {reason}",
            media_type=media_type,
        ) from None
    fmt = info.get("format", {})
    tags = {k.lower(): v for k, v in (fmt.get("tags") or {}).items()}
    return {
        "media_type": media_type,
        "container": fmt.get("format_name"),
        "duration_s": _float(fmt.get("duration")),
        "bit_rate": _int(fmt.get("bit_rate")),
        "creation_time": tags.get("creation_time"),
        "device_tags": {k: tags[k] for k in DEVICE_TAGS if k in tags},
        "streams": [_stream(s) for s in info.get("streams", [])],
    }


def _stream(s: dict[str, Any]) -> dict[str, Any]:
    out = {"type": s.get("codec_type"), "codec": s.get("codec_name")}
    if s.get("codec_type") == "video":
        out |= {
            "width": s.get("width"),
            "height": s.get("height"),
            "frame_rate": _rate(s.get("avg_frame_rate")),
        }
    elif s.get("codec_type") == "audio":
        out |= {"sample_rate": _int(s.get("sample_rate")), "channels": s.get("channels")}
    return out


def _rate(text: str | None) -> float | None:
    try:
        return round(float(Fraction(text)), 3) if text and text != "0/0" else None
    except (ValueError, ZeroDivisionError):
        return None


def _float(text: Any) -> float | None:
    try:
        return round(float(text), 3)
    except (TypeError, ValueError):
        return None


def _int(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def poster(path: Path, out: Path, duration: float | None) -> bool:
    """A JPEG of one frame (1 s in, or the middle of a shorter clip); False if none could be
    taken."""
    at = min(1.0, (duration or 0) / 2)
    try:
        (
            ffmpeg.input(str(path), ss=at)
            .output(str(out), vframes=1, format="image2", vcodec="mjpeg")
            .overwrite_output()
            .run(quiet=True)
        )
    except ffmpeg.Error:
        return False
    return out.exists() and out.stat().st_size > 0


def validate_operation(operation: Any) -> dict[str, Any]:
    """A derivation as recorded in the log: {"op": "trim", "start", "duration"} or {"op": "blur",
    "x", "y", "w", "h"} (a box blurred for the whole clip, e.g. a bystander's face)."""
    if not isinstance(operation, dict) or operation.get("op") not in ("trim", "blur"):
        raise InvalidInput('operation must be {"op": "trim", ...} or {"op": "blur", ...}')
    fields = {"trim": ("start", "duration"), "blur": ("x", "y", "w", "h")}[operation["op"]]
    if set(operation) != {"op", *fields}:
        raise InvalidInput(
            f"a {operation['op']} operation has exactly the fields op, {', '.join(fields)}"
        )
    for name in fields:
        finite_number(operation[name], f"operation field {name}", MAX_OPERATION[name])
    if operation["op"] == "blur" and (operation["w"] < 2 or operation["h"] < 2):
        raise InvalidInput("a blurred box must be at least 2x2 pixels")
    return operation


# Seconds for a trim (a day of footage at most), pixels for a blurred box (beyond any camera's
# frame).
MAX_OPERATION = {
    "start": 86_400.0,
    "duration": 86_400.0,
    "x": 16_384,
    "y": 16_384,
    "w": 16_384,
    "h": 16_384,
}


def derive(source: Path, out: Path, operation: dict[str, Any], has_audio: bool) -> None:
    """Write the derived MP4 of `source` to `out` by `operation`; re-encoded so cuts are
    frame-exact."""
    if operation["op"] == "trim":
        stream = ffmpeg.input(str(source), ss=operation["start"], t=operation["duration"])
        video = stream.video
    else:
        stream = ffmpeg.input(str(source))
        x, y, w, h = (int(operation[k]) for k in ("x", "y", "w", "h"))
        box = stream.video.crop(x, y, w, h).filter("boxblur", 10)
        video = ffmpeg.overlay(stream.video, box, x=x, y=y)
    streams = [video, stream.audio] if has_audio else [video]
    codecs = {"vcodec": "libx264", "pix_fmt": "yuv420p", **({"acodec": "aac"} if has_audio else {})}
    try:
        (
            ffmpeg.output(*streams, str(out), movflags="+faststart", map_metadata="-1", **codecs)
            .overwrite_output()
            .run(quiet=True)
        )
    except ffmpeg.Error as exc:
        raise InvalidInput(
            f"ffmpeg could not derive the clip: {_last_line(exc.stderr, source) or 'failed'}"
        ) from None


def _last_line(stderr: bytes | None, path: Path) -> str:
    """ffmpeg's last complaint, without our file paths (they say nothing to the client)."""
    lines = (stderr or b"").decode(errors="replace").strip().splitlines()
    return lines[-1].replace(str(path), "the file")[:200] if lines else ""
