"""`lianzheng backup` and `lianzheng restore`: a deployment copied into an empty one passes the
audit."""

import json
import shutil
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from evidence.meta import UploadMeta
from ledger.users import by_username
from tests.conftest import pg_schema
from tests.support.api import OPEN_CASE
from verify_portal.app.services import build
from verify_portal.app.settings import Settings
from verify_portal.cli import main


def _cli(env):
    def invoke(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def source(tmp_path, database_url, media_dir):
    """A live deployment: cases with a party, a photo as evidence, an anchor on its running embedded
    chain."""
    env = {"LIANZHENG_DATA_DIR": str(tmp_path / "source"), "DATABASE_URL": database_url}
    run = _cli(env)
    run("user", "add", "officer-1", "--role", "officer", "--district", "xuhui")
    run("user", "add", "legal-1", "--role", "legal")
    party = json.dumps({"name": "王五", "id_type": "passport", "id_number": "E1234567"})
    case_no = json.loads(
        run(
            *OPEN_CASE,
            "--party",
            party,
        ).output
    )["case_no"]
    run("case", "step", "--as", "officer-1", case_no, "FILED")
    services = build_services(env)
    with services.sessions() as session:
        officer = by_username(session, "officer-1")
    photo = (media_dir / "photo.jpg").read_bytes()
    services.evidence.ingest(officer, UploadMeta(case_no, datetime.now(UTC)), [photo], len(photo))
    services.engine.dispose()
    assert run("chain", "up").exit_code == 0
    assert run("anchor", "run", "--once").exit_code == 0
    run(
        "case", "step", "--as", "officer-1", case_no, "INVESTIGATING"
    )  # after the anchor: not anchored yet
    yield env, case_no
    run("chain", "down")


def build_services(env):
    return build(Settings.from_env(env))


@pytest.fixture
def other_database(request, tmp_path, database_url):
    """An empty database on the other backend: backups cross from SQLite to PostgreSQL and back."""
    if database_url.startswith("sqlite"):
        with pg_schema(request.getfixturevalue("pg_database")) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'restored.db'}"


