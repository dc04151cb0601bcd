"""The offline verifier ships alone: importing it pulls in no database, web or chain library."""

import subprocess
import sys


def test_the_verifier_imports_no_database_web_or_chain_code():
    probe = (
        "import sys, evidence.verify; "
        "print(sorted(m for m in ('sqlalchemy', 'flask', 'web3', 'psycopg', 'alembic', 'gunicorn', "
        "'verify_portal', 'anchor') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
