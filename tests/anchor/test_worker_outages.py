"""The chain down, several workers on one database: events still go in, anchoring resumes, one
anchors."""

import threading

import pytest

from anchor import leader
from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.models import WorkerStatus
from anchor.worker import Target
from tests.anchor.support import append, records, settle, worker


def _status(services):
    with services.sessions() as session:
        return session.get(WorkerStatus, 1)


def test_while_the_chain_is_down_events_are_accepted_and_anchored_once_it_is_back(
    services, private_anvil
):
    chain = Chain(private_anvil.url, timeout=2)
    address, block, _ = deploy(chain, development_account(0))
    target = Target(chain, AnchorContract(chain, address), development_account(0), block)
    w = worker(services, target)
    append(services, 3)
    w.cycle()

    private_anvil.stop()
    assert append(services, 4) == 7  # the log does not need the chain
    delays = [w._guarded_cycle(0.05), w._guarded_cycle(0.1)]
    assert delays == [0.1, 0.2]  # backing off
    status = _status(services)
    assert (
        status.healthy == 0
        and "unreachable" in status.last_error
        and status.chain_down_since is not None
    )

    private_anvil.start()  # same port, state reloaded from its file
    assert w._guarded_cycle(0.2) == w.policy.poll
    settle(w, chain)
    assert [r.size for r in records(services)] == [3, 7]
    assert target.contract.latest()[0] == 7
    status = _status(services)
    assert status.healthy == 1 and status.chain_down_since is None and status.last_error is None


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_of_two_workers_on_one_postgresql_exactly_one_anchors(services, target):
    locks = [leader.for_engine(services.engine), leader.for_engine(services.engine)]
    workers = [worker(services, target, leadership=lock) for lock in locks]
    cycled_by = set()
    for number, w in enumerate(workers):
        w.cycle = (lambda inner, n: lambda: (cycled_by.add(n), inner())[1])(w.cycle, number)
    append(services, 2)
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
    for t in threads:
        t.start()
    for n in (3, 4, 5):
        append(services, n)
        stop.wait(0.5)
    stop.set()
    for t in threads:
        t.join(10)
    held = [lock._conn is not None for lock in locks]
    assert held.count(True) == 0  # both released on stop
    assert len(cycled_by) == 1  # only the lock holder ever ran a cycle
    events = target.contract.anchored_events(target.deploy_block)
    assert len(events) >= 2 and len({e.size for e in events}) == len(
        events
    )  # anchored, no size twice
    assert [r.size for r in records(services)] == [e.size for e in events]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_advisory_lock_passes_to_the_second_worker_when_the_first_lets_go(services):
    first, second = leader.for_engine(services.engine), leader.for_engine(services.engine)
    assert first.acquire() and first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_on_sqlite_a_lock_file_beside_the_database_lets_one_worker_in(tmp_path):
    from ledger.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lz.db'}")
    first, second = leader.for_engine(engine), leader.for_engine(engine)
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_pause_waits_for_the_running_cycle_and_holds_the_next_until_released(services):
    lock = leader.for_engine(services.engine)
    assert lock.acquire()
    timeline = []
    paused = threading.Event()

    def backup():
        with leader.pause(services.engine):
            timeline.append("paused")
            paused.set()
            threading.Event().wait(0.5)
            timeline.append("resumed")

    with lock.cycle():
        thread = threading.Thread(target=backup)
        thread.start()
        threading.Event().wait(0.3)
        timeline.append("first cycle ends")
    assert paused.wait(10)
    with lock.cycle():
        timeline.append("second cycle")
    thread.join(10)
    lock.release()
    assert timeline == ["first cycle ends", "paused", "resumed", "second cycle"]
