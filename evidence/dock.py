"""The docking station agent (采集站, `lianzheng dock`): ingest every recorder put into the station,
many at once, and wipe a recording only after the log holds exactly its bytes.

For each recording, in order: copy it to the staging folder while hashing (a file that changes
meanwhile is kept), upload it resumably (tus), ask the server what the log registered, and only
when hash, size, device and leaf agree read the recording once more and delete it from the
recorder. A station killed, a server gone or a recorder pulled out at any step leaves the
recording on its recorder; the journal (evidence/dock_files.py) lets the next run resume the
upload where the server stands. A shift ends with a report file listing what came off which
recorder, whose hash the server logs as one event.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence import dock_files
from evidence.dock_files import Entry, Journal, RecorderError, Recording, ShiftLog, Staged
from evidence.tus_client import TusClient, Unreachable, UploadFailed

REPORT_FORMAT = "lianzheng-ingest/1"
CERTIFIED = "certified"


class Kept(Exception):
    """A recording stays on its recorder, for the reason given."""


@dataclass
class Tally:
    """One recorder's progress, for the terminal."""

    serial: str
    officer: str
    files: int
    size: int
    done: int = 0
    kept: int = 0
    copied: int = 0
    sent: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False

    def line(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-3)
        rate = (self.copied + self.sent) / 2 / seconds / (1 << 20)
        state = "done" if self.finished else "ingesting"
        return (
            f"{self.serial} ({self.officer}): {state}, {self.done}/{self.files} files confirmed, "
            f"{self.kept} kept; copied {self.copied / (1 << 20):,.1f} MiB, sent "
            f"{self.sent / (1 << 20):,.1f} of {self.size / (1 << 20):,.1f} MiB, {rate:,.1f} MiB/s"
        )


class Progress:
    """Per-recorder progress, printed every `every` seconds while anything is being ingested."""

    def __init__(self, say: Callable[[str], None], every: float = 2.0) -> None:
        self.say = say
        self.every = every
        self.lock = threading.Lock()
        self.tallies: dict[str, Tally] = {}

    def start(self, tally: Tally) -> None:
        with self.lock:
            self.tallies[tally.serial] = tally
        self.say(tally.line())

    def add(self, serial: str, what: str, count: int) -> None:
        with self.lock:
            tally = self.tallies[serial]
            setattr(tally, what, getattr(tally, what) + count)

    def finish(self, serial: str) -> None:
        with self.lock:
            self.tallies[serial].finished = True
            line = self.tallies[serial].line()
        self.say(line)

    def tick(self) -> None:
        with self.lock:
            lines = [t.line() for t in self.tallies.values() if not t.finished]
        for line in lines:
            self.say(line)


