"""Schemathesis against the OpenAPI document on the live service, on SQLite and on PostgreSQL: no
5xx, no answer outside the document, and a refused request changes nothing (no row, no leaf, no
blob)."""

import json
import os
import subprocess
import urllib.request
from contextlib import nullcontext

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from sqlalchemy import create_engine, text

from ledger.models import Base
from tests.conftest import pg_schema
from tests.support.serve import BIN, Server
from verify_portal.web import openapi

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
]
# The anchor worker's own bookkeeping is not a request's doing.
WATCHED = [t for t in Base.metadata.sorted_tables if t.name not in ("anchors", "anchor_worker")]


class Live:
    def __init__(self, server, database_url, data_dir, token):
        self.server, self.data_dir, self.token = server, data_dir, token
        self.engine = create_engine(database_url)
        self.known = None  # the state after the last request

    def state(self):
        """Every row count and the blobs on disk: what a refused request must leave as it was."""
        counts = ", ".join(f"(SELECT count(*) FROM {t.name})" for t in WATCHED)  # one round trip
        with self.engine.connect() as conn:
            row = conn.execute(text(f"SELECT {counts}")).one()
        blobs = sorted(p.name for p in (self.data_dir / "blobs").rglob("*") if p.is_file())
        return dict(zip((t.name for t in WATCHED), row, strict=True)), blobs


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    with _database(request, folder) as database_url:
        env = {
            **os.environ,
            "LIANZHENG_DATA_DIR": str(folder / "var"),
            "DATABASE_URL": database_url,
            "LIANZHENG_ANCHOR_IN_SERVE": "0",
        }
        subprocess.run([BIN, "db", "upgrade"], env=env, check=True, capture_output=True)
        token = subprocess.run(
            [BIN, "user", "add", "admin-1", "--role", "admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        with Server(env) as server:
            live = Live(server, database_url, folder / "var", token)
            yield live
            live.engine.dispose()


def _database(request, folder):
    if request.param == "sqlite":
        return nullcontext(f"sqlite:///{folder / 'lianzheng.db'}")
    return pg_schema(request.getfixturevalue("pg_database"))


# tus PATCH bodies are raw bytes, like the direct upload's.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# The document the service serves (the first test checks that it is this one).
schema = schemathesis.openapi.from_dict(openapi.document())


def test_the_live_service_serves_the_document_the_fuzzing_reads(live):
    with urllib.request.urlopen(f"{live.server.url}/api/v1/openapi.json", timeout=10) as answer:
        assert json.loads(answer.read()) == json.loads(json.dumps(openapi.document()))


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document_and_a_refused_request_changes_nothing(case, live):
    before = live.known if live.known is not None else live.state()  # as the last request left it
    response = case.call(
        base_url=live.server.url, headers={"Authorization": f"Bearer {live.token}"}, timeout=30
    )
    # /readyz answers 503 by design while a dependency is down (here: no chain); it is documented,
    # not an error.
    case.validate_response(response, checks=CHECKS[1:] if case.path == "/readyz" else CHECKS)
    live.known = live.state()
    if response.status_code >= 400:
        assert live.known == before, (
            f"{case.method} {case.path} answered {response.status_code} but changed state"
        )
