"""The case API: who may write, what bad input gets, and that nothing changes when refused."""

import pytest

from tests.conftest import bearer
from tests.support.api import PARTY, REPORT, log_size, open_case


def _assert_problem(r, status, type_suffix):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.content_type == "application/problem+json"
    assert r.json["type"] == f"urn:lianzheng:problem:{type_suffix}"
    assert r.json["status"] == status and r.json["detail"]


def test_an_officer_opens_a_case_and_steps_it(client, tokens):
    case_no = open_case(client, tokens["officer"], party=PARTY)
    r = client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED"},
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 201 and r.json["state"] == "FILED" and r.json["index"] == 1
    case = client.get(f"/api/v1/cases/{case_no}", headers=bearer(tokens["officer"])).json
    assert [e["event"]["type"] for e in case["events"]] == ["case.reported", "case.filed"]


def test_a_write_without_a_token_is_401_and_changes_nothing(client, tokens):
    _assert_problem(client.post("/api/v1/cases", json=REPORT), 401, "unauthenticated")
    _assert_problem(
        client.post("/api/v1/cases", json=REPORT, headers=bearer("lz_wrong")),
        401,
        "unauthenticated",
    )
    assert log_size(client) == 0


@pytest.mark.parametrize("role", ["supervisor", "court", "legal"])
def test_a_write_by_a_read_only_role_is_403_and_changes_nothing(client, tokens, role):
    _assert_problem(
        client.post("/api/v1/cases", json=REPORT, headers=bearer(tokens[role])), 403, "forbidden"
    )
    assert log_size(client) == 0


def test_case_contents_need_a_login_but_proofs_do_not(client, tokens):
    case_no = open_case(client, tokens["officer"])
    _assert_problem(client.get(f"/api/v1/cases/{case_no}"), 401, "unauthenticated")
    _assert_problem(
        client.get(f"/api/v1/cases/{case_no}", headers=bearer(tokens["court"])), 403, "forbidden"
    )
    assert client.get("/api/v1/log/proof/inclusion?index=0").status_code == 200


BAD_BODIES = [
    pytest.param(b'{"source": "patrol",', "application/json", "invalid-input", id="malformed-json"),
    pytest.param(b'["patrol"]', "application/json", "invalid-input", id="not-an-object"),
    pytest.param(
        b'{"source":"patrol","source":"camera","violation_type":"x","district":"y"}',
        "application/json",
        "invalid-input",
        id="duplicate-key",
    ),
    pytest.param(
        b'{"source":"patrol","violation_type":"x","district":"y","colour":"red"}',
        "application/json",
        "invalid-input",
        id="unknown-field",
    ),
    pytest.param(
        b'{"source":"patrol","violation_type":7,"district":"y"}',
        "application/json",
        "invalid-input",
        id="wrong-type",
    ),
    pytest.param(
        b'{"source":"patrol","violation_type":"' + b"x" * 65 + b'","district":"y"}',
        "application/json",
        "invalid-input",
        id="over-long-code",
    ),
    pytest.param(
        b'{"source":"patrol","violation_type":"x","district":"y","party":{"name":"'
        + "名".encode() * 101
        + b'","id_type":"resident_id","id_number":"1"}}',
        "application/json",
        "invalid-input",
        id="over-long-name",
    ),
    pytest.param(
        b"source=patrol", "application/x-www-form-urlencoded", "invalid-input", id="not-json"
    ),
    pytest.param(
        b"[" * 100_000 + b"]" * 100_000, "application/json", "invalid-input", id="nested-too-deep"
    ),
]


@pytest.mark.parametrize("body, mimetype, problem", BAD_BODIES)
def test_bad_input_gets_a_400_problem_and_leaves_the_log_unchanged(
    client, tokens, body, mimetype, problem
):
    r = client.post(
        "/api/v1/cases", data=body, content_type=mimetype, headers=bearer(tokens["officer"])
    )
    _assert_problem(r, 400, problem)
    assert log_size(client) == 0