def test_a_backup_restored_into_an_empty_deployment_passes_the_audit_and_anchors_on(
    source, other_database, tmp_path
):
    env, case_no = source
    assert _cli(env)("backup", str(tmp_path / "backup")).exit_code == 0
    target = {
        "LIANZHENG_DATA_DIR": str(tmp_path / "restored"),
        "DATABASE_URL": other_database,
        "LIANZHENG_ANCHOR_INTERVAL": "0",
    }
    run = _cli(target)
    restored = run("restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    try:
        audit = run("audit")
        assert audit.exit_code == 0, audit.output
        assert "log size 4" in audit.output and "1 anchors compared" in audit.output
        assert "1 evidence blobs verified" in audit.output
        case = json.loads(run("case", "show", "--as", "legal-1", case_no).output)
        assert (
            case["state"] == "INVESTIGATING" and case["party"]["data"]["name"] == "王五"
        )  # party secret restored
        run("case", "step", "--as", "officer-1", case_no, "NOTIFIED")
        assert (
            run("anchor", "run", "--once").exit_code == 0
        )  # the restored chain takes the next anchor
        audit = run("audit")
        assert (
            audit.exit_code == 0
            and "log size 5" in audit.output
            and "2 anchors compared" in audit.output
        )
    finally:
        run("chain", "down")


def test_a_backup_whose_blob_was_changed_is_refused_and_the_target_stays_empty(source, tmp_path):
    env, _ = source
    _cli(env)("backup", str(tmp_path / "backup"))
    blob = next(p for p in (tmp_path / "backup" / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x00")
    target = {
        "LIANZHENG_DATA_DIR": str(tmp_path / "restored"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}",
    }
    refused = _cli(target)("restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1
    assert (
        f"backup-refused: blobs/sha256/{blob.name[:2]}/{blob.name[2:4]}/{blob.name} was changed"
        in refused.output
    )
    assert not (tmp_path / "restored").exists() and not (tmp_path / "restored.db").exists()


def test_a_file_slipped_into_a_backup_is_refused(source, tmp_path):
    env, _ = source
    _cli(env)("backup", str(tmp_path / "backup"))
    (tmp_path / "backup" / "db" / "extra.jsonl").write_text("{}\n")
    refused = _cli({"LIANZHENG_DATA_DIR": str(tmp_path / "restored")})(
        "restore", str(tmp_path / "backup")
    )
    assert refused.exit_code == 1 and "files not in the manifest: db/extra.jsonl" in refused.output


def test_a_restore_into_a_deployment_with_data_is_refused_and_changes_nothing(
    source, tmp_path, database_url
):
    env, case_no = source
    _cli(env)("backup", str(tmp_path / "backup"))
    _cli(env)("chain", "down")
    shutil.rmtree(tmp_path / "source" / "chain")  # even without its chain, the deployment has data
    before = _counts(database_url)
    refused = _cli(env)("restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1
    assert "differs from the backup" not in refused.output  # the keys are the same ones ...
    assert "the database already holds" in refused.output  # ... but the database is not empty
    assert _counts(database_url) == before


def _counts(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("log_leaves", "cases")
        }
    engine.dispose()
    return counts


def test_a_backup_never_overwrites_a_folder(source, tmp_path):
    env, _ = source
    (tmp_path / "backup").mkdir()
    refused = _cli(env)("backup", str(tmp_path / "backup"))
    assert refused.exit_code == 1 and "exists already" in refused.output
    assert list((tmp_path / "backup").iterdir()) == []


def test_the_restored_database_has_every_table_the_schema_has(source, tmp_path):
    env, _ = source
    _cli(env)("backup", str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    engine = create_engine(env["DATABASE_URL"])
    assert set(manifest["tables"]) == set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()


def test_a_restore_interrupted_before_the_database_can_be_run_again(source, tmp_path, monkeypatch):
    from verify_portal.app import backup

    env, _ = source
    _cli(env)("backup", str(tmp_path / "backup"))
    target = {
        "LIANZHENG_DATA_DIR": str(tmp_path / "restored"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}",
    }
    with (
        monkeypatch.context() as patched
    ):  # keys, blobs and chain are written, then the process dies
        patched.setattr(backup, "_load_tables", lambda *a: (_ for _ in ()).throw(SystemExit(137)))
        with pytest.raises(SystemExit):
            backup.restore(Settings.from_env(target), tmp_path / "backup")
    assert (tmp_path / "restored" / "chain" / "state.json").exists()
    again = _cli(target)("restore", str(tmp_path / "backup"))
    assert again.exit_code == 0, again.output
    audit = _cli(target)("audit")
    assert audit.exit_code == 0, audit.output
    _cli(target)("chain", "down")


def test_rotated_keys_are_backed_up_and_the_restored_deployment_signs_with_the_current_one(
    source, tmp_path
):
    env, case_no = source
    run = _cli(env)
    assert run("keys", "rotate", "checkpoint").exit_code == 0
    run("case", "step", "--as", "officer-1", case_no, "NOTIFIED")  # signed by the rotated key
    assert run("backup", str(tmp_path / "backup")).exit_code == 0
    assert len(list((tmp_path / "backup" / "keys").glob("checkpoint-ed25519.*.pem"))) == 1
    target = {
        "LIANZHENG_DATA_DIR": str(tmp_path / "restored"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
    }
    restored = _cli(target)
    assert restored("restore", str(tmp_path / "backup")).exit_code == 0
    try:
        assert restored("audit").exit_code == 0
        stepped = restored(
            "case",
            "step",
            "--as",
            "officer-1",
            case_no,
            "DECIDED",
            "--payload",
            json.dumps({"outcome": "no_penalty"}),
        )
        assert stepped.exit_code == 0, stepped.output
        assert restored("trust", "fingerprint").output == run("trust", "fingerprint").output
    finally:
        restored("chain", "down")
