"""Court-page reports kept for an hour, so that the report page can be reloaded, switched to the
other language and downloaded again without uploading the package twice. Only the report is kept
(checks, verdict, the package's SHA-256), never the package; each under an unguessable id that
only the browser that uploaded it holds."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

KEPT_SECONDS = 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def folder(data_dir: Path) -> Path:
    return data_dir / "court-reports"


def keep(data_dir: Path, record: dict[str, Any]) -> str:
    """Store `record` (the report and its facts) and return its id; older reports go first."""
    where = folder(data_dir)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    sweep(where)
    report_id = secrets.token_urlsafe(16)  # 128 bits, 22 characters
    temporary = where / f".{report_id}.tmp"
    temporary.write_text(json.dumps(record, ensure_ascii=False))
    os.replace(temporary, where / f"{report_id}.json")  # whole or not at all
    return report_id


def load(data_dir: Path, report_id: str) -> dict[str, Any] | None:
    """The record kept under `report_id`, or None when it is unknown or older than an hour."""
    if not _ID.match(report_id):
        return None
    path = folder(data_dir) / f"{report_id}.json"
    try:
        if time.time() - path.stat().st_mtime > KEPT_SECONDS:
            return None
        loaded: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return loaded


def sweep(where: Path) -> None:
    """Delete the reports older than an hour."""
    cutoff = time.time() - KEPT_SECONDS
    for path in where.glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another worker swept it first
            pass
