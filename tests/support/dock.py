"""Simulated recorders in a docking station's watch folder, and what the server says of them."""

import hashlib
import json
from pathlib import Path

import requests

from evidence.dock import Dock
from evidence.tus_client import TusClient


def add_recorder(watch: Path, name: str, serial: str, files: dict[str, bytes]) -> Path:
    """A recorder folder as it mounts: DEVICE.TXT with its serial, recordings below DCIM/."""
    folder = watch / name
    (folder / "DCIM").mkdir(parents=True)
    (folder / "DEVICE.TXT").write_text(serial + "\n")
    for relative, data in files.items():
        (folder / "DCIM" / relative).write_bytes(data)
    return folder


def unique_photo(photo: bytes, tag: str) -> bytes:
    """A JPEG with bytes after its end marker: a distinct file that still sniffs as a photo."""
    return photo + hashlib.sha256(tag.encode()).digest() * 4


def left_on(folder: Path) -> list[str]:
    """The recordings still on a recorder (its identity file and signatures aside)."""
    return sorted(
        p.name
        for p in (folder / "DCIM").rglob("*")
        if p.is_file() and not p.name.endswith(".sig.json")
    )


def staged_files(staging: Path) -> list[Path]:
    """Copies left in the station's staging folder."""
    root = staging / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def station(url: str, token: str, base: Path, lines: list[str], retries: int = 2) -> Dock:
    """A docking station at `base` (watch/, staging/, reports/) talking to `url`."""
    client = TusClient(url, token, retries)
    (base / "watch").mkdir(parents=True, exist_ok=True)
    return Dock(client, base / "watch", base / "staging", base / "reports", lines.append)


def confirmed_records(reports: Path) -> list[dict]:
    """Every recording the station's reports say was confirmed and wiped."""
    found = []
    for path in sorted(reports.glob("ingest-*.json")):
        for recorder in json.loads(path.read_bytes())["recorders"].values():
            found.extend(recorder["confirmed"])
    return found


def server_record(url: str, token: str, evidence_id: str) -> dict:
    answer = requests.get(
        f"{url}/api/v1/intake/{evidence_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()
