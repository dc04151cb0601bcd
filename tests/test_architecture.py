"""The pure core does no I/O, and the court's command loads none of the service.

Each check runs in a fresh interpreter: in this one, earlier tests have loaded everything.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.support.packages import build
from tests.support.trust import Deployment

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("ledger", "evidence", "anchor", "verify_portal")
IO_LIBRARIES = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "flask",
    "gunicorn",
    "web3",
    "eth_account",
    "requests",
    "reportlab",
)

# The rules the design calls pure (DESIGN.md: Layout): Merkle, events, lifecycle, checkpoints, trust
# decisions, policies, sniffing, metadata, package contents and their verification.
REQUIRED_PURE = {
    "ledger.merkle",
    "ledger.events",
    "ledger.lifecycle",
    "ledger.checkpoint",
    "ledger.cosignature",
    "ledger.trust",
    "ledger.verdict",
    "anchor.policy",
    "evidence.sniff",
    "evidence.meta",
    "evidence.contents",
    "evidence.verify",
}


def _claims_purity(path: Path) -> bool:
    return re.search(r"\bPure\b", ast.get_docstring(ast.parse(path.read_text())) or "") is not None


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


PURE = sorted(
    REQUIRED_PURE
    | {
        _module_name(p)
        for domain in DOMAINS
        for p in (ROOT / domain).rglob("*.py")
        if "migrations" not in p.parts and _claims_purity(p)
    }
)


def _loaded_after(code: str, libraries: tuple[str, ...] = IO_LIBRARIES) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        f"print(__import__('json').dumps(sorted(m for m in {libraries!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_every_module_the_design_calls_pure_says_so_in_its_docstring():
    unsaid = [
        m for m in sorted(REQUIRED_PURE) if not _claims_purity(ROOT / (m.replace(".", "/") + ".py"))
    ]
    assert unsaid == []


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_database_web_or_chain_library(module):
    assert _loaded_after(f"import {module}") == []


APP_MODULES = sorted(
    _module_name(p)
    for p in (ROOT / "verify_portal" / "app").rglob("*.py")
    if "migrations" not in p.parts
)


def test_the_service_layer_loads_neither_the_web_framework_nor_the_command_line():
    imports = "\n".join(f"import {module}" for module in APP_MODULES)
    assert _loaded_after(imports, ("flask", "werkzeug", "click", "gunicorn")) == []


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("app", ("verify_portal.web", "verify_portal.cli")),
        ("web", ("verify_portal.cli",)),
    ],
)
def test_a_layer_of_the_service_never_imports_the_fronts_above_it(layer, forbidden):
    offending = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "verify_portal" / layer).rglob("*.py")
        for name in _imported_modules(path)
        if name.startswith(forbidden)
    )
    assert offending == []


def test_the_court_command_verifies_a_package_without_loading_the_service(tmp_path):
    agency = Deployment()
    package = build(agency, tmp_path / "case.zip").path
    root_file = tmp_path / "root.json"
    root_file.write_text(json.dumps(agency.document()))
    command = ["verify", str(package), "--trust", str(root_file)]
    code = (
        f"from verify_portal.cli import main\ntry:\n    main({command!r})\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
    )
    assert _loaded_after(code) == []


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["user", "add", "admin-1", "--role", "admin"], ["trust", "fingerprint"]],
)
def test_the_commands_that_run_no_chain_and_no_package_start_without_web3_or_reportlab(
    command, tmp_path
):
    env = f"import os\nos.environ['LIANZHENG_DATA_DIR'] = {str(tmp_path / 'var')!r}\n"
    env += f"os.environ['DATABASE_URL'] = 'sqlite:///{tmp_path / 'lianzheng.db'}'\n"
    code = (
        f"{env}from verify_portal.cli import main\ntry:\n    main({command!r})\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
    )
    # Each loads in about a second: an operator's every command would wait for it.
    assert _loaded_after(code, ("web3", "eth_account", "reportlab", "gunicorn")) == []


def test_every_command_is_found_under_its_name():
    from verify_portal.cli import COMMANDS, main

    context = click.Context(main)
    assert {name: main.get_command(context, name).name for name in COMMANDS} == {
        n: n for n in COMMANDS
    }
