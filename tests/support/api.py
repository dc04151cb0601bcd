"""Requests the API and page tests make again and again, through Flask's test client."""

import re
from datetime import UTC, datetime

from sqlalchemy import text

from evidence.meta import encode_upload_metadata
from tests.conftest import bearer

REPORT = {"source": "patrol", "violation_type": "occupy-road", "district": "xuhui"}
# `lianzheng case create` as officer-1, for a patrol's stall case in xuhui
OPEN_CASE = [
    "case",
    "create",
    "--as",
    "officer-1",
    "--source",
    "patrol",
    "--violation-type",
    "stall",
    "--district",
    "xuhui",
]
PARTY = {"name": "李四", "id_type": "resident_id", "id_number": "110101198001010010"}
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
STAFF_PASSWORD = "correct horse battery"


def log_size(client):
    """The latest checkpoint's size, 0 for an empty log."""
    r = client.get("/api/v1/log/checkpoint")
    return 0 if r.status_code == 404 else int(r.data.decode().split("\n")[1])


def open_case(client, token, **extra):
    """A new case's number (REPORT, with `extra` fields)."""
    r = client.post("/api/v1/cases", json={**REPORT, **extra}, headers=bearer(token))
    assert r.status_code == 201, r.json
    return r.json["case_no"]


def upload_metadata(case_no, **extra):
    """The Upload-Metadata header of a file of `case_no` captured NOW."""
    return encode_upload_metadata({"case_no": case_no, "captured_at": NOW, **extra})


def upload_evidence(client, token, case_no, data, **extra):
    """The answer to a direct upload of `data` as evidence of `case_no`."""
    headers = {**bearer(token), "Upload-Metadata": upload_metadata(case_no, **extra)}
    return client.post(
        "/api/v1/evidence", data=data, headers=headers, content_type="application/octet-stream"
    )


def stored_blobs(services):
    """The names of the blobs on disk."""
    root = services.evidence.blobs.root / "sha256"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def csrf_token(client):
    """The CSRF token of the staff sign-in form."""
    return re.search(
        r'name="csrf" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)
    )[1]


def sign_in(client, username="supervisor-1", password=STAFF_PASSWORD):
    """A staff sign-in through the form."""
    return client.post(
        "/staff/login",
        data={"csrf": csrf_token(client), "username": username, "password": password},
    )


def issue_code(client, tokens, case_no):
    """A citizen's verification code for `case_no`, issued by the officer."""
    r = client.post(f"/api/v1/cases/{case_no}/verification-code", headers=bearer(tokens["officer"]))
    assert r.status_code == 201, r.json
    return r.json


def citizen_lookup(client, case_no, code, addr="203.0.113.7"):
    """A citizen's lookup on the check page, from `addr`."""
    return client.post(
        "/check", data={"case_no": case_no, "code": code}, environ_base={"REMOTE_ADDR": addr}
    )


def tamper(services, *statements, **params):
    """Change the database behind the service's back, as someone with direct access could."""
    with services.engine.begin() as conn:
        if services.engine.dialect.name == "postgresql":
            conn.execute(
                text("SET LOCAL session_replication_role = replica")
            )  # superuser: triggers off
        else:
            for (name,) in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(text(statement), params)


def move(client, token, case_no, *steps):
    """Take a case through `steps`: each a state, or a (state, payload) pair."""
    for step in steps:
        to, payload = (step, None) if isinstance(step, str) else step
        body = {"to": to} if payload is None else {"to": to, "payload": payload}
        r = client.post(f"/api/v1/cases/{case_no}/transitions", json=body, headers=bearer(token))
        assert r.status_code == 201, r.json
