"""`lianzheng witness` as a court's operator runs it, and `lianzheng verify-equivocation` as a court
reads what a witness kept."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from ledger.witness_protocol import origin_hash
from tests.support.trust import Deployment
from tests.support.witnesses import MemoryLog, new_witness, serving
from verify_portal.cli import main

LIANZHENG = [sys.executable, "-m", "verify_portal"]


@pytest.fixture
def log():
    log = MemoryLog()
    log.append(6)
    return log


def _run(*args):
    return subprocess.run([*LIANZHENG, *args], capture_output=True, text=True, timeout=60)


def test_a_witness_is_made_given_a_log_served_and_stopped_from_the_command_line(tmp_path, log):
    folder = str(tmp_path / "w")
    made = _run("witness", "init", "--dir", folder, "--name", "court.example/w1")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["name"] == "court.example/w1"
    added = _run("witness", "add-log", "--dir", folder, log.origin, log.public_key.hex())
    assert added.returncode == 0 and "now witnesses" in added.stdout
    serve = subprocess.Popen(
        [*LIANZHENG, "witness", "serve", "--dir", folder, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = re.search(r"listening on http://127.0.0.1:(\d+)", serve.stderr.readline()).group(1)
        url = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(f"{url}/add-checkpoint", data=log.request(0))
        with urllib.request.urlopen(request, timeout=10) as answer:
            line = answer.read().decode()
        with urllib.request.urlopen(f"{url}/{origin_hash(log.origin)}/checkpoint") as served:
            assert served.read().decode() == log.note() + line
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0


def test_a_second_init_and_a_bad_key_are_refused_with_a_message(tmp_path):
    folder = str(tmp_path / "w")
    assert _run("witness", "init", "--dir", folder, "--name", "w1").returncode == 0
    again = _run("witness", "init", "--dir", folder, "--name", "w1")
    assert again.returncode == 1 and "never overwritten" in again.stderr
    bad = _run("witness", "add-log", "--dir", folder, "log.example", "abcd")
    assert bad.returncode == 2 and "32-byte" in bad.stderr


def _record(held, shown, proof=()):
    return {
        "format": "lianzheng-equivocation/1",
        "witness": "court.example/w1",
        "origin": held.split("\n")[0],
        "held": held,
        "shown": shown,
        "old_size": 0,
        "proof": [h.hex() for h in proof],
        "reason": "",
        "seen_at": "2026-11-30T00:00:00.000000Z",
    }


def _verify(tmp_path, log, record):
    root = tmp_path / "root.json"
    root.write_text(json.dumps(Deployment(checkpoint_key=log.key).document()))
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    return CliRunner().invoke(main, ["verify-equivocation", str(path), "--trust", str(root)])


def test_two_roots_for_one_size_signed_by_the_trusted_key_prove_a_split_view(tmp_path, log):
    fork = MemoryLog(key=log.key)
    fork.append(6, tag="rewritten-")
    result = _verify(tmp_path, log, _record(log.note(), fork.note()))
    assert result.exit_code == 0, result.output
    assert "EQUIVOCATION" in result.output and "two different roots for size 6" in result.output


def test_a_fork_signed_by_a_key_the_root_does_not_list_proves_nothing(tmp_path, log):
    stranger = MemoryLog()
    stranger.append(6, tag="rewritten-")
    result = _verify(tmp_path, log, _record(log.note(), stranger.note()))
    assert result.exit_code == 1 and "does not list" in result.output


def test_consistent_heads_or_one_head_twice_are_no_split_view(tmp_path, log):
    log.append(4)
    consistent = _record(log.note(6), log.note(10), log.proof(6, 10))
    assert _verify(tmp_path, log, consistent).exit_code == 1
    twice = _verify(tmp_path, log, _record(log.note(6), log.note(6)))
    assert twice.exit_code == 1 and "same tree head" in twice.output


def test_heads_of_two_sizes_without_a_proof_are_left_undecided_with_what_settles_it(tmp_path, log):
    fork = MemoryLog(key=log.key)
    fork.append(9, tag="rewritten-")
    result = _verify(tmp_path, log, _record(log.note(), fork.note()))
    assert result.exit_code == 3 and "proof/consistency?from=6&to=9" in result.output


def test_a_file_that_is_not_a_record_is_a_usage_error(tmp_path, log):
    result = _verify(tmp_path, log, {"format": "something-else"})
    assert result.exit_code == 2 and "lianzheng-equivocation/1" in result.output


def test_a_fork_shown_to_a_witness_becomes_a_record_a_court_proves_with_verify_equivocation(
    tmp_path, log
):
    fork = MemoryLog(key=log.key)
    fork.append(6, tag="rewritten-")
    with serving(new_witness(tmp_path / "w", "court.example/w1", log)) as url:
        for body in (log.request(0), fork.request(6)):
            try:
                urllib.request.urlopen(urllib.request.Request(f"{url}/add-checkpoint", body))
            except urllib.error.HTTPError as refused:
                assert refused.code == 422
        with urllib.request.urlopen(f"{url}/equivocations/1") as answer:
            record = json.loads(answer.read())
    result = _verify(tmp_path, log, record)
    assert result.exit_code == 0 and "split view proven" in result.output


def _serve(folder, env=None):
    process = subprocess.Popen(
        [*LIANZHENG, "witness", "serve", "--dir", folder, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    port = re.search(r"listening on http://127.0.0.1:(\d+)", process.stderr.readline()).group(1)
    return process, f"http://127.0.0.1:{port}"


def _add(url, body):
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/add-checkpoint", body)) as a:
            return a.status, a.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_a_witness_killed_between_storing_and_answering_answers_the_retry_consistently(
    tmp_path, log
):
    folder = str(tmp_path / "w")
    assert _run("witness", "init", "--dir", folder, "--name", "court.example/w1").returncode == 0
    assert (
        _run("witness", "add-log", "--dir", folder, log.origin, log.public_key.hex()).returncode
        == 0
    )
    first, url = _serve(folder)
    assert _add(url, log.request(0))[0] == 200
    first.terminate()
    first.wait(timeout=30)
    log.append(3)
    request = log.request(6)
    dying, url = _serve(folder, {"LIANZHENG_WITNESS_FAULT": "kill-after-commit"})
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(urllib.request.Request(f"{url}/add-checkpoint", request))
    assert dying.wait(timeout=30) == -signal.SIGKILL
    again, url = _serve(folder)
    try:
        assert _add(url, request) == (409, "9\n")  # the log's retry: it holds 9 already
        status, line = _add(url, log.request(9))  # the log resends from the size it was told
        assert status == 200 and line.startswith("\u2014 court.example/w1 ")
        fork = MemoryLog(key=log.key)
        fork.append(9, tag="rewritten-")
        assert _add(url, fork.request(9))[0] == 422  # never a second root for size 9
    finally:
        again.terminate()
        assert again.wait(timeout=30) == 0
