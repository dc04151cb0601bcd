"""docker-compose.yml and the image describe the production stack (no Docker engine here to run
them)."""

from pathlib import Path

import yaml

from verify_portal.cli.keys import SECRET_FILES

ROOT = Path(__file__).resolve().parents[1]


def test_the_stack_has_database_chain_web_and_worker_with_health_checks_and_named_volumes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "chain", "migrate", "web", "anchor-worker"} <= set(services)
    for name in ("db", "chain", "web", "anchor-worker"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) == {"pgdata", "chaindata", "data", "blobs"}
    assert "--state" in services["chain"]["entrypoint"]  # the chain's state persists
    assert services["anchor-worker"]["command"] == ["lianzheng", "anchor", "run"]
    daily = " ".join(services["retention"]["command"])  # the daily retention run
    assert "lianzheng retention run --as" in daily and "sleep 86400" in daily
    assert "blobs:/var/lib/lianzheng/blobs" in services["retention"]["volumes"]
    for name in ("db", "web", "anchor-worker", "retention"):  # bench/load.py's crash phase: by hand
        assert services[name]["restart"] == "unless-stopped", name
    assert services["web"]["environment"]["LIANZHENG_ANCHOR_IN_SERVE"] == "0"
    for name in ("web", "anchor-worker", "retention"):
        assert services[name]["env_file"] == ".env"  # never the owner's credentials
    assert (
        services["migrate"]["env_file"] == [".env", ".env.owner"]
        and services["db"]["env_file"] == ".env.owner"
    )


def test_every_secret_file_and_variable_the_stack_names_is_documented():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    example = (ROOT / ".env.example").read_text()
    for variable in (
        "DATABASE_URL",
        "LIANZHENG_CONTRACT_ADDRESS",
        "LIANZHENG_ANCHOR_KEYSTORE_PASSWORD",
        "LIANZHENG_RETENTION_USER",
        "LIANZHENG_RETENTION_YEARS",
    ):
        assert f"{variable}=" in example
    owner = (ROOT / ".env.owner.example").read_text()
    assert "POSTGRES_PASSWORD=" in owner and "LIANZHENG_MIGRATION_DATABASE_URL=" in owner
    assert "POSTGRES_PASSWORD" not in example
    assert {Path(s["file"]).name for s in compose["secrets"].values()} == set(SECRET_FILES)
    for name in ("web", "anchor-worker", "retention"):  # each signs checkpoints: SM2 beside Ed25519
        service = compose["services"][name]
        assert {"checkpoint_sm2_key", "package_sm2_key"} <= set(service["secrets"])
        assert "LIANZHENG_CHECKPOINT_SM2_KEY" in service["environment"]


def test_the_image_runs_gunicorn_with_the_shared_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        'CMD ["gunicorn", "-c", "gunicorn.conf.py", "verify_portal.web:create_app()"]' in dockerfile
    )
    assert "pip install --no-cache-dir -e ." in dockerfile and "USER lianzheng" in dockerfile


def test_installing_the_npm_packages_leaves_the_lock_file_as_committed(tmp_path):
    import subprocess

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    changed = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True
    ).stdout
    assert changed == ""
    assert "npm ci" in (ROOT / "Makefile").read_text()
    assert "git status --porcelain" in (ROOT / ".ci" / "run").read_text()