def test_an_oversized_body_is_413(client, tokens):
    r = client.post(
        "/api/v1/cases",
        data=b'{"x":"' + b"a" * (2 << 20) + b'"}',
        content_type="application/json",
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 413 and r.content_type == "application/problem+json"
    assert log_size(client) == 0


def test_field_errors_are_listed_without_echoing_the_input(client, tokens):
    r = client.post(
        "/api/v1/cases",
        json={**REPORT, "party": {**PARTY, "id_number": 11010119800101}},
        headers=bearer(tokens["officer"]),
    )
    _assert_problem(r, 400, "invalid-input")
    assert r.json["errors"] == [{"field": "id_number", "message": "Input should be a valid string"}]
    assert "11010119800101" not in r.get_data(as_text=True)


def test_an_unknown_case_number_is_404(client, tokens):
    r = client.post(
        "/api/v1/cases/CG-2026-999999/transitions",
        json={"to": "FILED"},
        headers=bearer(tokens["officer"]),
    )
    _assert_problem(r, 404, "not-found")
    _assert_problem(
        client.get("/api/v1/cases/CG-2026-999999", headers=bearer(tokens["officer"])),
        404,
        "not-found",
    )
    r = client.get("/api/v1/cases/" + "X" * 5000, headers=bearer(tokens["officer"]))
    _assert_problem(r, 404, "not-found")
    assert len(r.json["detail"]) < 60


def test_an_illegal_transition_is_409_naming_the_state_and_the_allowed_steps(client, tokens):
    case_no = open_case(client, tokens["officer"])
    before = log_size(client)
    r = client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "PAID", "payload": {"amount_fen": 100}},
        headers=bearer(tokens["officer"]),
    )
    _assert_problem(r, 409, "illegal-transition")
    assert r.json["current_state"] == "REPORTED" and r.json["allowed"] == ["FILED"]
    assert log_size(client) == before


def test_an_unknown_target_state_is_400(client, tokens):
    case_no = open_case(client, tokens["officer"])
    r = client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "ARCHIVED"},
        headers=bearer(tokens["officer"]),
    )
    _assert_problem(r, 400, "invalid-input")
    assert "REPORTED" in r.json["detail"]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_appends_once(
    client, tokens
):
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "terminal-9:0001"}
    first = client.post("/api/v1/cases", json=REPORT, headers=headers)
    retry = client.post("/api/v1/cases", json=REPORT, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json
    assert log_size(client) == 1


def test_an_idempotency_key_reused_with_another_body_is_422(client, tokens):
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "terminal-9:0002"}
    client.post("/api/v1/cases", json=REPORT, headers=headers)
    _assert_problem(
        client.post("/api/v1/cases", json={**REPORT, "district": "pudong"}, headers=headers),
        422,
        "idempotency-conflict",
    )
    assert log_size(client) == 1


def test_the_proofs_of_a_case_come_with_the_checkpoint_of_the_same_size(client, tokens, services):
    from ledger import merkle
    from ledger.trust import verify_checkpoint

    case_no = open_case(client, tokens["officer"])
    open_case(client, tokens["officer"])
    client.post(
        f"/api/v1/cases/{case_no}/transitions",
        json={"to": "FILED"},
        headers=bearer(tokens["officer"]),
    )
    bundle = client.get(f"/api/v1/cases/{case_no}/proofs", headers=bearer(tokens["officer"])).json
    checkpoint = verify_checkpoint(services.trust.latest(), bundle["checkpoint"]).checkpoint
    assert checkpoint.size == bundle["size"] == 3
    for e in bundle["events"]:
        merkle.verify_inclusion(
            e["index"],
            checkpoint.size,
            bytes.fromhex(e["leaf_hash"]),
            [bytes.fromhex(p) for p in e["proof"]],
            checkpoint.root,
        )
    assert [e["index"] for e in bundle["events"]] == [0, 2]


@pytest.mark.parametrize(
    "variant",
    [
        {"id_number": "310101 199001011234"},
        {"id_number": "310101-19900101-1234"},
        {"id_number": "３１０１０１１９９００１０１１２３４"},
        {"id_number": "3101011990\u200b01011234"},
        {"id_type": "other"},
    ],
)
def test_one_person_gets_one_first_offence_exemption_however_the_number_is_written(
    client, tokens, variant
):
    officer = bearer(tokens["officer"])
    person = {"name": "张三", "id_type": "resident_id", "id_number": "310101199001011234"}
    steps = [("FILED", {}), ("INVESTIGATING", {}), ("NOTIFIED", {})]
    exempt = {"to": "DECIDED", "payload": {"outcome": "first_offence_exempt"}}
    for party, expected in ((person, 201), ({**person, **variant}, 409)):
        case_no = client.post(
            "/api/v1/cases", json={**REPORT, "party": party}, headers=officer
        ).json["case_no"]
        for state, payload in steps:
            client.post(
                f"/api/v1/cases/{case_no}/transitions",
                json={"to": state, "payload": payload},
                headers=officer,
            )
        decided = client.post(f"/api/v1/cases/{case_no}/transitions", json=exempt, headers=officer)
        assert decided.status_code == expected, decided.json


def test_an_invalid_identity_number_is_a_400_naming_the_rule_and_opens_nothing(client, tokens):
    before = log_size(client)
    r = client.post(
        "/api/v1/cases",
        json={**REPORT, "party": {**PARTY, "id_number": "310101199001011235"}},
        headers=bearer(tokens["officer"]),
    )
    assert r.status_code == 400 and "check digit is wrong (GB 11643)" in r.json["detail"]
    assert log_size(client) == before
