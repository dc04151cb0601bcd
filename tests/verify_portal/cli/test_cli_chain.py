"""The chain commands as an operator and a citizen's lawyer use them: local chain, worker,
receipts."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from anchor.account import development_account
from anchor.chain import Chain
from tests.support.api import OPEN_CASE
from verify_portal.cli import main


@pytest.fixture
def env(tmp_path):
    return {
        "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lz.db'}",
    }


@pytest.fixture
def run(env):
    def invoke(*args, **extra_env):
        return CliRunner().invoke(
            main, list(args), env={**env, **extra_env}, catch_exceptions=False
        )

    yield invoke
    invoke("chain", "down")


def _rpc_url(env):
    return json.loads((Path(env["LIANZHENG_DATA_DIR"]) / "chain" / "anvil.json").read_text())[
        "rpc_url"
    ]


def test_an_operator_runs_the_local_chain_anchors_and_a_receipt_verifies_on_chain(
    run, env, tmp_path
):
    up = run("chain", "up")
    assert up.exit_code == 0 and "local chain started" in up.output
    run("user", "add", "officer-1", "--role", "officer")
    run(
        *OPEN_CASE,
    )
    anchored = run("anchor", "run", "--once")
    assert anchored.exit_code == 0, anchored.output
    status = json.loads(run("chain", "status", "--json").output)
    assert status["chain"]["contract_latest"]["size"] == 1
    assert status["recorded"]["size"] == 1 and status["worker"]["healthy"] is True

    audited = run("audit")
    assert audited.exit_code == 0 and "1 anchors compared with the chain" in audited.output

    receipt = tmp_path / "receipt.json"
    receipt.write_text(run("log", "receipt", "0").output)
    root = tmp_path / "root.json"
    assert run("trust", "export", "-o", str(root)).exit_code == 0
    fingerprint = run("trust", "fingerprint").output.strip()
    store = {"LIANZHENG_TRUST_STORE": str(tmp_path / "store")}
    assert run("trust", "add", str(root), "--fingerprint", fingerprint, **store).exit_code == 0
    Chain(_rpc_url(env)).rpc(
        "anvil_mine", [hex(3)]
    )  # final: the local chain finalizes 2 blocks behind
    checked = run("verify-receipt", str(receipt), "--rpc", _rpc_url(env), **store)
    assert checked.exit_code == 0, checked.output
    assert (
        "FAIL" not in checked.output
        and "receipt VERIFIED" in checked.output
        and fingerprint in checked.output
    )

    forged = json.loads(receipt.read_text())
    forged["anchor"]["root"] = "11" * 32
    receipt.write_text(json.dumps(forged))
    checked = run(
        "verify-receipt", str(receipt), "--trust", str(root), "--rpc", _rpc_url(env), "--json"
    )
    assert checked.exit_code == 1
    failed = {c["check"] for c in json.loads(checked.output)["checks"] if c["status"] == "fail"}
    assert failed == {"the anchor names the checkpoint and the root's chain and contract"}


def test_the_chain_down_status_exits_non_zero(run):
    assert run("chain", "up").exit_code == 0
    assert run("chain", "down").output.strip() == "local chain stopped"
    status = run("chain", "status")
    assert status.exit_code == 1 and "lianzheng chain up" in status.output


def test_a_receipt_that_is_not_json_is_one_clear_error(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"[" * 50_000)
    result = run("verify-receipt", str(bad), "--rpc", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "nests deeper" in result.output


def test_production_refuses_anvils_public_development_key(run, anvil, contract):
    result = run(
        "anchor",
        "run",
        "--once",
        LIANZHENG_RPC_URL=anvil.url,
        LIANZHENG_CHAIN_ID="31337",
        LIANZHENG_CONTRACT_ADDRESS=contract.address,
        LIANZHENG_ANCHOR_KEY=development_account(0).key.hex(),
    )
    assert result.exit_code == 1
    assert "public development accounts" in result.output


def test_production_refuses_a_chain_id_other_than_configured(run, anvil, contract):
    result = run(
        "anchor",
        "run",
        "--once",
        LIANZHENG_RPC_URL=anvil.url,
        LIANZHENG_CHAIN_ID="1",
        LIANZHENG_CONTRACT_ADDRESS=contract.address,
        LIANZHENG_ANCHOR_KEY="0x" + "42" * 32,
    )
    assert result.exit_code == 1
    assert "serves chain 31337" in result.output


def test_production_deploys_with_its_own_key_and_anchors_on_the_external_chain(run, anvil):
    fresh = Account.create()
    Chain(anvil.url).rpc("anvil_setBalance", [fresh.address, hex(10**18)])
    production = {"LIANZHENG_RPC_URL": anvil.url, "LIANZHENG_ANCHOR_KEY": fresh.key.hex()}
    deployed = run("chain", "deploy", **production)
    assert deployed.exit_code == 0, deployed.output
    settings = dict(
        line.split("=", 1) for line in deployed.output.splitlines() if not line.startswith("#")
    )
    production.update(settings)
    run("user", "add", "officer-1", "--role", "officer")
    run(
        *OPEN_CASE,
    )
    anchored = run("anchor", "run", "--once", **production)
    assert anchored.exit_code == 0, anchored.output
    status = json.loads(run("anchor", "status", **production).output)
    assert status["recorded"]["size"] == 1


def test_an_audit_that_cannot_reach_the_configured_chain_does_not_pass(run):
    result = run(
        "audit",
        LIANZHENG_RPC_URL="http://127.0.0.1:9",
        LIANZHENG_CHAIN_ID="31337",
        LIANZHENG_CONTRACT_ADDRESS="0x" + "12" * 20,
    )
    assert result.exit_code == 2
    assert "anchors not compared" in result.output and "unreachable" in result.output
