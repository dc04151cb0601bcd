"""A real, anchored, exported case package, built once per test process (tests of packages and of
the README)."""

from datetime import UTC, datetime, timedelta

import pytest

from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.worker import Target
from ledger.events import format_time
from ledger.users import Role, add_user, authenticate
from tests.anchor.support import worker
from tests.support.api import upload_evidence
from tests.support.intake import intake_upload, issued_bodycam
from verify_portal.app.export import export_case
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.web import create_app


def _dock_and_link(client, tokens, case_no, media_dir):
    """A photo from the officer's bodycam, ingested at a docking station, linked to the case."""
    issued_bodycam(client, tokens[Role.ADMIN], "DSJ-PKG", officer="officer-1")
    photo = (media_dir / "photo.jpg").read_bytes() + b"docked"
    # captured after the issue event (capture times are whole seconds)
    captured = format_time(datetime.now(UTC) + timedelta(seconds=2))
    docked = intake_upload(client, tokens[Role.SYSTEM], "DSJ-PKG", photo, captured_at=captured)
    assert docked.status_code == 201, docked.json
    evidence_id = docked.json["evidence"]["evidence_id"]
    linked = client.post(
        f"/api/v1/intake/{evidence_id}/link",
        json={"case_no": case_no},
        headers={"Authorization": f"Bearer {tokens[Role.OFFICER]}"},
    )
    assert linked.status_code == 201, linked.json


@pytest.fixture(scope="session")
def exported(tmp_path_factory, anvil, media_dir):
    """A case with a video, a trimmed clip, a photo and a docked photo linked to it, anchored on
    anvil and exported by a supervisor."""
    chain = Chain(anvil.url)
    contract = AnchorContract(chain, deploy(chain, development_account(0))[0])
    tmp = tmp_path_factory.mktemp("package")
    settings = Settings.from_env(
        {
            "LIANZHENG_DATA_DIR": str(tmp / "data"),
            "LIANZHENG_RPC_URL": anvil.url,
            "LIANZHENG_CHAIN_ID": "31337",
            "LIANZHENG_CONTRACT_ADDRESS": contract.address,
        }
    )
    services = build(settings)
    migrate(services.engine)
    client = create_app(services=services).test_client()
    with services.sessions.begin() as session:
        tokens = {
            r: add_user(session, f"{r.value}-1", r)
            for r in (Role.OFFICER, Role.SUPERVISOR, Role.COURT, Role.ADMIN, Role.SYSTEM)
        }
    auth = {"Authorization": f"Bearer {tokens[Role.OFFICER]}"}
    case_no = client.post(
        "/api/v1/cases",
        json={"source": "patrol", "violation_type": "stall", "district": "xuhui"},
        headers=auth,
    ).json["case_no"]
    assert (
        client.post(
            f"/api/v1/cases/{case_no}/transitions", json={"to": "FILED"}, headers=auth
        ).status_code
        == 201
    )
    video = upload_evidence(
        client, tokens[Role.OFFICER], case_no, (media_dir / "bodycam.mp4").read_bytes()
    ).json
    upload_evidence(client, tokens[Role.OFFICER], case_no, (media_dir / "photo.jpg").read_bytes())
    clip = client.post(
        f"/api/v1/evidence/{video['evidence']['evidence_id']}/derivations",
        json={"operation": {"op": "trim", "start": 0, "duration": 1}},
        headers=auth,
    )
    assert clip.status_code == 201
    _dock_and_link(client, tokens, case_no, media_dir)
    target = Target(chain, contract, development_account(0), 0)
    anchoring = worker(services, target)
    anchoring.cycle()
    chain.rpc("anvil_mine", [hex(65)])  # final: anvil finalizes 64 blocks behind the latest
    supervisor = authenticate(services.engine, tokens[Role.SUPERVISOR])
    path = tmp / "case.zip"
    with open(path, "w+b") as out:
        summary = export_case(services, supervisor, case_no, out)
    return {
        "path": path,
        "summary": summary,
        "services": services,
        "chain": chain,
        "case_no": case_no,
        "client": client,
        "tokens": tokens,
        "tmp": tmp,
        "worker": anchoring,
    }
