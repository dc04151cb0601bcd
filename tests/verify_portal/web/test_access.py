"""Every route, walked with every role and with no login: who may call what (every endpoint checks
who may call it).

The matrix below is the contract; a route added without a row fails the completeness test.
"""

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import update

from evidence.meta import encode_upload_metadata
from ledger.models import User
from ledger.users import Role, add_user
from tests.conftest import bearer
from tests.support.api import NOW, REPORT, open_case

ROLES = ("officer", "system", "supervisor", "legal", "court", "admin")
WRITERS = {"officer", "system", "admin"}
READERS = {"officer", "supervisor", "legal", "admin"}
PUBLIC = set(ROLES) | {None}
DEVICE_KEY = (
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture
def world(client, tokens, media_dir):
    case_no = open_case(client, tokens["officer"])
    client.post(
        "/api/v1/recipients",
        json={"id": "xuhui-review-office", "name": "徐汇区复议办"},
        headers=bearer(tokens["admin"]),
    )
    meta = encode_upload_metadata({"case_no": case_no, "captured_at": NOW})
    item = client.post(
        "/api/v1/evidence",
        data=(media_dir / "photo.jpg").read_bytes(),
        headers={**bearer(tokens["officer"]), "Upload-Metadata": meta},
    ).json["evidence"]
    upload = client.post(
        "/api/v1/evidence/uploads",
        headers={
            **bearer(tokens["officer"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            "Upload-Metadata": meta,
        },
    )
    return {
        "case_no": case_no,
        "evidence_id": item["evidence_id"],
        "meta": meta,
        "upload_id": upload.headers["Location"].rsplit("/", 1)[1],
        "photo": (media_dir / "photo.jpg").read_bytes(),
    }


def _requests(world):
    """(method, rule, who may, request kwargs) for every route of the app."""
    c, e, m = world["case_no"], world["evidence_id"], world["meta"]
    tus = {"Tus-Resumable": "1.0.0"}
    return [
        ("GET", "/healthz", PUBLIC, {"path": "/healthz"}),
        (
            "GET",
            "/readyz",
            PUBLIC,
            {"path": "/readyz", "unready": 503},
        ),  # no chain in this test: 503 is the answer
        ("GET", "/metrics", PUBLIC, {"path": "/metrics"}),
        ("GET", "/api/v1/openapi.json", PUBLIC, {"path": "/api/v1/openapi.json"}),
        ("GET", "/api/v1/docs", PUBLIC, {"path": "/api/v1/docs"}),
        ("GET", "/api/v1/log/checkpoint", PUBLIC, {"path": "/api/v1/log/checkpoint"}),
        ("GET", "/api/v1/log/publickey", PUBLIC, {"path": "/api/v1/log/publickey"}),
        ("GET", "/api/v1/log/leaves", PUBLIC, {"path": "/api/v1/log/leaves?start=0&end=1"}),
        (
            "GET",
            "/api/v1/log/proof/inclusion",
            PUBLIC,
            {"path": "/api/v1/log/proof/inclusion?index=0"},
        ),
        (
            "GET",
            "/api/v1/log/proof/consistency",
            PUBLIC,
            {"path": "/api/v1/log/proof/consistency?from=1"},
        ),
        ("GET", "/api/v1/log/anchors", PUBLIC, {"path": "/api/v1/log/anchors"}),
        ("GET", "/api/v1/log/receipt", PUBLIC, {"path": "/api/v1/log/receipt?index=0"}),
        ("GET", "/api/v1/trust", PUBLIC, {"path": "/api/v1/trust"}),
        ("GET", "/api/v1/trust/history", PUBLIC, {"path": "/api/v1/trust/history"}),
        ("POST", "/api/v1/cases", WRITERS, {"path": "/api/v1/cases", "json": REPORT}),
        (
            "POST",
            "/api/v1/cases/<case_no>/transitions",
            WRITERS,
            {"path": f"/api/v1/cases/{c}/transitions", "json": {"to": "FILED"}},
        ),
        (
            "POST",
            "/api/v1/cases/<case_no>/party-erasure",
            {"legal", "admin"},
            {"path": f"/api/v1/cases/{c}/party-erasure"},
        ),
        ("GET", "/api/v1/cases/<case_no>", READERS, {"path": f"/api/v1/cases/{c}"}),
        ("GET", "/api/v1/cases/<case_no>/proofs", READERS, {"path": f"/api/v1/cases/{c}/proofs"}),
        (
            "GET",
            "/api/v1/cases/<case_no>/receipts",
            READERS,
            {"path": f"/api/v1/cases/{c}/receipts"},
        ),
        (
            "POST",
            "/api/v1/cases/<case_no>/exports",
            {"supervisor", "court", "admin"},
            {"path": f"/api/v1/cases/{c}/exports", "json": {}},
        ),
        (
            "POST",
            "/api/v1/cases/<case_no>/verification-code",
            WRITERS,
            {"path": f"/api/v1/cases/{c}/verification-code"},
        ),
        (
            "GET",
            "/api/v1/cases/<case_no>/evidence",
            READERS,
            {"path": f"/api/v1/cases/{c}/evidence"},
        ),
        (
            "GET",
            "/api/v1/cases/<case_no>/statements",
            READERS,
            {"path": f"/api/v1/cases/{c}/statements"},
        ),
        (
            "POST",
            "/api/v1/evidence",
            WRITERS,
            {"path": "/api/v1/evidence", "data": world["photo"], "headers": {"Upload-Metadata": m}},
        ),
        ("OPTIONS", "/api/v1/evidence/uploads", PUBLIC, {"path": "/api/v1/evidence/uploads"}),
        (
            "POST",
            "/api/v1/evidence/uploads",
            WRITERS,
            {
                "path": "/api/v1/evidence/uploads",
                "headers": {**tus, "Upload-Length": "10", "Upload-Metadata": m},
            },
        ),
        # Someone else's upload is not found rather than forbidden: its existence is not disclosed.
        (
            "HEAD",
            "/api/v1/evidence/uploads/<upload_id>",
            {"officer"},
            {
                "path": f"/api/v1/evidence/uploads/{world['upload_id']}",
                "headers": tus,
                "denied": 404,
            },
        ),
        (
            "PATCH",
            "/api/v1/evidence/uploads/<upload_id>",
            {"officer"},
            {
                "path": f"/api/v1/evidence/uploads/{world['upload_id']}",
                "data": b"12345",
                "denied": 404,
                "headers": {
                    **tus,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            },
        ),
        (
            "GET",
            "/api/v1/evidence/lookup",
            PUBLIC,
            {"path": f"/api/v1/evidence/lookup?sha256={'ab' * 32}"},
        ),
        (
            "GET",
            "/api/v1/evidence/<evidence_id>",
            READERS,
            {"path": f"/api/v1/evidence/{e}?reason=audit"},
        ),
        # Raw files are copied out by those who answer for them; officers play them in the pages.
        (
            "GET",
            "/api/v1/evidence/<evidence_id>/content",
            {"supervisor", "legal", "admin"},
            {"path": f"/api/v1/evidence/{e}/content?reason=audit"},
        ),
        (
            "GET",
            "/api/v1/evidence/<evidence_id>/poster",
            READERS,
            {"path": f"/api/v1/evidence/{e}/poster?reason=audit"},
        ),
        (
            "GET",
            "/api/v1/evidence/<evidence_id>/custody",
            {"supervisor", "legal", "admin"},
            {"path": f"/api/v1/evidence/{e}/custody"},
        ),
        # Handing evidence over is a case officer's act (and an admin's); oversight roles read, they
        # do not act.
        (
            "POST",
            "/api/v1/evidence/<evidence_id>/shares",
            {"officer", "admin"},
            {
                "path": f"/api/v1/evidence/{e}/shares",
                "json": {"recipient": "xuhui-review-office", "reason": "audit"},
            },
        ),
        ("GET", "/api/v1/recipients", READERS, {"path": "/api/v1/recipients"}),
        # Legal holds are the legal role's alone; lifting one not set is a 409 for it.
        (
            "PUT",
            "/api/v1/evidence/<evidence_id>/legal-hold",
            {"legal"},
            {"path": f"/api/v1/evidence/{e}/legal-hold", "json": {"reason": "litigation"}},
        ),
        (
            "DELETE",
            "/api/v1/evidence/<evidence_id>/legal-hold",
            {"legal"},
            {"path": f"/api/v1/evidence/{e}/legal-hold?reason=set-in-error"},
        ),
        # The item has no gap: 400 for those who may acknowledge one, 403 for the rest.
        (
            "POST",
            "/api/v1/evidence/<evidence_id>/gap-acknowledgements",
            {"supervisor", "admin"},
            {
                "path": f"/api/v1/evidence/{e}/gap-acknowledgements",
                "json": {"reason": "device-fault"},
            },
        ),
        (
            "POST",
            "/api/v1/recipients",
            {"admin"},
            {"path": "/api/v1/recipients", "json": {"id": "another-office", "name": "另一机关"}},
        ),
        # Deriving reads the original and writes a new item: writers who may also read evidence.
        (
            "POST",
            "/api/v1/evidence/<evidence_id>/derivations",
            WRITERS & READERS,
            {
                "path": f"/api/v1/evidence/{e}/derivations",
                "json": {"operation": {"op": "trim", "start": 0, "duration": 1}},
            },
        ),
        (
            "POST",
            "/api/v1/devices",
            {"admin"},
            {
                "path": "/api/v1/devices",
                "json": {
                    "serial": "DSJ-1",
                    "kind": "bodycam",
                    "unit": "u",
                    "public_key": DEVICE_KEY,
                },
            },
        ),
        (
            "POST",
            "/api/v1/devices/<serial>/issue",
            {"admin"},
            {"path": "/api/v1/devices/DSJ-1/issue", "json": {"officer": "officer-1"}},
        ),
        # A docking station's account (system) reads a recorder's identity and what the log
        # registered from it; it sees no case.
        ("GET", "/api/v1/devices/<serial>", {"system", "admin"}, {"path": "/api/v1/devices/DSJ-1"}),
        (
            "GET",
            "/api/v1/intake/<evidence_id>",
            {"system", "admin"},
            {"path": f"/api/v1/intake/{e}"},
        ),
        # Linking docked footage: the officer who carried the recorder, or a supervisor.
        ("GET", "/api/v1/intake", {"officer", "supervisor", "admin"}, {"path": "/api/v1/intake"}),
        (
            "POST",
            "/api/v1/intake/<evidence_id>/link",
            {"officer", "supervisor", "admin"},
            {"path": f"/api/v1/intake/{e}/link", "json": {"case_no": c}, "denied": 403},
        ),
        (
            "POST",
            "/api/v1/intake/<evidence_id>/decline",
            {"officer", "supervisor", "admin"},
            {"path": f"/api/v1/intake/{e}/decline", "json": {"case_no": c}},
        ),
        (
            "POST",
            "/api/v1/intake/reports",
            {"system", "admin"},
            {"path": "/api/v1/intake/reports", "json": {"report_sha256": "0" * 64}},
        ),
        (
            "POST",
            "/api/v1/devices/<serial>/revocation",
            {"admin"},
            {"path": "/api/v1/devices/DSJ-1/revocation"},
        ),
        ("GET", "/court", PUBLIC, {"path": "/court"}),
        ("GET", "/", PUBLIC, {"path": "/"}),
        (
            "POST",
            "/court/verify",
            PUBLIC,
            {
                "path": "/court/verify",
                "data": {"package": (io.BytesIO(b"x"), "p.zip")},
                "content_type": "multipart/form-data",
            },
        ),
        ("GET", "/check", PUBLIC, {"path": "/check"}),
        (
            "POST",
            "/check",
            PUBLIC,
            {"path": "/check", "data": {"case_no": c, "code": "22222-22222"}},
        ),
        ("GET", "/check/case", PUBLIC, {"path": "/check/case"}),
        ("GET", "/check/receipts/<int:index>", PUBLIC, {"path": "/check/receipts/0"}),
        ("POST", "/check/logout", PUBLIC, {"path": "/check/logout"}),
        ("POST", "/check/statement", PUBLIC, {"path": "/check/statement", "data": {}}),
        ("GET", "/static/<path:filename>", PUBLIC, {"path": "/static/site.css"}),
        (
            "GET",
            "/static/vendor/noble-hashes/<name>",
            PUBLIC,
            {"path": "/static/vendor/noble-hashes/sha2.js"},
        ),
        # Staff pages go by the signed-in session, not bearer tokens: without one they send to
        # sign-in.
        ("GET", "/staff/login", PUBLIC, {"path": "/staff/login"}),
        ("POST", "/staff/login", PUBLIC, {"path": "/staff/login", "data": {}}),
        ("POST", "/staff/logout", PUBLIC, {"path": "/staff/logout", "data": {}}),
        ("GET", "/staff", PUBLIC, {"path": "/staff"}),
        ("GET", "/staff/cases/<case_no>", PUBLIC, {"path": f"/staff/cases/{c}"}),
        ("GET", "/staff/cases", PUBLIC, {"path": "/staff/cases"}),
        ("GET", "/staff/cases.csv", PUBLIC, {"path": "/staff/cases.csv"}),
        ("GET", "/staff/search", PUBLIC, {"path": "/staff/search"}),
        (
            "GET",
            "/staff/evidence/<evidence_id>/poster",
            PUBLIC,
            {"path": f"/staff/evidence/{e}/poster"},
        ),
        (
            "GET",
            "/staff/evidence/<evidence_id>/stream",
            PUBLIC,
            {"path": f"/staff/evidence/{e}/stream"},
        ),
        (
            "POST",
            "/staff/evidence/<evidence_id>/playback",
            PUBLIC,
            {"path": f"/staff/evidence/{e}/playback", "data": {}},
        ),
        (
            "POST",
            "/staff/evidence/<evidence_id>/hold",
            PUBLIC,
            {"path": f"/staff/evidence/{e}/hold", "data": {}},
        ),
        (
            "POST",
            "/staff/evidence/<evidence_id>/lift-hold",
            PUBLIC,
            {"path": f"/staff/evidence/{e}/lift-hold", "data": {}},
        ),
        ("GET", "/log", PUBLIC, {"path": "/log"}),
        ("GET", "/report", PUBLIC, {"path": "/report"}),
        ("POST", "/report", PUBLIC, {"path": "/report", "data": {}}),
        (
            "POST",
            "/staff/cases/<case_no>/notice",
            PUBLIC,
            {"path": f"/staff/cases/{c}/notice", "data": {}},
        ),
        ("GET", "/court/reports/<report_id>", PUBLIC, {"path": "/court/reports/" + "a" * 22}),
        (
            "GET",
            "/court/reports/<report_id>/report.<any(json, html, pdf):kind>",
            PUBLIC,
            {"path": "/court/reports/" + "a" * 22 + "/report.pdf"},
        ),
        ("GET", "/log/leaf", PUBLIC, {"path": "/log/leaf?index=0"}),
        ("GET", "/log/leaves/<int:index>", PUBLIC, {"path": "/log/leaves/0"}),
        (
            "POST",
            "/staff/cases/<case_no>/export",
            PUBLIC,
            {"path": f"/staff/cases/{c}/export", "data": {}},
        ),
        (
            "POST",
            "/staff/cases/<case_no>/steps",
            PUBLIC,
            {"path": f"/staff/cases/{c}/steps", "data": {}},
        ),
        (
            "POST",
            "/staff/cases/<case_no>/evidence",
            PUBLIC,
            {"path": f"/staff/cases/{c}/evidence", "data": {}},
        ),
        ("GET", "/staff/trust", PUBLIC, {"path": "/staff/trust"}),
        ("GET", "/staff/intake", PUBLIC, {"path": "/staff/intake"}),
        ("POST", "/staff/intake/<evidence_id>/link", PUBLIC, {"path": f"/staff/intake/{e}/link"}),
        (
            "POST",
            "/staff/intake/<evidence_id>/decline",
            PUBLIC,
            {"path": f"/staff/intake/{e}/decline"},
        ),
        ("POST", "/staff/audit", PUBLIC, {"path": "/staff/audit", "data": {}}),
        ("POST", "/staff/trust", PUBLIC, {"path": "/staff/trust", "data": {}}),
        (
            "POST",
            "/staff/trust/<fingerprint>/removal",
            PUBLIC,
            {"path": f"/staff/trust/{'ab' * 32}/removal", "data": {}},
        ),
    ]


def test_every_route_is_in_the_matrix(app, world):
    routes = {
        (m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}
    }
    routes |= {
        ("OPTIONS", "/api/v1/evidence/uploads"),
        ("HEAD", "/api/v1/evidence/uploads/<upload_id>"),
    }
    listed = {(m, rule) for m, rule, _, _ in _requests(world)}
    assert routes <= listed, f"routes without an access row: {sorted(routes - listed)}"


@pytest.mark.parametrize("who", [None, *ROLES])
def test_each_role_gets_exactly_what_the_matrix_allows(client, tokens, world, who):
    for method, rule, allowed, spec in _requests(world):
        spec = dict(spec)
        path, denied, unready = spec.pop("path"), spec.pop("denied", 403), spec.pop("unready", None)
        headers = {**spec.pop("headers", {}), **(bearer(tokens[who]) if who else {})}
        answer = client.open(path, method=method, headers=headers, **spec)
        where = f"{method} {rule} as {who or 'nobody'}: {answer.status_code}"
        assert answer.status_code < 500 or answer.status_code == unready, where
        if who in allowed:
            assert answer.status_code not in (401, 403), where
        elif who is None:
            assert answer.status_code == 401, where
        else:
            assert answer.status_code == denied, where


def test_an_officer_of_another_district_does_nothing_to_this_districts_cases(
    client, services, world
):
    """Every route an officer may call, called by an officer bound to another district: refused
    (403), or the case or item not found (404, so its existence is not disclosed); the log does not
    grow."""
    with services.sessions.begin() as session:
        elsewhere = add_user(session, "officer-huangpu", Role.OFFICER, "huangpu")
    size = client.get("/api/v1/log/checkpoint").data.split(b"\n")[1]
    for method, rule, allowed, spec in _requests(world):
        if "officer" not in allowed or None in allowed:
            continue
        spec = dict(spec)
        path = spec.pop("path")
        spec.pop("denied", None), spec.pop("unready", None)
        headers = {**spec.pop("headers", {}), **bearer(elsewhere)}
        answer = client.open(path, method=method, headers=headers, **spec)
        if rule == "/api/v1/recipients" and method == "GET":
            assert answer.status_code == 200  # the list of bodies is no district's
            continue
        if rule == "/api/v1/intake" and method == "GET":
            assert answer.json == {"unlinked": []}  # only the footage they carried themselves
            continue
        assert answer.status_code in (403, 404), f"{method} {rule}: {answer.status_code}"
    assert client.get("/api/v1/log/checkpoint").data.split(b"\n")[1] == size


def test_an_officer_opens_cases_in_their_own_district_only(client, services):
    with services.sessions.begin() as session:
        token = add_user(session, "officer-huangpu", Role.OFFICER, "huangpu")
    refused = client.post(
        "/api/v1/cases", json={**REPORT, "district": "xuhui"}, headers=bearer(token)
    )
    assert refused.status_code == 403 and "huangpu" in refused.json["detail"]
    assert (
        client.post(
            "/api/v1/cases", json={**REPORT, "district": "huangpu"}, headers=bearer(token)
        ).status_code
        == 201
    )


def test_a_deactivated_users_token_is_refused_and_changes_nothing(client, services, tokens):
    with services.sessions.begin() as session:
        session.execute(update(User).where(User.username == "officer-1").values(active=False))
    refused = client.post("/api/v1/cases", json=REPORT, headers=bearer(tokens["officer"]))
    assert refused.status_code == 401 and refused.json["detail"] == "the bearer token is not valid"
    with services.sessions() as session:
        assert services.store.latest_size(session) == 0
    assert client.get("/api/v1/recipients", headers=bearer(tokens["supervisor"])).status_code == 200


def test_a_token_no_user_holds_is_refused(client, tokens):
    forged = tokens["admin"][:-4] + "AAAA"
    refused = client.get("/api/v1/recipients", headers=bearer(forged))
    assert refused.status_code == 401
