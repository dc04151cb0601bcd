"""`lianzheng retention run` and `lianzheng evidence hold` / `lift-hold` as an operator and the
legal role use them."""

import json

import pytest
from click.testing import CliRunner

from evidence.meta import UploadMeta
from ledger.events import utc_now
from ledger.users import by_username
from tests.support.api import NOW
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import Settings
from verify_portal.cli import main

ELEVEN_YEARS_AGO = "2015-06-01T09:00:00.000000Z"


@pytest.fixture
def env(tmp_path, database_url):
    return {"LIANZHENG_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}


def _run(env, *args):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def withdrawn_item(env, media_dir):
    """The id of a photo of a case withdrawn eleven years ago."""
    for user, role in (("officer-1", "officer"), ("legal-1", "legal"), ("system-1", "system")):
        assert _run(env, "user", "add", user, "--role", role).exit_code == 0
    services = build(Settings.from_env(env))
    migrate(services.engine)
    services.cases.clock = lambda: ELEVEN_YEARS_AGO
    with services.sessions() as session:
        officer = by_username(session, "officer-1")
    case_no = services.cases.create(
        officer, {"source": "patrol", "violation_type": "stall", "district": "xuhui"}
    )["case_no"]
    meta = UploadMeta.parse({"case_no": case_no, "captured_at": NOW})
    photo = (media_dir / "photo.jpg").read_bytes()
    item = services.evidence.ingest(officer, meta, [photo], len(photo))["evidence"]
    services.cases.transition(officer, case_no, "FILED", {})
    services.cases.transition(officer, case_no, "WITHDRAWN", {"reason": "duplicate"})
    services.cases.clock = utc_now
    services.engine.dispose()
    return item["evidence_id"]


def test_the_legal_role_holds_an_item_and_the_run_purges_it_only_once_the_hold_is_lifted(
    env, withdrawn_item
):
    held = _run(
        env, "evidence", "hold", "--as", "legal-1", withdrawn_item, "--reason", "litigation"
    )
    assert held.exit_code == 0, held.output
    dry = _run(env, "retention", "run", "--as", "system-1", "--dry-run")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["purged"] == []
    lifted = _run(
        env,
        "evidence",
        "lift-hold",
        "--as",
        "legal-1",
        withdrawn_item,
        "--reason",
        "proceedings-ended",
    )
    assert lifted.exit_code == 0, lifted.output
    planned = json.loads(_run(env, "retention", "run", "--as", "system-1", "--dry-run").stdout)
    assert [p["evidence_id"] for p in planned["purged"]] == [withdrawn_item]
    done = _run(env, "retention", "run", "--as", "system-1")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["rule"] == "case-ended-plus-10y" and report["blobs_deleted"] == 1
    assert "purged 1 item(s) under case-ended-plus-10y" in done.stderr
    audited = _run(env, "audit")
    assert audited.exit_code == 0 and "audit clean" in audited.output


def test_a_purge_by_another_role_or_ahead_of_time_is_refused_with_a_message(env, withdrawn_item):
    officer = _run(env, "retention", "run", "--as", "officer-1")
    assert officer.exit_code == 1 and "may not purge evidence" in officer.stderr
    early = _run(env, "retention", "run", "--as", "system-1", "--as-of", "2040-01-01")
    assert early.exit_code == 1 and "--dry-run only" in early.stderr
    refused = _run(
        env, "evidence", "hold", "--as", "system-1", withdrawn_item, "--reason", "litigation"
    )
    assert refused.exit_code == 1 and "may not" in refused.stderr
