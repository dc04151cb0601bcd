"""How long the supervisor of the anchor worker (and of the demo witness) waits before it starts
again a process that exited."""

from verify_portal.app.anchoring import RESTART_FIRST, RESTART_MOST, STEADY_RUN, restart_delay


def test_a_process_that_ran_steadily_is_started_again_within_a_second():
    assert restart_delay(0.0, ran_for=3600) == RESTART_FIRST == 1.0
    assert restart_delay(32.0, ran_for=STEADY_RUN) == RESTART_FIRST


def test_the_first_exit_waits_a_second_even_after_a_short_run():
    assert restart_delay(0.0, ran_for=0.1) == RESTART_FIRST


def test_a_process_that_keeps_failing_at_once_waits_twice_as_long_each_time_up_to_a_minute():
    delays, delay = [], 0.0
    for _ in range(9):
        delay = restart_delay(delay, ran_for=0.5)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert RESTART_MOST == 60.0
