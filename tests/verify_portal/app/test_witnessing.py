"""The log's witnesses as an operator configures them: named in the trust root with their quorum,
asked to cosign each new checkpoint at once, their cosignatures served with the checkpoint, and a
witness that is down costing nothing but its own cosignature."""

import base64
import dataclasses
import json
from contextlib import ExitStack

import pytest

from ledger import audit
from ledger.checkpoint import parse_note
from ledger.errors import ConfigurationError
from ledger.trust import check_witnesses, verify_checkpoint
from ledger.users import Role, add_user, by_username
from tests.anchor.support import append
from tests.support.api import REPORT, tamper
from tests.support.witnesses import new_witness, serving
from verify_portal.app import figures, witnessing
from verify_portal.app.services import build, migrate
from verify_portal.app.settings import WitnessSettings
from verify_portal.web import create_app

NAMES = ["court.example/w1", "notary.example/w2", "justice.example/w3"]


class _Log:
    """The deployment's log as the witnesses know it: origin and checkpoint key."""

    def __init__(self, services):
        self.origin = services.store.origin
        with services.sessions() as session:
            self.public_key = services.store.current_key(session)


@pytest.fixture
def witnessed(tmp_path, settings):
    """A deployment with three witnesses (quorum 2), each served on its own port."""
    base = build(settings)
    migrate(base.engine)
    log = _Log(base)
    base.engine.dispose()
    with ExitStack() as stack:
        opened = [new_witness(tmp_path / f"w{i}", name, log) for i, name in enumerate(NAMES)]
        urls = [stack.enter_context(serving(w)) for w in opened]
        entries = [
            {**w.identity.to_json(), "url": url} for w, url in zip(opened, urls, strict=True)
        ]
        config = tmp_path / "witnesses.json"
        config.write_text(json.dumps(entries))
        services = build(
            dataclasses.replace(settings, witnesses=WitnessSettings(file=config, quorum=2))
        )
        yield services, opened, entries
        services.engine.dispose()


def test_the_trust_root_names_the_witnesses_and_their_quorum(witnessed):
    services, _, entries = witnessed
    root = services.trust.latest()
    assert [w.name for w in root.witnesses] == NAMES and root.witness_quorum == 2
    assert root.document["witnesses"][0]["url"] == entries[0]["url"]


def test_each_witness_cosigns_the_latest_checkpoint_and_the_log_serves_all_three(witnessed):
    services, _, _ = witnessed
    size = append(services, 4)
    collecting = witnessing.collector(services)
    assert collecting.collect() == {name: f"cosigned {size}" for name in NAMES}
    served = create_app(services=services).test_client().get("/api/v1/log/checkpoint").text
    root = services.trust.latest()
    verified = verify_checkpoint(root, served)
    assert "3 of 2 required cosignatures" in check_witnesses(root, verified)
    origin = services.store.origin  # the log's Ed25519 and SM2 lines, then the cosignatures
    assert [name for name, _ in parse_note(served)[2]] == [origin, origin, *sorted(NAMES)]
    assert collecting.collect() == {name: f"holds {size}" for name in NAMES}  # nothing new
    collecting.close()


def test_later_checkpoints_are_cosigned_from_the_size_each_witness_holds(witnessed):
    services, opened, _ = witnessed
    append(services, 2)
    collecting = witnessing.collector(services)
    collecting.collect()
    size = append(services, 5)
    assert set(collecting.collect().values()) == {f"cosigned {size}"}
    assert all(w.store.held(services.store.origin).size == size for w in opened)
    collecting.close()


