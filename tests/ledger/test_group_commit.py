"""Group commit (ledger/group_commit.py): concurrent callers share one transaction, one checkpoint
and one commit; each is answered only after it, and one caller's failure is its own."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError

from ledger import audit
from ledger.cases import Idempotency
from ledger.errors import IllegalTransition
from ledger.group_commit import GroupCommit
from ledger.models import Case, CheckpointRecord, Leaf, Party, User
from ledger.trust import verify_checkpoint
from ledger.users import Role, add_user, by_username

REPORT = {"source": "patrol", "violation_type": "stall", "district": "xuhui"}
PARTY = {"name": "张三", "id_type": "resident_id", "id_number": "310101199001011234"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def officer(services):
    with services.sessions.begin() as session:
        add_user(session, "officer", Role.OFFICER)
    with services.sessions() as session:
        return by_username(session, "officer")


def _group(services, first, others):
    """Run `first` and then each of `others` in threads, `first`'s work held until all the others
    wait behind it, so they form the next group; each thread's answer or error, in order."""
    commits = services.cases.commits
    answers = [None] * (1 + len(others))

    def held(tx):
        _until(lambda: commits.waiting == len(others), "the other callers never queued")
        return {"held": tx.size}

    def call(i, fn):
        try:
            answers[i] = fn()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            answers[i] = exc

    threads = [threading.Thread(target=call, args=(0, lambda: first(held)))]
    threads[0].start()
    _until(lambda: _leading(commits) and not commits.waiting, "the first caller never led")
    threads += [threading.Thread(target=call, args=(i + 1, f)) for i, f in enumerate(others)]
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def _next_group(services, officer, others):
    """`others` called while a write of `officer`'s is held, so that they commit as one group."""
    return _group(services, lambda work: services.cases.write(officer, None, work), others)


def _leaves_and_audit(services):
    """How many leaves the log holds, and the audit's report on it."""
    with services.sessions() as session:
        leaves = session.scalar(select(func.count()).select_from(Leaf))
        return leaves, audit.run(session, services.trust.latest())


def _until(condition, failure):
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.005)


def _leading(commits):
    return commits._leader  # noqa: SLF001 - the test waits for the first group to be under way


def _checkpoints(services):
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(CheckpointRecord))


def test_callers_that_wait_together_are_committed_under_one_checkpoint(services, officer):
    cases = services.cases
    answers = _next_group(
        services,
        officer,
        [lambda: cases.create(officer, REPORT) for _ in range(6)],
    )
    created = answers[1:]
    assert all(isinstance(a, dict) for a in created), created
    assert sorted(a["index"] for a in created) == list(range(6))
    serials = sorted(int(a["case_no"].rsplit("-", 1)[1]) for a in created)
    assert serials == list(range(1, 7)), "consecutive case numbers, each once"
    heads = {(a["checkpoint"]["size"], a["checkpoint"]["root"]) for a in created}
    assert heads == {(6, created[0]["checkpoint"]["root"])}, "one checkpoint for the group"
    assert _checkpoints(services) == 1
    with services.sessions() as session:
        note = services.store.checkpoint(session, 6).note
    assert verify_checkpoint(services.trust.latest(), note).checkpoint.size == 6


def test_callers_who_come_while_another_process_holds_the_log_join_the_waiting_group(
    services, officer
):
    cases, commits = services.cases, services.cases.commits
    other_process = GroupCommit(services.store, services.sessions)  # its own queue and leader
    holding = threading.Event()

    def hold_the_append_lock(tx):
        tx.append([(b'{"held":"by another process"}', None)])
        holding.set()
        _until(lambda: commits.waiting == 3, "three callers never queued behind the lock")
        return tx.size

    holder = threading.Thread(target=other_process.run, args=(hold_the_append_lock,))
    holder.start()
    assert holding.wait(timeout=60), "the other process never took the lock"
    answers: list = []
    callers = [
        threading.Thread(target=lambda: answers.append(cases.create(officer, REPORT)))
        for _ in range(3)
    ]
    for caller in callers:
        caller.start()
    for thread in [holder, *callers]:
        thread.join(timeout=120)
    assert sorted(a["index"] for a in answers) == [1, 2, 3]
    assert {a["checkpoint"]["size"] for a in answers} == {4}, "one group after the lock"
    assert _checkpoints(services) == 2


