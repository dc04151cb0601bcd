"""A real anvil for the tests that touch the chain (DESIGN.md: integration tests use a real anvil).

`anvil` is one node per test process, in automine mode (a block per
transaction), so tests control time by mining blocks themselves. Tests that
reorganise or stop the chain take a `private_anvil` of their own.
"""

from __future__ import annotations

import socket
import subprocess
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
    """One anvil process on a port of its own; stop and start it again on the same port."""

    port: int
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Anvil:
        self.process = subprocess.Popen([find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), *self.args],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                Chain(self.url, timeout=1).latest_number()
                return self
            except ChainUnavailable:
                time.sleep(0.05)
        raise RuntimeError("anvil did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    node = Anvil(free_port()).start()
    yield node
    node.stop()


@pytest.fixture
def private_anvil(tmp_path) -> Iterator[Anvil]:  # type: ignore[no-untyped-def]
    """An anvil of this test's own, its state in tmp_path so it can be stopped and started again."""
    node = Anvil(free_port(), ("--state", str(tmp_path / "anvil-state.json"))).start()
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
