"""A whole deployment for tests that need anchors and exports: production-style settings on the test
anvil, users of every role, a worker to anchor with, an API client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.worker import AnchorWorker, Target
from ledger.users import Role, add_user, by_username
from tests.anchor.support import worker
from tests.support.privacy import personal_data_in_leaves
from verify_portal.app.export import export_case
from verify_portal.app.services import Services, build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app


@dataclass
class Deployment:
    services: Services
    client: FlaskClient
    tokens: dict[str, str]
    env: dict[str, str]
    worker: AnchorWorker
    chain: Chain
    tmp: Path

    def headers(self, role: str = "officer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def anchor(self) -> None:
        """Anchor what is in the log and make it final (anvil finalizes 64 blocks behind the
        latest)."""
        self.worker.cycle()
        self.chain.rpc("anvil_mine", [hex(65)])
        self.worker.cycle()

    def export(self, case_no: str, name: str = "case.zip") -> Path:
        with self.services.sessions() as session:
            supervisor = by_username(session, "supervisor-1")
        path = self.tmp / name
        with open(path, "w+b") as out:
            export_case(self.services, supervisor, case_no, out)
        return path

    def open_case(self, **report: Any) -> str:
        body = {"source": "patrol", "violation_type": "stall", "district": "xuhui", **report}
        answer = self.client.post("/api/v1/cases", json=body, headers=self.headers())
        assert answer.status_code == 201, answer.json
        return answer.json["case_no"]


@contextmanager
def anchored_deployment(
    tmp: Path, database_url: str, chain: Chain, contract: AnchorContract, **settings: str
) -> Iterator[Deployment]:
    env = {
        "LIANZHENG_DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": database_url,
        "LIANZHENG_RPC_URL": chain.url,
        "LIANZHENG_CHAIN_ID": str(chain.chain_id),
        "LIANZHENG_CONTRACT_ADDRESS": contract.address,
        "LIANZHENG_TRUST_STORE": str(tmp / "court-store"),
        **settings,
    }
    services = build(Settings.from_env(env))
    migrate(services.engine)
    with services.sessions.begin() as session:
        tokens = {role.value: add_user(session, f"{role.value}-1", role) for role in Role}
    anchoring = worker(
        services, Target(chain, contract, development_account(0), chain.latest_number() - 1)
    )
    try:
        yield Deployment(
            services,
            create_app(services=services).test_client(),
            tokens,
            env,
            anchoring,
            chain,
            tmp,
        )
        assert personal_data_in_leaves(services.engine) == [], "personal data in the log"
    finally:
        services.engine.dispose()
