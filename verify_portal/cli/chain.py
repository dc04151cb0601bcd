"""The chain commands of `lianzheng`: the local chain, the anchor worker, receipts."""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any

import click

from anchor import records
from anchor.account import production_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.errors import ChainError, ChainUnavailable
from ledger import processes
from ledger.errors import ConfigurationError
from verify_portal.app import anchor_target, anchored, anchoring, timestamping, witnessing
from verify_portal.app.services import Services, build, migrate
from verify_portal.app.settings import Settings
from verify_portal.cli.common import print_json
from verify_portal.web import logs

log = logging.getLogger(__name__)
MAX_RECEIPT_BYTES = 16 << 20  # a receipt holds one event and a few dozen hashes


def _embedded(settings: Settings) -> None:
    if not settings.chain.embedded:
        raise ConfigurationError(
            "LIANZHENG_RPC_URL is set: this deployment uses an external chain, not the local one"
        )


@click.group()
def chain() -> None:
    """The chain anchors go to; `up` and `down` manage the embedded anvil."""


@chain.command("up")
def chain_up() -> None:
    """Start the local anvil (state under <data>/chain) and deploy the contract on first start."""
    settings = Settings.from_env()
    _embedded(settings)
    local = anchoring.local_chain(settings)
    running, started = local.up()
    deployment = local.ensure_contract(Chain(running.rpc_url))
    click.echo(
        f"local chain {'started' if started else 'already running'}: anvil pid {running.pid} at "
        f"{running.rpc_url}, chain {deployment.chain_id}, contract {deployment.contract}"
    )


@chain.command("down")
def chain_down() -> None:
    """Stop the local anvil; its state is saved and reloaded by the next `up`."""
    settings = Settings.from_env()
    _embedded(settings)
    stopped = anchoring.local_chain(settings).down()
    click.echo("local chain stopped" if stopped else "local chain was not running")


@chain.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def chain_status(as_json: bool) -> None:
    """The chain, the contract's latest anchor, the recorded anchors and the worker. Exit 1 if the
    chain is down."""
    settings = Settings.from_env()
    status: dict[str, Any] = {"mode": "embedded" if settings.chain.embedded else "external"}
    rpc_url = settings.chain.rpc_url
    if settings.chain.embedded:
        running = anchoring.local_chain(settings).running()
        status["anvil"] = (
            None if running is None else {"pid": running.pid, "rpc_url": running.rpc_url}
        )
        rpc_url = None if running is None else running.rpc_url
    ident = anchoring.identity(settings)
    status["contract"] = None if ident is None else ident.contract
    status["chain"] = _chain_facts(rpc_url, ident)
    status.update(_recorded(build(settings), ident))
    if as_json:
        print_json(status)
    else:
        for key, value in status.items():
            click.echo(f"{key:>10}: {json.dumps(value, ensure_ascii=False)}")
    sys.exit(0 if status["chain"].get("reachable") else 1)


def _chain_facts(rpc_url: str | None, ident: anchoring.Identity | None) -> dict[str, Any]:
    if rpc_url is None:
        return {"reachable": False, "error": "the local chain is not running: lianzheng chain up"}
    chain = Chain(rpc_url, timeout=5)
    try:
        facts: dict[str, Any] = {
            "reachable": True,
            "chain_id": chain.chain_id,
            "latest_block": chain.latest_number(),
            "finalized_block": chain.finalized_number(),
        }
        if ident is not None:
            size, root = AnchorContract(chain, ident.contract).latest()
            facts["contract_latest"] = {"size": size, "root": root.hex()}
    except ChainUnavailable as exc:
        return {"reachable": False, "error": exc.message}
    return facts


def _recorded(services: Services, ident: anchoring.Identity | None) -> dict[str, Any]:
    migrate(services.engine)
    with services.sessions() as session:
        newest = (
            []
            if ident is None
            else records.anchors(session, ident.chain_id, ident.contract, limit=1)
        )
        worker = records.worker_status(session)
    return {
        "recorded": records.to_json(newest[0]) if newest else None,
        "worker": None
        if worker is None
        else {
            "worker": worker.worker,
            "checked_at": worker.checked_at.isoformat(),
            "healthy": bool(worker.healthy),
            "chain_down_since": worker.chain_down_since and worker.chain_down_since.isoformat(),
            "last_error": worker.last_error,
        },
    }


@chain.command("deploy")
def chain_deploy() -> None:
    """Deploy EvidenceAnchor on LIANZHENG_RPC_URL with the anchor key; prints the settings to
    add."""
    settings = Settings.from_env()
    if settings.chain.embedded:
        raise ConfigurationError(
            "set LIANZHENG_RPC_URL to deploy on an external chain (`chain up` deploys locally)"
        )
    signer = production_account(anchor_target.anchor_account(settings))
    target = Chain(settings.chain.rpc_url or "")
    address, block, tx_hash = deploy(target, signer)
    click.echo(
        f"LIANZHENG_CHAIN_ID={target.chain_id}\nLIANZHENG_CONTRACT_ADDRESS={address}\n"
        f"LIANZHENG_CONTRACT_BLOCK={block}\n# deployed by {signer.address} in transaction "
        f"0x{tx_hash.hex()}"
    )


@click.group()
def anchor() -> None:
    """The anchor worker."""


@anchor.command("run")
@click.option(
    "--once", is_flag=True, help="One cycle (settle open anchors, anchor if due), then exit."
)
def anchor_run(once: bool) -> None:
    """Anchor the log's checkpoints until stopped (SIGTERM or Ctrl-C); retries while the chain is
    down."""
    logs.configure()
    if processes.parent_is_gone():
        raise click.ClickException(
            "the server that started this anchor worker is gone; not anchoring beside "
            "its successor's worker"
        )
    services = build(Settings.from_env())
    migrate(services.engine)
    stop = processes.stop_on_signals()
    collecting = witnessing.collector(services)
    interval = services.settings.witnesses.interval
    if once:
        if collecting is not None:
            log.info("witnesses: %s", collecting.collect())
    else:
        if collecting is not None:
            cosigning = (collecting, stop, interval)
            threading.Thread(target=witnessing.collect_until, args=cosigning, daemon=True).start()
        if services.settings.witnesses.tsa_url:
            stamping = (services, stop, interval)
            threading.Thread(target=timestamping.stamp_until, args=stamping, daemon=True).start()
    target, stop_chain = _connect_with_retries(services.settings, stop)
    if target is None:
        return
    try:
        worker = anchored.worker(services, target)
        if once:
            worker.run_once()
            timestamping.stamp_anchored(services)
        else:
            log.info(
                "anchoring on chain %d, contract %s, as %s",
                target.chain.chain_id,
                target.contract.address,
                target.account.address,
            )
            worker.run(stop)
            log.info("anchor worker stopped")
    finally:
        if stop_chain is not None:
            stop_chain()


def _connect_with_retries(settings: Settings, stop: threading.Event):
    delay = 1.0
    while not stop.is_set():
        try:
            return anchor_target.connect(settings)
        except ChainUnavailable as exc:
            log.warning("chain unreachable, retrying in %.0f s: %s", delay, exc.message)
        except ChainError as exc:
            log.error("cannot anchor yet, retrying in %.0f s: %s", delay, exc.message)
        stop.wait(delay)
        delay = min(delay * 2, 60.0)
    return None, None


@anchor.command("status")
def anchor_status() -> None:
    """The worker's last report and the newest recorded anchor."""
    settings = Settings.from_env()
    print_json(_recorded(build(settings), anchoring.identity(settings)))
