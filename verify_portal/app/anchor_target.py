"""Connecting to the chain this deployment anchors on: the anchor worker's target and, for
`serve` on the embedded default, the local chain with an anchor worker beside it.

The embedded default starts the local anvil under `<data>/chain` and deploys
the contract on first start; production connects to the configured RPC
endpoint and checks the chain id, the contract and the anchor account first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eth_account.signers.local import LocalAccount

from anchor import account
from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.errors import ChainError
from anchor.worker import Target
from ledger.errors import ConfigurationError
from verify_portal.app.anchoring import Supervisor, local_chain
from verify_portal.app.settings import Settings

log = logging.getLogger(__name__)


def connect(settings: Settings) -> tuple[Target, Callable[[], object] | None]:
    """The anchoring target, and how to stop the local chain if this call started it."""
    if settings.chain.embedded:
        local = local_chain(settings)
        running, started = local.up()
        chain = Chain(running.rpc_url)
        deployment = local.ensure_contract(chain)
        target = Target(
            chain,
            AnchorContract(chain, deployment.contract),
            account.development_account(),
            deployment.block_number,
            produce_block=lambda: local.produce_block(chain),
        )
        return target, (local.down if started else None)
    return _production_target(settings), None


def _production_target(settings: Settings) -> Target:
    if not (settings.chain.chain_id and settings.chain.contract_address):
        raise ConfigurationError(
            "LIANZHENG_RPC_URL needs LIANZHENG_CHAIN_ID and LIANZHENG_CONTRACT_ADDRESS "
            "(deploy the contract with `lianzheng chain deploy`)"
        )
    chain = Chain(settings.chain.rpc_url or "")
    if chain.chain_id != settings.chain.chain_id:
        raise ConfigurationError(
            f"LIANZHENG_RPC_URL serves chain {chain.chain_id}, "
            f"LIANZHENG_CHAIN_ID says {settings.chain.chain_id}"
        )
    signer = account.production_account(anchor_account(settings))
    address = settings.chain.contract_address or ""
    if not chain.code_at(address):
        raise ConfigurationError(f"no contract at {address} on chain {chain.chain_id}")
    contract = AnchorContract(chain, address)
    if not contract.is_anchorer(signer.address):
        raise ConfigurationError(
            f"{signer.address} may not anchor on {address}: the owner must call addAnchorer for it"
        )
    return Target(chain, contract, signer, settings.chain.contract_block)


def anchor_account(settings: Settings) -> LocalAccount:
    """The production anchor key, from a keystore file or LIANZHENG_ANCHOR_KEY."""
    if settings.chain.anchor_keystore is not None:
        return account.from_keystore(
            settings.chain.anchor_keystore, settings.chain.anchor_keystore_password
        )
    if settings.chain.anchor_key:
        return account.from_key(settings.chain.anchor_key)
    raise ConfigurationError(
        "anchoring on LIANZHENG_RPC_URL needs LIANZHENG_ANCHOR_KEYSTORE (with "
        "LIANZHENG_ANCHOR_KEYSTORE_PASSWORD) or LIANZHENG_ANCHOR_KEY"
    )


@contextmanager
def serving_chain(settings: Settings) -> Iterator[None]:
    """For `serve` on the embedded default: the local chain up and an anchor worker process beside
    it.

    A chain that does not start is reported, not fatal: the log takes events
    without it, and the worker keeps trying while the chain is down. A worker
    that dies is started again.
    """
    if not (settings.chain.embedded and settings.chain.anchor_in_serve):
        yield
        return
    local, started = local_chain(settings), False
    try:
        running, started = local.up(ends_with_us=True)
        local.ensure_contract(Chain(running.rpc_url))
    except (ChainError, ConfigurationError) as exc:
        log.error(
            "the local chain did not start; events are still logged and anchored later: %s",
            exc.message,
        )
    supervisor = Supervisor("the anchor worker", ["anchor", "run"])
    supervisor.start()
    owner = os.getpid()
    try:
        yield
    finally:
        # gunicorn's workers are forks of this process and leave through this same stack when they
        # exit:
        # only the process that started the chain and the worker may stop them.
        if os.getpid() == owner:
            supervisor.stop()
            if started:
                log.info("stopping the local chain")
                local.down()
