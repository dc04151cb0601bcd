"""The embedded chain: anvil under the data directory, its state and contract kept across
restarts."""

import os
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from anchor import local as local_module
from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.errors import ChainError
from anchor.local import LocalChain
from tests.anchor import trees
from tests.anchor.support import transact


@pytest.fixture
def local(tmp_path):
    chain = LocalChain(tmp_path / "chain")
    yield chain
    chain.down()


def test_up_starts_anvil_once_and_the_contract_is_deployed_once(local):
    running, started = local.up()
    assert started
    assert local.up() == (running, False)
    deployment = local.ensure_contract(Chain(running.rpc_url))
    assert local.ensure_contract(Chain(running.rpc_url)) == deployment
    assert Chain(running.rpc_url).code_at(deployment.contract)


def test_a_port_taken_between_picking_it_and_anvil_binding_it_is_given_up_for_another(
    local, monkeypatch
):
    with socket.socket() as taken, socket.socket() as spare:
        taken.bind(("127.0.0.1", 0))
        taken.listen()  # another process's server, answering on the port we are about to pick
        spare.bind(("127.0.0.1", 0))
        picks = iter([taken.getsockname()[1], spare.getsockname()[1]])
        spare_port = spare.getsockname()[1]
        spare.close()
        monkeypatch.setattr(local_module, "_free_port", lambda: next(picks))
        running, started = local.up()
    assert started and running.rpc_url == f"http://127.0.0.1:{spare_port}"
    assert Chain(running.rpc_url).chain_id == local_module.CHAIN_ID
    assert "Address already in use" in (local.dir / "anvil.log").read_text()


def test_anchors_survive_a_restart_of_the_local_chain(local):
    running, _ = local.up()
    deployment = local.ensure_contract(Chain(running.rpc_url))
    tree = trees.leaves(8)
    receipt = transact(
        AnchorContract(Chain(running.rpc_url), deployment.contract),
        "anchor",
        8,
        trees.root(tree, 8),
        [],
    )
    assert local.down()
    assert local.running() is None

    running, started = local.up()
    assert started
    chain = Chain(running.rpc_url)
    assert local.ensure_contract(chain) == deployment
    assert AnchorContract(chain, deployment.contract).root_at(8) == trees.root(tree, 8)
    assert chain.block(receipt["blockNumber"]).hash == bytes(receipt["blockHash"])


def test_a_running_chain_too_busy_to_answer_is_waited_for_not_started_twice(local):
    running, _ = local.up()
    os.kill(running.pid, signal.SIGSTOP)  # busier than any timeout: it answers nothing
    resumed = threading.Timer(3.0, os.kill, (running.pid, signal.SIGCONT))
    try:
        assert local.running() == running  # a process that runs is running, answering or not
        resumed.start()
        assert local.up() == (running, False)  # waited for, never doubled on the same state
    finally:
        resumed.cancel()
        os.kill(running.pid, signal.SIGCONT)


def test_callers_starting_the_chain_at_once_start_one(local):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: local.up(), range(3)))
    assert len({running for running, _ in results}) == 1
    assert sum(started for _, started in results) == 1


def test_a_lost_chain_state_is_reported_not_silently_replaced(local):
    running, _ = local.up()
    local.ensure_contract(Chain(running.rpc_url))
    local.down()
    local.state_file.unlink()
    running, _ = local.up()
    with pytest.raises(ChainError, match="state .* was lost"):
        local.ensure_contract(Chain(running.rpc_url))


def test_the_local_chain_mines_only_on_demand(local):
    running, _ = local.up()
    chain = Chain(running.rpc_url)
    before = chain.latest_number()
    for _ in range(3):
        local.produce_block(chain, blocks=1)
    assert chain.latest_number() == before + 3
    assert (
        chain.finalized_number() == chain.latest_number() - 2
    )  # one slot per epoch: two blocks behind
    local.produce_block(chain)
    assert chain.finalized_number() == before + 3, "the last anchor's block is final at once"