def test_a_lone_caller_whose_row_the_database_refuses_gets_that_error(services, officer):
    def duplicate_user(tx):
        tx.session.add(User(username="officer", role="officer", token_hash=b"\x00" * 32))
        return {"added": "a second officer"}

    with pytest.raises(IntegrityError):
        services.cases.write(officer, None, duplicate_user)
    leaves, report = _leaves_and_audit(services)
    assert leaves == 0
    assert report.clean, report.findings


def test_refused_events_in_a_group_are_each_refused_alone_and_leave_no_trace(services, officer):
    cases = services.cases
    opened, other = (cases.create(officer, REPORT)["case_no"] for _ in range(2))
    answers = _next_group(
        services,
        officer,
        [
            lambda: cases.create(officer, REPORT),
            lambda: cases.transition(officer, opened, "INVESTIGATING", {}),  # not from REPORTED
            lambda: cases.transition(officer, opened, "FILED", {}),
            # refused again when the others run a second time, each in a savepoint
            lambda: cases.transition(officer, other, "CLOSED", {}),
            lambda: cases.create(officer, REPORT),
        ],
    )
    refused = [isinstance(a, IllegalTransition) for a in answers[1:]]
    assert refused == [False, True, False, True, False], answers[1:]
    kept = [a for a in answers[1:] if isinstance(a, dict)]
    assert sorted(a["index"] for a in kept) == [2, 3, 4], "no gap where the refused ones were"
    assert {a["checkpoint"]["size"] for a in kept} == {5}
    assert cases.get(officer, opened)["state"] == "FILED"
    leaves, report = _leaves_and_audit(services)
    assert leaves == 5
    assert report.clean, report.findings


def test_a_row_the_database_refuses_fails_only_the_caller_that_added_it(services, officer):
    cases = services.cases

    def duplicate_user(tx):
        tx.session.add(User(username="officer", role="officer", token_hash=b"\x00" * 32))
        return {"added": "a second officer"}  # the unique username breaks only at the flush

    answers = _next_group(
        services,
        officer,
        [
            lambda: cases.create(officer, REPORT),
            lambda: cases.write(officer, None, duplicate_user),
            lambda: cases.create(officer, REPORT),
        ],
    )
    assert isinstance(answers[2], IntegrityError), answers[2]
    assert sorted(a["index"] for a in (answers[1], answers[3])) == [0, 1]
    leaves, report = _leaves_and_audit(services)
    assert leaves == 2
    assert report.clean, report.findings


def test_cases_opened_in_one_group_have_rows_that_agree_with_their_logs(services, officer):
    """Their rows go in one statement after the works (ledger/storage.py: LogTransaction.insert),
    a party's rows after the case's, and a refused caller's row not at all."""
    cases = services.cases

    def opened_then_refused(tx):
        cases.create_in(tx, officer, REPORT)
        raise IllegalTransition("refused after its case was opened")

    answers = _next_group(
        services,
        officer,
        [
            lambda: cases.create(officer, REPORT, PARTY),
            lambda: cases.write(officer, None, opened_then_refused),
            lambda: cases.create(officer, REPORT),
            lambda: cases.create(officer, REPORT, PARTY),
        ],
    )
    assert isinstance(answers[2], IllegalTransition), answers[2]
    opened = [answers[i]["case_no"] for i in (1, 3, 4)]
    assert sorted(opened) == [f"CG-{opened[0][3:7]}-00000{n}" for n in (1, 2, 3)]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 3
        assert [cases.disagreements(session, case_no) for case_no in opened] == [[], [], []]
    shown = [cases.get(officer, case_no) for case_no in opened]
    assert [case["party"] is not None for case in shown] == [True, False, True]
    assert cases.transition(officer, opened[0], "FILED", {})["state"] == "FILED"
    leaves, report = _leaves_and_audit(services)
    assert leaves == 4
    assert report.clean, report.findings


