"""Process helpers: a child's end is seen whoever reaps it; a tied child ends with its parent."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ledger.processes import SUPERVISOR_PID, parent_is_gone, running, wait_for_exit


def test_the_exit_code_of_a_child_is_returned_and_kept_on_it():
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert wait_for_exit(child, threading.Event(), every=0.01) == 3
    assert child.returncode == 3


def test_a_child_reaped_by_another_waiter_is_seen_as_ended_not_waited_for_forever():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitpid(child.pid, 0)  # as gunicorn's arbiter does for every child of the server
    assert wait_for_exit(child, threading.Event(), every=0.01) is None


def test_waiting_ends_when_asked_to_stop():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    try:
        assert wait_for_exit(child, stop, every=0.01) is None
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_a_tied_child_ends_when_the_process_that_started_it_is_killed():
    # A middle process starts a tied grandchild, prints its pid, then is killed.
    script = (
        "import subprocess, sys\nfrom ledger.processes import tied\n"
        "p = subprocess.Popen(tied([sys.executable, '-c', 'import time; time.sleep(60)']))\n"
        "print(p.pid, flush=True)\nimport time; time.sleep(60)\n"
    )
    middle = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    grandchild = int(middle.stdout.readline())
    # Tied once setpriv has run and exec'd the command (a parent killed sooner: see parent_is_gone).
    # Until
    # then the child's command line is the middle process's (forked, not yet exec'd) or setpriv's.
    final = b"\0".join([sys.executable.encode(), b"-c", b"import time; time.sleep(60)"]) + b"\0"
    while Path(f"/proc/{grandchild}/cmdline").read_bytes() != final:
        time.sleep(0.01)
    middle.kill()
    middle.wait()
    deadline = time.monotonic() + 30
    while running(grandchild):
        assert time.monotonic() < deadline, "the tied child outlived its parent"
        time.sleep(0.05)


def test_a_child_knows_when_the_process_that_should_be_its_parent_is_gone():
    ask = [
        sys.executable,
        "-c",
        "from ledger.processes import parent_is_gone; print(parent_is_gone())",
    ]
    ours = subprocess.run(
        ask, env={**os.environ, SUPERVISOR_PID: str(os.getpid())}, capture_output=True, text=True
    )
    assert ours.stdout.strip() == "False", ours.stderr
    gone = subprocess.run(
        ask, env={**os.environ, SUPERVISOR_PID: "1"}, capture_output=True, text=True
    )
    assert gone.stdout.strip() == "True", gone.stderr
    assert not parent_is_gone()  # nothing named: a process started by hand has no such parent


# The child holds the Event's own lock when the signals come, as the anchor worker's main thread did
# inside `stop.wait` when its supervisor's SIGTERM and the parent-death SIGTERM arrived together: a
# handler that called `stop.set()` there waited on that lock forever.
_SIGNALLED_WHILE_WAITING = """
import os, signal, sys
from ledger.processes import stop_on_signals
stop = stop_on_signals()
with stop._cond:
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGINT)
if not stop.wait(10):
    sys.exit("the stop event was never set")
"""


def test_signals_that_arrive_while_the_stop_event_is_locked_still_set_it_and_never_hang():
    done = subprocess.run(
        [sys.executable, "-c", _SIGNALLED_WHILE_WAITING], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr


def test_a_signal_not_asked_for_does_not_set_the_stop_event():
    script = (
        "import os, signal\nfrom ledger.processes import stop_on_signals\n"
        "stop = stop_on_signals((signal.SIGTERM,))\n"
        "signal.signal(signal.SIGUSR1, lambda *_: None)\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\n"
        "assert not stop.wait(0.5), 'set by SIGUSR1'\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "assert stop.wait(10), 'not set by SIGTERM'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr


def test_a_fork_waits_while_another_thread_spawns_a_child_so_it_cannot_take_its_exec_pipe():
    import os
    import threading

    from ledger import processes

    forked = []

    def fork_as_gunicorn_does():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        forked.append(pid)

    with processes._SPAWNING:  # as spawn holds it while a child is on its way to exec
        forking = threading.Thread(target=fork_as_gunicorn_does)
        forking.start()
        forking.join(0.5)
        assert forking.is_alive() and forked == []  # the fork waits for the spawn to finish
    forking.join(30)
    assert len(forked) == 1


def test_spawn_starts_the_command_with_its_environment(tmp_path):
    import sys

    from ledger.processes import spawn

    out = tmp_path / "out"
    with open(out, "wb") as output:
        child = spawn(
            [sys.executable, "-c", "import os; print(os.environ['ANSWER'])"],
            {"ANSWER": "42", "PATH": "/usr/bin:/bin"},
            output,
        )
        assert child.wait(60) == 0
    assert out.read_text().strip() == "42"