class Dock:
    """One station: its watch folder, staging folder and report folder, and the server."""

    def __init__(
        self,
        client: TusClient,
        watch: Path,
        staging: Path,
        reports: Path,
        say: Callable[[str], None],
        parallel: int = 8,
    ) -> None:
        self.client = client
        self.watch = watch
        self.staging = staging
        self.reports = reports
        self.say = say
        self.parallel = parallel
        self.journal = Journal(staging)
        self.shift = ShiftLog(staging)
        self.progress = Progress(say)
        reports.mkdir(parents=True, exist_ok=True)

    # --- a shift -------------------------------------------------------------------------

    def run_once(self) -> dict[str, int]:
        """Ingest every recorder in the watch folder, many at once; then write and log the shift's
        report. The report's summary."""
        recorders = sorted(p for p in self.watch.iterdir() if p.is_dir())
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(stop,), daemon=True)
        ticker.start()
        try:
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                futures = [pool.submit(self.recorder, r) for r in recorders]
                for future in futures:
                    future.result()
        finally:
            stop.set()
            ticker.join()
        return self.end_shift()

    def watch_forever(self, stop: threading.Event, poll: float = 2.0) -> None:
        """Ingest each recorder once as it is put in (again only after it was taken out, or when
        its pass stopped for the server); end a shift each time the station falls idle."""
        busy: dict[Path, Future[bool]] = {}
        finished: set[Path] = set()
        done_any = False
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            while not stop.is_set():
                for folder, future in list(busy.items()):
                    if future.done():
                        del busy[folder]
                        done_any = True
                        if future.result():
                            finished.add(folder)
                present = sorted(p for p in self.watch.iterdir() if p.is_dir())
                finished &= set(present)  # a recorder taken out is ingested when it comes back
                for folder in present:
                    if folder not in busy and folder not in finished:
                        busy[folder] = pool.submit(self.recorder, folder)
                if not busy and done_any:
                    self.end_shift()
                    done_any = False
                self.progress.tick()
                stop.wait(poll)

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(self.progress.every):
            self.progress.tick()

    # --- one recorder ----------------------------------------------------------------------

    def recorder(self, folder: Path) -> bool:
        """Ingest one recorder's recordings in order; a refused recorder is reported, not read.
        False when the pass stopped early (server unreachable, recorder pulled out)."""
        try:
            serial = dock_files.serial_of(folder)
            officer = self._identity(serial)
            found = dock_files.recordings(folder)
        except (RecorderError, Kept) as exc:
            self._note({"outcome": "refused", "recorder": folder.name, "reason": str(exc)})
            self.say(f"{folder.name}: refused: {exc}")
            return True
        except Unreachable as exc:
            self.say(f"{folder.name}: waiting for the server: {exc.message}")
            return False
        self.progress.start(Tally(serial, officer, len(found), sum(r.size for r in found)))
        try:
            return all(self._one(serial, officer, recording) for recording in found)
        finally:
            self.progress.finish(serial)

    def _identity(self, serial: str) -> str:
        """The officer the recorder is issued to; Kept (the recorder refused) otherwise."""
        status, body = self.client.get_json(f"/api/v1/devices/{serial}")
        if status == 404:
            raise Kept(f"recorder {serial} is not in the device registry")
        if status != 200 or not isinstance(body, dict):
            raise Kept(f"the server would not say who carries recorder {serial} ({status})")
        if body.get("status") != CERTIFIED or body.get("kind") != "bodycam":
            raise Kept(f"recorder {serial} is a {body.get('status')} {body.get('kind')}")
        if not body.get("issued_to"):
            raise Kept(f"recorder {serial} is issued to nobody")
        return str(body["issued_to"])

    def _one(self, serial: str, officer: str, recording: Recording) -> bool:
        """Ingest one recording; False when the recorder's pass must stop (server or recorder
        gone)."""
        staged: Staged | None = None
        try:
            staged = self._stage(serial, recording)
            entry = self._entry(serial, recording, staged)
            if entry.evidence_id is None:
                self._upload(entry, recording, staged)
            self._confirm(entry)
            self._wipe(entry, recording)
        except Kept as exc:
            self._kept(serial, officer, recording, str(exc))
        except UploadFailed as exc:
            if isinstance(exc, Unreachable):
                self._kept(serial, officer, recording, "the server could not be reached")
                return False
            self._kept(serial, officer, recording, exc.message)
        except (FileNotFoundError, RecorderError):
            self._kept(serial, officer, recording, "the recorder was pulled out")
            return False
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)
        return True

    def _stage(self, serial: str, recording: Recording) -> Staged:
        staged = dock_files.stage(
            recording,
            self.staging / "files" / serial,
            lambda n: self.progress.add(serial, "copied", n),
        )
        if staged is None:
            raise Kept("the file changed while it was copied")
        return staged

    def _entry(self, serial: str, recording: Recording, staged: Staged) -> Entry:
        """The journal's entry, or a new one; an entry of other bytes is abandoned."""
        entry = self.journal.get(serial, recording)
        if entry is not None and entry.sha256 == staged.sha256:
            return entry
        entry = Entry(
            serial,
            recording.relative,
            recording.size,
            recording.mtime_ns,
            staged.sha256,
            staged.sm3,
        )
        self.journal.put(entry)
        return entry

    def _upload(self, entry: Entry, recording: Recording, staged: Staged) -> None:
        """Send the staged copy, resuming the journal's upload where the server stands."""
        status = None if entry.url is None else self.client.status(entry.url)
        if status is not None and status[1] is not None:
            entry.evidence_id = status[1]
        else:
            if status is None:
                entry.url = self.client.create(staged.size, self._metadata(entry, recording))
                self.journal.put(entry)
                offset = 0
            else:
                offset = status[0]
            assert entry.url is not None
            self.progress.add(entry.serial, "sent", offset)
            sent = self.client.send(
                entry.url,
                staged.path,
                offset,
                staged.size,
                lambda n: self.progress.add(entry.serial, "sent", n),
                checksums=False,  # the metadata names the whole file's SHA-256: checked at the end
            )
            entry.evidence_id, entry.leaf_index = sent.evidence_id, sent.leaf_index
        self.journal.put(entry)

    def _metadata(self, entry: Entry, recording: Recording) -> dict[str, str]:
        try:
            signed = recording.sidecar()
        except ValueError as exc:
            raise Kept(f"its signature file is unreadable: {exc}") from None
        return {
            "intake": "1",
            "device": entry.serial,
            "captured_at": recording.captured_at(),
            "sha256": entry.sha256,
            "sm3": entry.sm3,
            "filename": recording.path.name,
            **signed,
        }

    def _confirm(self, entry: Entry) -> None:
        """Kept unless the log registered exactly these bytes from this recorder."""
        status, body = self.client.get_json(f"/api/v1/intake/{entry.evidence_id}")
        if status != 200 or not isinstance(body, dict):
            raise Kept(f"the server did not confirm evidence {entry.evidence_id} ({status})")
        expected = {
            "sha256": entry.sha256,
            "sm3": entry.sm3,
            "size": entry.size,
            "device": entry.serial,
        }
        found = {k: body.get(k) for k in expected}
        if found != expected or (
            entry.leaf_index not in (None, -1) and body.get("leaf_index") != entry.leaf_index
        ):
            raise Kept(f"the server's record of {entry.evidence_id} differs from the file sent")
        entry.leaf_index = int(body["leaf_index"])

    def _wipe(self, entry: Entry, recording: Recording) -> None:
        """Delete the recording from the recorder, once it is shown to be the bytes confirmed."""
        if not recording.unchanged() or not dock_files.same_bytes(recording.path, entry.sha256):
            raise Kept(f"the file changed after it was copied; {entry.evidence_id} holds the copy")
        dock_files.wipe(recording)
        self.journal.drop(entry)
        self._note(
            {
                "outcome": "confirmed",
                "serial": entry.serial,
                "path": entry.relative,
                "sha256": entry.sha256,
                "sm3": entry.sm3,
                "size": entry.size,
                "evidence_id": entry.evidence_id,
                "leaf_index": entry.leaf_index,
            }
        )
        self.progress.add(entry.serial, "done", 1)

    def _kept(self, serial: str, officer: str, recording: Recording, reason: str) -> None:
        self._note(
            {"outcome": "kept", "serial": serial, "path": recording.relative, "reason": reason}
        )
        self.progress.add(serial, "kept", 1)
        self.say(f"{serial}: kept {recording.relative}: {reason}")

    def _note(self, record: dict[str, Any]) -> None:
        self.shift.add({**record, "time": _now()})

    # --- the shift's report ----------------------------------------------------------------

    def end_shift(self) -> dict[str, int]:
        """Write the shift's report file, log its hash, and start a new shift; the counts."""
        records = list(self.shift.records())
        report = _report(records, self.client.base)
        # Two shifts may end within a second: the random part keeps the first report.
        stamp = report["ended_at"].replace(":", "").replace("-", "")
        name = f"ingest-{stamp}-{secrets.token_hex(4)}.json"
        dock_files.write_durably(self.reports / name, report)
        self.shift.clear()
        self.say(f"report {self.reports / name}: {json.dumps(report['summary'])}")
        self.log_reports()
        return {**report["summary"], "refused": len(report["refused"])}

    def log_reports(self) -> None:
        """Log every report not yet logged (the server may have been down at the shift's end)."""
        for path in sorted(self.reports.glob("ingest-*.json")):
            marker = path.with_suffix(".logged")
            if marker.exists():
                continue
            data = path.read_bytes()
            report = json.loads(data)
            body = {
                "report_sha256": hashlib.sha256(data).hexdigest(),
                "started_at": report["started_at"],
                "ended_at": report["ended_at"],
                **report["summary"],
            }
            try:
                logged = self.client.post_json("/api/v1/intake/reports", body, 201)
            except Unreachable:
                self.say(f"report {path.name} waits for the server to log it")
                return
            dock_files.write_durably(marker, {"leaf_index": logged["index"]})
            self.say(f"report {path.name} logged at leaf {logged['index']}")


def _report(records: list[dict[str, Any]], server: str) -> dict[str, Any]:
    """The shift's report: per recorder, what was confirmed and wiped and what was kept."""
    now = _now()
    recorders: dict[str, dict[str, list[dict[str, Any]]]] = {}
    refused = [r for r in records if r["outcome"] == "refused"]
    for record in records:
        if record["outcome"] == "refused":
            continue
        mine = recorders.setdefault(record["serial"], {"confirmed": [], "kept": []})
        mine[record["outcome"]].append(
            {k: v for k, v in record.items() if k not in ("outcome", "serial")}
        )
    confirmed = [r for r in records if r["outcome"] == "confirmed"]
    summary = {
        "recorders": len(recorders),
        "files": len(confirmed),
        "bytes": sum(r["size"] for r in confirmed),
        "kept": sum(1 for r in records if r["outcome"] == "kept"),
    }
    return {
        "format": REPORT_FORMAT,
        "server": server,
        "started_at": min((r["time"] for r in records), default=now),
        "ended_at": now,
        "summary": summary,
        "recorders": recorders,
        "refused": refused,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