def test_a_row_a_work_flushes_itself_follows_the_kept_back_case_row_it_points_at(services, officer):
    def opened_with_a_row(tx):
        opened = services.cases.create_in(tx, officer, REPORT)
        tx.session.add(Party(case_no=opened["case_no"], nonce=bytes(12), ciphertext=b"sealed"))
        tx.session.flush()  # the case's row is kept back until now (ledger/db.py: before_flush)
        return opened

    case_no = services.cases.write(officer, None, opened_with_a_row)["case_no"]
    with services.sessions() as session:
        assert session.get(Party, case_no) is not None
        assert services.cases.disagreements(session, case_no) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_write_on_a_connection_the_database_closed_a_moment_ago_is_made_on_a_new_one(
    services, officer
):
    services.engine.dispose()
    with services.engine.connect() as connection:  # the pool's one connection, just used
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    admin = create_engine(services.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # as a restart of the database would
        connection.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
    admin.dispose()
    assert services.cases.create(officer, REPORT)["index"] == 0
    leaves, report = _leaves_and_audit(services)
    assert leaves == 1
    assert report.clean, report.findings


def test_a_retry_with_the_same_key_in_the_same_group_is_written_once(services, officer):
    cases = services.cases
    key = Idempotency.of("retry-1", "POST", "/api/v1/cases", b"{}")
    answers = _next_group(
        services,
        officer,
        [lambda: cases.create(officer, REPORT, idempotency=key) for _ in range(3)],
    )
    assert answers[1] == answers[2] == answers[3]
    assert "checkpoint" in answers[1]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Leaf)) == 1
    assert cases.create(officer, REPORT, idempotency=key) == answers[1], "replayed later too"


def test_a_commit_that_fails_fails_every_caller_of_its_group_and_writes_nothing(
    services, officer, monkeypatch
):
    cases, store = services.cases, services.store
    real_seal = store._seal  # noqa: SLF001 - the test breaks the signing of the second group

    def failing_seal(session, compact):
        if compact.size > 1:
            raise OSError("the signing key is unreadable")
        return real_seal(session, compact)

    monkeypatch.setattr(store, "_seal", failing_seal)
    answers = _group(
        services,
        lambda held: cases.write(
            officer, None, lambda tx: {**held(tx), **cases.create_in(tx, officer, REPORT)}
        ),
        [lambda: cases.create(officer, REPORT) for _ in range(3)],
    )
    assert answers[0]["index"] == 0, "the first group committed"
    assert all(isinstance(a, OSError) for a in answers[1:]), answers
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Leaf)) == 1
        assert store.latest_size(session) == 1


def test_a_log_that_cannot_be_locked_fails_its_callers_instead_of_keeping_them_waiting(
    services, officer, monkeypatch
):
    def database_gone(session):
        raise OSError("the database is unreachable")

    monkeypatch.setattr(services.store, "lock", database_gone)
    answers: list = []

    def call():
        try:
            answers.append(services.cases.create(officer, REPORT))
        except OSError as exc:
            answers.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    caller.join(timeout=60)
    assert not caller.is_alive(), "the caller still waits"
    assert [str(a) for a in answers] == ["the database is unreachable"]
    assert services.cases.commits.waiting == 0


def test_a_work_that_asks_for_a_second_log_transaction_is_refused(services, officer):
    cases = services.cases
    with pytest.raises(RuntimeError, match="may not start another log transaction"):
        cases.write(officer, None, lambda tx: cases.create(officer, REPORT))
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Leaf)) == 0


def test_a_process_killed_in_the_middle_of_group_commits_lost_nothing_it_acknowledged(
    services, officer, settings
):
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.group_writer",
            str(settings.data_dir),
            settings.database_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    acknowledged = []
    try:
        for line in child.stdout:
            acknowledged.append(json.loads(line))
            if len(acknowledged) == 300:
                break
    finally:
        child.send_signal(signal.SIGKILL)  # mid-group: others are between their work and commit
        child.wait(30)
    assert len(acknowledged) == 300, "the writer stopped before it was killed"
    with services.sessions() as session:
        stored = dict(session.execute(select(Leaf.leaf_index, Leaf.leaf_hash)).all())
        size = services.store.latest_size(session)
        report = audit.run(session, services.trust.latest())
    assert all(stored.get(a["index"], b"").hex() == a["leaf_hash"] for a in acknowledged)
    assert sorted(stored) == list(range(size)), "what was committed is gap-free"
    assert report.clean, report.findings
