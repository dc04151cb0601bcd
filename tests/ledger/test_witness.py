"""A witness as its operator and a log meet it: made once, served over HTTP, durable across
restarts, refusing rollbacks and forks, and keeping a fork it was shown as evidence."""

import socket
import stat
import threading
import urllib.error
import urllib.request

import pytest

from ledger import cosignature, witness
from ledger.checkpoint import parse_note
from ledger.errors import ConfigurationError
from ledger.witness_protocol import OldSizeConflict, origin_hash, parse_request
from tests.support.witnesses import MemoryLog, new_witness, serving


@pytest.fixture
def log():
    log = MemoryLog()
    log.append(5)
    return log


def _post(url, body):
    request = urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], refused.read().decode()


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def _cosigned_by(opened, note):
    _, body, signatures = parse_note(note)
    cosigner = cosignature.Cosigner(opened.name, opened.identity.public_key)
    return cosignature.verified_cosigners(body, signatures, [cosigner]) == [cosigner]


def test_init_makes_an_owner_only_key_and_names_the_witness_once(tmp_path):
    made = witness.init(tmp_path / "w", "court.example/w1")
    assert stat.S_IMODE((tmp_path / "w" / witness.KEY_FILE).stat().st_mode) == 0o600
    assert made.to_json()["name"] == "court.example/w1" and len(made.public_key) == 32
    with pytest.raises(ConfigurationError, match="never overwritten"):
        witness.init(tmp_path / "w", "court.example/w1")
    with pytest.raises(ConfigurationError, match="no spaces"):
        witness.init(tmp_path / "other", "a court")


def test_a_checkpoint_is_cosigned_over_http_and_served_back_with_both_signatures(tmp_path, log):
    opened = new_witness(tmp_path / "w", "court.example/w1", log)
    with serving(opened) as url:
        status, _, line = _post(url, log.request(0))
        assert status == 200 and line.startswith("\u2014 court.example/w1 ")
        assert _cosigned_by(opened, log.note() + line)
        served = _get(f"{url}/{origin_hash(log.origin)}/checkpoint")
    assert served == log.note() + line


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old 5\n\n", 400),
        (b"old x\n\nlianzheng.example/cg-log\n5\nAAAA\n\n", 400),
    ],
)
def test_malformed_requests_get_the_specs_status(tmp_path, log, body, status):
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        assert _post(url, body)[0] == status


def _raw_status(url, request: bytes) -> int:
    """Send `request` as bytes (Latin-1 where HTTP lets a client put any byte) and read the
    status."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        return int(conn.makefile("rb").readline().split()[1])


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", 411),
        (b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 411),
        (b"GET /equivocations/\xb2 HTTP/1.1\r\n\r\n", 400),
        (b"GET /equivocations/" + b"9" * 30 + b" HTTP/1.1\r\n\r\n", 400),
        (b"GET /equivocations/9223372036854775807 HTTP/1.1\r\n\r\n", 404),
    ],
)
def test_numbers_that_are_not_ascii_digits_or_beyond_64_bits_get_a_4xx_not_a_crash(
    tmp_path, log, request_bytes, status
):
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        assert _raw_status(url, request_bytes) == status


def test_an_unknown_log_a_stranger_key_and_a_bad_proof_get_404_403_and_422(tmp_path, log):
    other = MemoryLog(origin="other.example/log")
    other.append(2)
    stranger = MemoryLog(leaves=list(log.leaves))
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        assert _post(url, other.request(0))[0] == 404
        assert _post(url, stranger.request(0))[0] == 403
        assert _post(url, log.request(0))[0] == 200
        log.append(3)
        bad = log.request(5).replace(log.request(5).split(b"\n")[1], b"A" * 43 + b"=")
        assert _post(url, bad)[0] == 422


def test_a_stale_old_size_is_a_409_with_the_held_size_as_text(tmp_path, log):
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        assert _post(url, log.request(0))[0] == 200
        log.append(4)
        assert _post(url, log.request(0)) == (409, "text/x.tlog.size", "5\n")
        assert _post(url, log.request(5))[0] == 200


def test_a_restarted_witness_keeps_its_checkpoint_and_refuses_a_rollback(tmp_path, log):
    log.append(5)
    first = new_witness(tmp_path / "w", "court.example/w1", log)
    assert first.add_checkpoint(log.request(0))
    first.store.close()
    again = witness.Witness.open(tmp_path / "w")
    assert again.store.held(log.origin).size == 10
    with serving(again) as url:
        assert _post(url, log.request(0, 5)) == (409, "text/x.tlog.size", "10\n")
        assert _post(url, log.request(10, 5))[0] == 400  # an old size beyond the checkpoint


def test_a_fork_signed_by_the_log_key_is_refused_and_kept_as_an_equivocation_record(tmp_path, log):
    fork = MemoryLog(key=log.key)
    fork.append(5, tag="rewritten-")
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        assert _post(url, log.request(0))[0] == 200
        status, _, why = _post(url, fork.request(5))
        assert status == 422 and "another root for size 5" in why
        listed = __import__("json").loads(_get(f"{url}/equivocations"))
        record = __import__("json").loads(_get(f"{url}/equivocations/{listed[0]['id']}"))
    assert (
        record["format"] == "lianzheng-equivocation/1" and record["witness"] == "court.example/w1"
    )
    assert record["held"].startswith(log.note()) and record["shown"] == fork.note()


def test_a_witness_that_died_after_storing_answers_the_same_request_consistently(tmp_path, log):
    opened = new_witness(tmp_path / "w", "court.example/w1", log)
    opened.add_checkpoint(log.request(0))
    log.append(3)
    request = log.request(5)
    # The checkpoint is stored and committed; the process dies before it answers.
    opened.store.advance(parse_request(request), log.origin, lambda body: "\u2014 lost\n")
    opened.store.close()
    reopened = witness.Witness.open(tmp_path / "w")
    with pytest.raises(OldSizeConflict) as conflict:
        reopened.add_checkpoint(request)  # the log's retry: the witness holds 8 already
    assert conflict.value.stored_size == 8
    line = reopened.add_checkpoint(log.request(8))  # the log resends from the size it was told
    assert _cosigned_by(reopened, log.note() + line)
    fork = MemoryLog(key=log.key)
    fork.append(8, tag="rewritten-")
    with pytest.raises(Exception, match="another root for size 8"):
        reopened.add_checkpoint(fork.request(8))


def test_concurrent_requests_from_one_old_size_advance_it_once(tmp_path, log):
    opened = new_witness(tmp_path / "w", "court.example/w1", log)
    opened.add_checkpoint(log.request(0))
    log.append(10)
    bodies = [log.request(5, size) for size in (6, 8, 11, 15)]
    answers = []

    def send(body):
        try:
            opened.add_checkpoint(body)
            answers.append("cosigned")
        except OldSizeConflict:
            answers.append("conflict")

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["conflict"] * 3 + ["cosigned"]
    assert opened.store.held(log.origin).size in (6, 8, 11, 15)
