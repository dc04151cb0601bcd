"""The pure core does no I/O, and the court's command loads none of the service.

Each check runs in a fresh interpreter: in this one, earlier tests have loaded everything.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("ledger", "evidence", "anchor", "verify_portal")
IO_LIBRARIES = ("sqlalchemy", "alembic", "psycopg", "flask", "gunicorn", "web3", "eth_account", "requests")

# The rules the design calls pure (DESIGN.md: Layout): Merkle, events, lifecycle, checkpoints, trust
# decisions, policies, sniffing, metadata, package contents and their verification.
REQUIRED_PURE = {
    "ledger.merkle", "ledger.events", "ledger.lifecycle", "ledger.checkpoint", "ledger.cosignature",
    "ledger.trust", "ledger.verdict", "anchor.policy", "evidence.sniff", "evidence.meta",
    "evidence.contents", "evidence.verify",
}


def _claims_purity(path: Path) -> bool:
    return re.search(r"\bPure\b", ast.get_docstring(ast.parse(path.read_text())) or "") is not None


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


PURE = sorted(REQUIRED_PURE | {_module_name(p) for domain in DOMAINS for p in (ROOT / domain).rglob("*.py")
                               if "migrations" not in p.parts and _claims_purity(p)})


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(__import__('json').dumps(sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_every_module_the_design_calls_pure_says_so_in_its_docstring():
    unsaid = [m for m in sorted(REQUIRED_PURE) if not _claims_purity(ROOT / (m.replace(".", "/") + ".py"))]
    assert unsaid == []


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_database_web_or_chain_library(module):
    assert _loaded_after(f"import {module}") == []
