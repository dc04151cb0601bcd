"""RFC 3161 time-stamps on anchored checkpoints (DESIGN.md: Formats, Timestamps): beside the anchor
worker, each checkpoint an anchor holds is stamped once by the configured authority, the token
checked against the authority's certificates (those the trust root names) before it is kept."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from sqlalchemy import select

from anchor.models import AnchorRecord
from anchor.records import ON_CHAIN
from ledger import timestamp
from ledger.errors import ConfigurationError, LianzhengError, VerificationError
from ledger.models import CheckpointTimestamp
from verify_portal.app.settings import Settings

if (
    TYPE_CHECKING
):  # the wiring passes the services in: importing it would put this use case above it
    from verify_portal.app.services import Services

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 64 << 10


def authority_pem(settings: Settings) -> str | None:
    """The authority's certificate chain (PEM) for the trust root; None when none is configured."""
    path = settings.witnesses.tsa_certificates
    if settings.witnesses.tsa_url is None:
        return None
    if path is None:
        raise ConfigurationError("LIANZHENG_TSA_URL needs LIANZHENG_TSA_CERTS (its certificates)")
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"LIANZHENG_TSA_CERTS: cannot read {path}: {exc}") from None


def stamp_anchored(services: Services) -> list[int]:
    """Stamp every anchored checkpoint that has no token yet; the sizes stamped now."""
    settings = services.settings
    url, certificates = settings.witnesses.tsa_url, authority_pem(settings)
    if url is None or certificates is None:
        return []
    with services.sessions() as session:
        stamped = select(CheckpointTimestamp.size)
        waiting = session.scalars(
            select(AnchorRecord.size)
            .where(AnchorRecord.status.in_(ON_CHAIN), AnchorRecord.size.not_in(stamped))
            .distinct()
            .order_by(AnchorRecord.size)
        ).all()
    done = []
    for size in waiting:
        try:
            _stamp(services, url, certificates, size)
        except LianzhengError as exc:
            log.warning("time-stamping size %d failed, trying again later: %s", size, exc.message)
            break
        done.append(size)
    return done


def _stamp(services: Services, url: str, certificates: str, size: int) -> None:
    with services.sessions() as session:
        note = services.store.signed_note(session, size).encode()
    query, nonce = timestamp.request(note)
    token = timestamp.token_of_response(
        _post(url, query, services.settings.witnesses.timeout), nonce
    )
    stamped = timestamp.verify(token, note, certificates)
    with services.sessions.begin() as session:
        services.store.add_timestamp(session, size, token, stamped.time)
    log.info("checkpoint %d stamped by %s at %s", size, stamped.authority, stamped.time)


def _post(url: str, query: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(
        url, data=query, method="POST", headers={"Content-Type": "application/timestamp-query"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s)
            data: bytes = answer.read(MAX_ANSWER_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise VerificationError(
            f"the time-stamping authority {url} did not answer: {exc}"
        ) from None
    if len(data) > MAX_ANSWER_BYTES:
        raise VerificationError("the time-stamping authority's answer is over 64 KiB")
    return data


def stamp_until(services: Services, stop: threading.Event, interval: float) -> None:
    """Stamp newly anchored checkpoints every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            stamp_anchored(services)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the stamping
            log.exception("time-stamping failed; trying again")
        stop.wait(interval)
