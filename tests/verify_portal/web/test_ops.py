"""Operations endpoints: liveness, readiness with each dependency named, Prometheus metrics."""

import dataclasses

from anchor.account import development_account
from anchor.worker import Target
from tests.anchor.support import append, worker
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app


def test_healthz_answers_while_the_process_runs(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_names_what_is_not_ready(client):
    r = client.get("/readyz")  # the embedded chain is not running in this test
    assert r.status_code == 503
    assert r.json["checks"]["database"] == "ok" and r.json["checks"]["blob_store"] == "ok"
    assert r.json["checks"]["chain"] == "the local chain is not running"


def _deployment(tmp_path, chain, contract, **settings):
    base = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(tmp_path / "data"),
            "LIANZHENG_RPC_URL": chain.url,
            "LIANZHENG_CHAIN_ID": "31337",
            "LIANZHENG_CONTRACT_ADDRESS": contract.address,
        }
    )
    services = build(dataclasses.replace(base, **settings))
    migrate(services.engine)
    return services, create_app(services=services).test_client()


def test_readyz_is_ready_when_everything_is_anchored_and_not_when_anchoring_lags(
    tmp_path, chain, contract
):
    services, client = _deployment(tmp_path, chain, contract)
    append(services, 3)
    worker(services, Target(chain, contract, development_account(0), 0)).cycle()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["anchor_lag"]["waiting_leaves"] == 0
    append(services, 2)  # not anchored yet, and the limit is zero
    services.settings = dataclasses.replace(
        services.settings, chain=dataclasses.replace(services.settings.chain, anchor_lag_limit=0.0)
    )
    lagging = client.get("/readyz")
    assert lagging.status_code == 503 and "behind" in lagging.json["checks"]["anchor_lag"]
    assert lagging.json["anchor_lag"]["waiting_leaves"] == 2


def test_metrics_are_prometheus_text_with_the_logs_figures(tmp_path, chain, contract):
    services, client = _deployment(tmp_path, chain, contract)
    append(services, 4)
    worker(services, Target(chain, contract, development_account(0), 0)).cycle()
    body = client.get("/metrics").get_data(as_text=True)
    figures = dict(line.split(" ", 1) for line in body.splitlines() if not line.startswith("#"))
    assert figures["lianzheng_log_size"] == "4" and figures["lianzheng_anchored_size"] == "4"
    assert figures["lianzheng_anchors"] == "1" and figures["lianzheng_audit_clean"] == "-1"
    assert "# TYPE lianzheng_anchor_lag_seconds gauge" in body
