"""This deployment's witnesses (DESIGN.md: Witnesses): read from the LIANZHENG_WITNESSES file, named
in the trust root with their quorum, and asked to cosign by the collector beside the anchor
worker."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import jsontext, trust, witness
from ledger.cosignature import cosigner_key_id
from ledger.errors import ConfigurationError, InvalidInput
from ledger.witness_client import Collector, WitnessEndpoint
from verify_portal.app.anchoring import Supervisor
from verify_portal.app.settings import Settings

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 1 << 20
_NAME = re.compile(r"[^\s+\u2014]{1,255}")


@dataclass(frozen=True)
class Witnessing:
    """The configured witnesses and how many must cosign a checkpoint."""

    endpoints: tuple[WitnessEndpoint, ...]
    quorum: int

    def trust_entries(self) -> list[dict[str, Any]]:
        return [trust.witness_entry(w.name, w.public_key, w.url) for w in self.endpoints]

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.endpoints]


def configured(settings: Settings) -> Witnessing:
    """The witnesses the settings name; none when LIANZHENG_WITNESSES is unset."""
    config = settings.witnesses
    if config.file is None:
        return Witnessing((), 0)
    try:
        data = config.file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"LIANZHENG_WITNESSES: cannot read {config.file}: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigurationError(f"LIANZHENG_WITNESSES: {config.file} is over 1 MiB")
    try:
        entries = jsontext.loads(data, str(config.file))
    except InvalidInput as exc:
        raise ConfigurationError(f"LIANZHENG_WITNESSES: {exc.message}") from None
    if not isinstance(entries, list) or not entries or len(entries) > trust.MAX_WITNESSES:
        raise ConfigurationError(
            f"LIANZHENG_WITNESSES: a list of 1 to {trust.MAX_WITNESSES} witnesses"
        )
    endpoints = tuple(_endpoint(e, i) for i, e in enumerate(entries))
    if len({w.name for w in endpoints}) != len(endpoints):
        raise ConfigurationError("LIANZHENG_WITNESSES names one witness twice")
    quorum = len(endpoints) // 2 + 1 if config.quorum is None else config.quorum
    if not 0 <= quorum <= len(endpoints):
        raise ConfigurationError(
            f"LIANZHENG_WITNESS_QUORUM is {quorum}; it must be 0 to {len(endpoints)}"
        )
    return Witnessing(endpoints, quorum)


def _endpoint(entry: Any, index: int) -> WitnessEndpoint:
    where = f"LIANZHENG_WITNESSES[{index}]"
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: an object with name, url and public_key")
    name, url, key = entry.get("name"), entry.get("url"), entry.get("public_key")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(f"{where}: name is a signed-note key name (no spaces, no '+')")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 500:
        raise ConfigurationError(f"{where}: url must be an http(s) URL")
    try:
        raw = bytes.fromhex(key) if isinstance(key, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigurationError(f"{where}: public_key is the hex of 32 raw Ed25519 bytes")
    key_id = entry.get("key_id")
    if key_id is not None and key_id != cosigner_key_id(name, raw).hex():
        raise ConfigurationError(f"{where}: key_id {key_id!r} is not this key's")
    return WitnessEndpoint(name, url, raw)


def collector(services: Services) -> Collector | None:
    """The cosignature collector of this deployment; None without witnesses."""
    witnessing = configured(services.settings)
    if not witnessing.endpoints:
        return None
    return Collector(
        services.sessions,
        services.store,
        list(witnessing.endpoints),
        services.settings.witnesses.timeout,
    )


def collect_until(collecting: Collector, stop: threading.Event, interval: float) -> None:
    """Ask the witnesses every `interval` seconds until `stop` is set (the anchor worker's
    process runs this beside anchoring)."""
    try:
        while not stop.is_set():
            try:
                collecting.collect()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the collecting
                log.exception("collecting cosignatures failed; trying again")
            stop.wait(interval)
    finally:
        collecting.close()


DEMO_NAME = "demo.lianzheng.example/witness"


@contextmanager
def demo_witness(services: Services, port: int) -> Iterator[None]:
    """For `make run` with LIANZHENG_DEMO_WITNESS=1: one witness on this machine beside the
    service, named in the trust root with a quorum of one, so a newcomer sees a cosigned
    checkpoint within seconds. A witness the agency runs itself proves nothing to a court: in
    production each witness is run by someone else (README: Witnesses)."""
    settings = services.settings
    folder = settings.data_dir / "demo-witness"
    if not (folder / witness.NAME_FILE).exists():
        witness.init(folder, DEMO_NAME)
    opened = witness.Witness.open(folder)
    with services.sessions() as session:
        opened.store.add_log(services.store.origin, services.store.current_key(session))
    opened.store.close()
    output = folder / "serve.log"
    output.write_bytes(b"")
    arguments = ["witness", "serve", "--dir", str(folder), "--port", str(port)]
    keeper = Supervisor("the demo witness", arguments, output)
    keeper.start()
    url = _listening(output, keeper)
    config = settings.data_dir / "demo-witnesses.json"
    entry = {**opened.identity.to_json(), "url": url}
    config.write_text(json.dumps([entry], ensure_ascii=False))
    os.environ["LIANZHENG_WITNESSES"] = str(config)  # the web and anchor processes read it
    os.environ.setdefault("LIANZHENG_WITNESS_QUORUM", "1")
    log.info("demo witness %s at %s (LIANZHENG_DEMO_WITNESS=1)", DEMO_NAME, url)
    try:
        yield
    finally:
        keeper.stop()


def _listening(output: Path, keeper: Supervisor, wait: float = 30.0) -> str:
    """The URL the witness says it listens on (port 0: the one the kernel picked)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+)", output.read_text(errors="replace"))
        if found:
            return found[1]
        time.sleep(0.1)
    keeper.stop()
    raise ConfigurationError(f"the demo witness did not start; see {output}")
