"""The log's side of the witness protocol (DESIGN.md: Witnesses): the latest checkpoint goes to
every configured witness at once, each answer is checked against that witness's key, and the
cosignatures are kept beside the checkpoint. A witness that is down or slow costs its own
request's timeout and nothing else: appends never wait for witnesses.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from ledger.checkpoint import SignedHead, parse_note
from ledger.cosignature import Cosigner, verified_cosigners
from ledger.errors import LianzhengError, VerificationError
from ledger.storage import LogStore
from ledger.witness_protocol import SIZE_CONTENT_TYPE, parse_size_conflict, request_body

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 16 << 10  # a few signature lines


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness this log asks: its name and key (as the trust root lists them) and its URL."""

    name: str
    url: str
    public_key: bytes

    @property
    def cosigner(self) -> Cosigner:
        return Cosigner(self.name, self.public_key)


class WitnessUnavailable(LianzhengError):
    """A witness did not answer, or answered what the protocol does not allow."""

    code = "witness-unavailable"


def post_checkpoint(url: str, body: bytes, timeout: float) -> tuple[int, str, str]:
    """POST an add-checkpoint body: the status, the content type and the text of the answer."""
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s)
            return answer.status, answer.headers.get("Content-Type", ""), _read(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), _read(refused)
    except (OSError, ValueError) as exc:
        raise WitnessUnavailable(f"{url} did not answer: {exc}") from None


class _Readable(Protocol):
    def read(self, amount: int) -> bytes: ...


def _read(answer: _Readable) -> str:
    data = answer.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise WitnessUnavailable(f"the answer is longer than {MAX_ANSWER_BYTES} bytes")
    return data.decode(errors="replace")


class Collector:
    """Gathers cosignatures of the latest checkpoint from every witness, concurrently."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: LogStore,
        witnesses: list[WitnessEndpoint],
        timeout: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.witnesses = witnesses
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(witnesses)), thread_name_prefix="witness"
        )
        with sessions() as session:
            # What each witness holds, as far as we know: the last size it cosigned for us. A
            # witness that holds another size says so (409) and we send again from there.
            self._held = store.cosigned_sizes(session)

    def collect(self) -> dict[str, str]:
        """Ask every witness to cosign the latest checkpoint; what each one did, by name."""
        with self.sessions() as session:
            if self.store.latest_size(session) == 0:
                return {}
            head = self.store.checkpoint(session)
        answers = self._pool.map(lambda w: (w.name, self._ask(w, head)), self.witnesses)
        return dict(answers)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _ask(self, witness: WitnessEndpoint, head: SignedHead) -> str:
        if self._held.get(witness.name) == head.size:
            return f"holds {head.size}"
        try:
            line = self._cosignature(witness, head, self._held.get(witness.name, 0))
        except LianzhengError as exc:
            log.warning("witness %s: %s", witness.name, exc.message)
            return exc.message
        with self.sessions.begin() as session:
            self.store.add_cosignature(session, head.size, witness.name, line)
        self._held[witness.name] = head.size
        return f"cosigned {head.size}"

    def _cosignature(self, witness: WitnessEndpoint, head: SignedHead, old: int) -> str:
        """The witness's checked cosignature line; one retry from the size a 409 names."""
        for _ in range(2):
            status, kind, text = post_checkpoint(witness.url, self._body(head, old), self.timeout)
            if status == 409 and kind.startswith(SIZE_CONTENT_TYPE):
                held = parse_size_conflict(text.encode())
                if held > head.size:
                    raise WitnessUnavailable(
                        f"the witness holds size {held}, beyond this log's {head.size}: "
                        "was the log restored from an old backup?"
                    )
                self._held[witness.name] = old = held
                continue
            if status != 200:
                raise WitnessUnavailable(f"refused with {status}: {text.strip()[:200]}")
            return self._checked(witness, head, text)
        raise WitnessUnavailable("the witness's size kept changing under us")

    def _body(self, head: SignedHead, old: int) -> bytes:
        proof: list[bytes] = []
        if 0 < old < head.size:
            with self.sessions() as session:
                proof = self.store.consistency_proof(session, old, head.size).proof
        return request_body(old, proof, head.note)

    @staticmethod
    def _checked(witness: WitnessEndpoint, head: SignedHead, text: str) -> str:
        """The answer's line by this witness's key, verified over the checkpoint (tlog-witness:
        lines of unknown keys are ignored)."""
        _, body, _ = parse_note(head.note)
        for line in text.splitlines(keepends=True):
            try:
                _, _, signatures = parse_note(body + "\n" + line)
                if verified_cosigners(body, signatures, [witness.cosigner]):
                    return line
            except VerificationError as exc:
                raise WitnessUnavailable(
                    f"its cosignature does not verify: {exc.message}"
                ) from None
        raise WitnessUnavailable("its answer holds no cosignature by its configured key")
