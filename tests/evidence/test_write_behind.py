"""Durable files sent to the disk while they are written (evidence/write_behind.py)."""

import os

from evidence import write_behind
from evidence.write_behind import WRITE_BEHIND, WriteBehind


def _record_writeouts(monkeypatch) -> list[tuple[int, int]]:
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(
        write_behind, "start_writeout", lambda fd, offset, length: started.append((offset, length))
    )
    return started


def test_the_write_out_is_started_for_each_range_as_it_is_written_and_sync_keeps_every_byte(
    tmp_path, monkeypatch
):
    started = _record_writeouts(monkeypatch)
    data = os.urandom(2 * WRITE_BEHIND + WRITE_BEHIND // 2)
    with open(tmp_path / "clip", "wb") as f:
        written = WriteBehind(f)
        for at in range(0, len(data), 1 << 20):
            written.write(data[at : at + (1 << 20)])
        written.sync()
    assert (tmp_path / "clip").read_bytes() == data
    assert started == [(0, WRITE_BEHIND), (WRITE_BEHIND, WRITE_BEHIND)]  # the tail: at fsync


def test_a_file_written_on_from_an_offset_starts_its_write_out_there(tmp_path, monkeypatch):
    started = _record_writeouts(monkeypatch)
    (tmp_path / "upload").write_bytes(b"x" * 100)
    with open(tmp_path / "upload", "r+b") as f:
        f.seek(100)
        written = WriteBehind(f, 100)
        written.write(b"y" * WRITE_BEHIND)
        written.sync()
    assert started == [(100, WRITE_BEHIND)]
    assert (tmp_path / "upload").stat().st_size == 100 + WRITE_BEHIND


def test_this_linux_offers_sync_file_range_and_it_accepts_a_file_just_written(tmp_path):
    # Without it every large file would again reach the disk only at its fsync (bench/ingest.py).
    call = write_behind._sync_file_range()
    assert call is not None
    with open(tmp_path / "clip", "wb") as f:
        f.write(b"z" * (1 << 20))
        f.flush()
        assert call(f.fileno(), 0, 1 << 20, write_behind.SYNC_FILE_RANGE_WRITE) == 0