def test_a_witness_that_is_down_leaves_the_quorum_met_and_the_log_appending(witnessed, tmp_path):
    services, opened, entries = witnessed
    entries[2]["url"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    config = tmp_path / "one-down.json"
    config.write_text(json.dumps(entries))
    settings = dataclasses.replace(
        services.settings, witnesses=WitnessSettings(file=config, quorum=2, timeout=2.0)
    )
    services = dataclasses.replace(services, settings=settings)
    size = append(services, 3)
    answers = witnessing.collector(services).collect()
    assert answers[NAMES[0]] == answers[NAMES[1]] == f"cosigned {size}"
    assert "did not answer" in answers[NAMES[2]]
    with services.sessions() as session:
        assert services.store.witnessed_size(session, NAMES, 2) == size
        assert services.store.witnessed_size(session, NAMES, 3) == 0
    assert append(services, 1) == size + 1  # appends never wait for a witness


def test_a_witness_that_answers_with_another_key_is_not_counted(witnessed, tmp_path):
    services, _, entries = witnessed
    entries[0]["public_key"] = entries[1]["public_key"]  # the config names the wrong key
    entries[0].pop("key_id")
    config = tmp_path / "wrong-key.json"
    config.write_text(json.dumps(entries))
    settings = dataclasses.replace(services.settings, witnesses=WitnessSettings(file=config))
    services = dataclasses.replace(services, settings=settings)
    append(services, 2)
    answers = witnessing.collector(services).collect()
    assert "no cosignature by its configured key" in answers[NAMES[0]]
    with services.sessions() as session:
        assert NAMES[0] not in services.store.cosigned_sizes(session)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[]", "a list of 1 to"),
        ('[{"name": "a b", "url": "http://x", "public_key": "00"}]', "no spaces"),
        ('[{"name": "w", "url": "ftp://x", "public_key": "00"}]', r"http\(s\) URL"),
        ('[{"name": "w", "url": "http://x", "public_key": "abcd"}]', "32 raw"),
        ("not json", "LIANZHENG_WITNESSES"),
    ],
)
def test_a_bad_witness_file_stops_the_service_with_what_is_wrong(
    tmp_path, settings, content, words
):
    config = tmp_path / "witnesses.json"
    config.write_text(content)
    configured = dataclasses.replace(settings, witnesses=WitnessSettings(file=config))
    with pytest.raises(ConfigurationError, match=words):
        witnessing.configured(configured)


def test_metrics_and_the_dashboard_show_how_far_each_witness_is_behind(witnessed):
    services, _, _ = witnessed
    append(services, 3)
    witnessing.collector(services).collect()
    size = append(services, 2)
    metrics = create_app(services=services).test_client().get("/metrics").text
    assert f'lianzheng_witness_cosigned_size{{witness="{NAMES[0]}"}} {size - 2}' in metrics
    assert f'lianzheng_witness_lag_leaves{{witness="{NAMES[2]}"}} 2' in metrics
    board = figures.dashboard(services)
    assert [(w.name, w.lag_leaves) for w in board.witnesses] == [(n, 2) for n in NAMES]
    assert board.witness_quorum == 2


def test_the_audit_names_a_stored_cosignature_that_was_altered(witnessed):
    services, _, _ = witnessed
    with services.sessions.begin() as session:
        add_user(session, "officer-1", Role.OFFICER)
    with services.sessions() as session:
        officer = by_username(session, "officer-1")
    size = max(services.cases.create(officer, REPORT)["index"] + 1 for _ in range(3))
    witnessing.collector(services).collect()
    with services.sessions() as session:
        assert audit.run(session, services.trust.latest()).clean
        note = services.store.checkpoint(session).note
    [line] = [line for line in note.splitlines() if line.startswith(f"\u2014 {NAMES[1]} ")]
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[-1] ^= 1  # one bit of the signature
    forged = f"\u2014 {NAMES[1]} {base64.b64encode(bytes(blob)).decode()}\n"
    update = "UPDATE log_cosignatures SET line = :line WHERE witness = :name"
    tamper(services, update, line=forged, name=NAMES[1])
    with services.sessions() as session:
        report = audit.run(session, services.trust.latest())
    [finding] = report.findings
    assert finding.where == f"cosignature of witness {NAMES[1]} at size {size}"
    assert "does not verify" in finding.problem
