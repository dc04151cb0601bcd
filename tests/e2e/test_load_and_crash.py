"""The production topology, two nodes behind nginx, under mixed load, then under kill -9 of web
workers, whole nodes and anchor workers (bench/load.py, shortened): nothing acknowledged is lost,
nothing anchored twice, chain = log."""

import pytest

from bench import load


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    # Kills every 1-2.5 s: the first round, one kill of each kind, waits 7.5 s at most (one round
    # more if a node had no web worker up yet), which leaves 10.5 s of the phase for a node's
    # restart and an anchor worker's pause (up to 2 s).
    return load.run(
        tmp_path_factory.mktemp("load"),
        duration=6,
        chaos_duration=18,
        users=12,
        seed=11,
        kill_every=(1.0, 2.5),
    )


def test_the_clean_load_phase_is_served_without_failures(figures):
    assert figures["load"]["requests"] > 100
    assert figures["load"]["failures"] == 0, figures["load"]["endpoints"]


def test_the_load_went_through_nginx_to_two_nodes(figures):
    assert (figures["nodes"], figures["proxy"]) == (2, "nginx")


def test_every_kind_of_process_was_killed_during_the_second_phase(figures):
    assert all(count >= 1 for count in figures["chaos"]["kills"].values()), figures["chaos"][
        "kills"
    ]


def test_every_acknowledged_write_is_in_the_log_after_the_kills(figures):
    checks = figures["checks"]
    assert checks["acknowledged_writes"] > 100
    assert checks["acknowledged_lost"] == 0, checks["lost_examples"]


def test_nothing_was_anchored_twice_and_every_record_is_a_final_anchor_on_chain(figures):
    checks = figures["checks"]
    assert checks["sizes_strictly_increasing"]
    assert (
        checks["anchor_transactions"] == checks["new_anchors"] > 0
    )  # no transaction wasted on a repeat
    assert checks["records_match_chain"] and checks["records_final"]


def test_the_audit_afterwards_finds_the_contract_consistent_with_the_log(figures):
    assert figures["checks"]["audit_clean"], figures["checks"]["audit_findings"]
