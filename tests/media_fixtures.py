"""Real media files made with the system's ffmpeg, once per test run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

CREATION_TIME = "2026-11-20T08:00:00.000000Z"


def make_video(path: Path, seconds: int = 3, size: str = "320x240", audio: bool = True) -> Path:
    """testsrc video (H.264) with a sine tone (AAC) and a creation_time tag."""
    command = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=duration={seconds}:size={size}:rate=25",
    ]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    command += [
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-metadata",
        f"creation_time={CREATION_TIME}",
        "-metadata",
        "model=DSJ-A9",
        "-movflags",
        "use_metadata_tags",
        "-shortest",
        str(path),
    ]
    subprocess.run(command, check=True)
    return path


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("media")
    make_video(folder / "bodycam.mp4")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48",
            "-frames:v",
            "1",
            str(folder / "photo.jpg"),
        ],
        check=True,
    )
    video = (folder / "bodycam.mp4").read_bytes()
    (folder / "corrupt.mp4").write_bytes(
        video[:48] + bytes(range(256)) * 64
    )  # an ftyp header, then garbage
    (folder / "notice.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    )
    (folder / "program.exe").write_bytes(b"MZ\x90\x00" + bytes(500))
    return folder
