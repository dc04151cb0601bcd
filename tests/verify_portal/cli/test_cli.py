"""The `lianzheng` command as an operator uses it."""

import json

import pytest
from click.testing import CliRunner

from tests.support.api import OPEN_CASE
from verify_portal.cli import main


@pytest.fixture
def run(tmp_path, database_url):
    env = {"LIANZHENG_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}

    def invoke(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_an_operator_adds_a_user_opens_a_case_steps_it_and_audits(run):
    token = run("user", "add", "officer-1", "--role", "officer")
    assert token.exit_code == 0 and token.output.startswith("lz_")
    party = json.dumps({"name": "王五", "id_type": "passport", "id_number": "E1"})
    created = run(
        *OPEN_CASE,
        "--party",
        party,
    )
    assert created.exit_code == 0, created.output
    case_no = json.loads(created.output)["case_no"]
    assert run("case", "step", "--as", "officer-1", case_no, "filed").exit_code == 0
    shown = json.loads(run("case", "show", "--as", "officer-1", case_no).output)
    assert shown["state"] == "FILED" and len(shown["events"]) == 2
    proof = json.loads(run("log", "inclusion", "1").output)
    assert proof["size"] == 2
    assert run("log", "checkpoint").output.split("\n")[1] == "2"
    audited = run("audit")
    assert audited.exit_code == 0 and "audit clean" in audited.output


def _camera_case(run):
    """A camera's stall case opened by officer-1 from the command line; its number."""
    args = ["--source", "camera", "--violation-type", "stall", "--district", "d"]
    return json.loads(run("case", "create", "--as", "officer-1", *args).output)["case_no"]


def test_an_illegal_step_is_one_clear_line_and_a_non_zero_exit(run):
    run("user", "add", "officer-1", "--role", "officer")
    case_no = _camera_case(run)
    refused = run("case", "step", "--as", "officer-1", case_no, "CLOSED")
    assert refused.exit_code == 1
    assert (
        refused.output.startswith("lianzheng: illegal-transition: case")
        and "only to: FILED" in refused.output
    )
    assert "Traceback" not in refused.output


def test_a_bad_payload_lists_the_fields(run):
    run("user", "add", "officer-1", "--role", "officer")
    case_no = _camera_case(run)
    refused = run("case", "step", "--as", "officer-1", case_no, "FILED", "--payload", '{"x": 1}')
    assert refused.exit_code == 1 and "x: Extra inputs are not permitted" in refused.output


def test_audit_reports_json_and_exits_2_on_findings(run, tmp_path, database_url):
    from sqlalchemy import create_engine, text

    run("user", "add", "o", "--role", "officer")
    run(
        "case",
        "create",
        "--as",
        "o",
        "--source",
        "camera",
        "--violation-type",
        "stall",
        "--district",
        "d",
    )
    report = json.loads(run("audit", "--json").output)
    assert report["clean"] is True and report["size"] == 1
    engine = create_engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER log_checkpoints_no_update"))
        conn.execute(text("UPDATE log_checkpoints SET note = replace(note, 'cg-log', 'cg-lo9')"))
    engine.dispose()
    audited = run("audit", "--json")
    assert audited.exit_code == 2
    assert json.loads(audited.output)["findings"][0]["where"] == "checkpoint at size 1"


def test_an_incremental_audit_starts_where_the_last_clean_one_ended(run):
    run("user", "add", "officer-1", "--role", "officer")
    first = run("audit", "--incremental")
    assert first.exit_code == 1 and "no clean audit is on record" in first.output
    _camera_case(run)
    assert run("audit").exit_code == 0
    for _ in range(3):
        _camera_case(run)
    report = json.loads(run("audit", "--incremental", "--json").output)
    assert report["clean"] and (report["since"], report["size"]) == (1, 4)
    again = run("audit", "--incremental")
    assert again.exit_code == 0 and "incremental: from size 4" in again.output


def test_an_incremental_audit_does_not_start_from_a_clean_run_written_behind_the_services_back(
    run, database_url
):
    from sqlalchemy import create_engine, text

    run("user", "add", "officer-1", "--role", "officer")
    _camera_case(run)
    assert run("audit").exit_code == 0
    for _ in range(3):
        _camera_case(run)
    assert json.loads(run("audit", "--json").output)["clean"]  # at size 4
    engine = create_engine(database_url)
    with engine.begin() as conn:  # a forger who can write the table, not the service's keys
        conn.execute(text("UPDATE audit_runs SET seal = NULL WHERE size = 4"))
        forged = conn.execute(text("SELECT id FROM audit_runs WHERE size = 4")).scalar_one()
    engine.dispose()
    _camera_case(run)
    report = json.loads(run("audit", "--incremental", "--json").output)
    assert report["since"] == 1, "it started from the last run the service sealed"
    assert report["size"] == 5 and not report["clean"]
    assert [f["where"] for f in report["findings"]] == [f"audit run {forged}"]
