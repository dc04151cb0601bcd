"""A real anvil for the tests that touch the chain (DESIGN.md: integration tests use a real anvil).

`anvil` is one node per test process, in automine mode (a block per
transaction), so tests control time by mining blocks themselves. Tests that
reorganise or stop the chain take a `private_anvil` of their own.
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.errors import ChainUnavailable
from anchor.local import find_anvil
from anchor.worker import Target


@dataclass
class Anvil:
    """One anvil process on a port of its own (the kernel picks it at the first start, so parallel
    tests never race for one); stop and start it again on the same port."""

    port: int = 0
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Anvil:
        with tempfile.TemporaryFile() as output:
            self.process = subprocess.Popen(
                [find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), *self.args],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.process.poll() is None:
                output.seek(0)
                listening = re.search(rb"Listening on 127\.0\.0\.1:(\d+)", output.read())
                if listening:
                    self.port = int(
                        listening[1]
                    )  # our anvil's own word: whatever else answers is not it
                    try:
                        Chain(self.url, timeout=1).latest_number()
                        return self
                    except ChainUnavailable:
                        pass
                time.sleep(0.05)
            output.seek(0)
            raise RuntimeError(
                f"anvil did not start: {output.read()[-2000:].decode(errors='replace')}"
            )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def free_port() -> int:
    """A port nothing listens on just now (for a chain that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    node = Anvil().start()
    yield node
    node.stop()


@pytest.fixture
def private_anvil(tmp_path) -> Iterator[Anvil]:  # type: ignore[no-untyped-def]
    """An anvil of this test's own, its state in tmp_path so it can be stopped and started again."""
    node = Anvil(args=("--state", str(tmp_path / "anvil-state.json"))).start()
    yield node
    node.stop()


@pytest.fixture
def chain(anvil: Anvil) -> Chain:
    return Chain(anvil.url)


@pytest.fixture
def contract(chain: Chain) -> AnchorContract:
    """A freshly deployed EvidenceAnchor owned by anvil's first account."""
    address, _, _ = deploy(chain, development_account(0))
    return AnchorContract(chain, address)


@pytest.fixture
def target(chain: Chain, contract: AnchorContract) -> Target:
    return Target(chain, contract, development_account(0), chain.latest_number() - 1)
