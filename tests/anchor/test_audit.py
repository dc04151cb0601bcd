"""The audit's chain part: a log rewritten after anchoring is caught by the roots on chain."""

import dataclasses

from anchor import audit
from anchor.account import development_account
from anchor.contract import AnchorContract, deploy
from anchor.models import AnchorRecord
from anchor.worker import Target
from ledger.audit import AuditReport
from tests.anchor.support import append, worker
from verify_portal.app.services import build, migrate


def _other_database(services, tmp_path):
    """Another database with the same keys: what a rewrite or an old backup would look like."""
    other = build(
        dataclasses.replace(services.settings, database_url=f"sqlite:///{tmp_path / 'other.db'}")
    )
    migrate(other.engine)
    return other


def _fresh_contract(target):
    return AnchorContract(target.chain, deploy(target.chain, development_account(0))[0])


def _compare(services, target):
    report = AuditReport()
    with services.sessions() as session:
        audit.compare(session, services.store, target.contract, target.deploy_block, report)
    return report


def test_an_anchored_log_agrees_with_the_chain(services, target):
    w = worker(services, target)
    for n in (3, 4):
        append(services, n)
        w.cycle()
    report = _compare(services, target)
    assert report.clean and report.anchors == 2


def test_a_log_rewritten_and_re_signed_after_anchoring_is_named(services, target, tmp_path):
    append(services, 5)
    worker(services, target).cycle()
    # The same deployment's key, a different history of the same size: internally it audits clean.
    rewritten = _other_database(services, tmp_path)
    append(rewritten, 5)
    report = _compare(rewritten, target)
    assert [f.where for f in report.findings][:1] == [
        f"anchor at size 5 (block {target.chain.latest_number()})"
    ]
    assert "changed after it was anchored" in report.findings[0].problem


def test_an_anchor_beyond_the_log_names_missing_events(services, target, tmp_path):
    append(services, 4)
    worker(services, target).cycle()
    restored = _other_database(
        services, tmp_path
    )  # e.g. restored from a backup older than the anchor
    append(restored, 2)
    report = _compare(restored, target)
    assert (
        len(report.findings) == 1
        and "acknowledged events are missing" in report.findings[0].problem
    )


def test_a_record_of_an_anchor_the_chain_lacks_is_named(services, target):
    append(services, 3)
    worker(services, target).cycle()
    other = Target(target.chain, _fresh_contract(target), target.account, target.deploy_block)
    with services.sessions.begin() as session:  # point the record at a contract that never saw it
        session.execute(AnchorRecord.__table__.update().values(contract=other.contract.address))
    report = _compare(services, other)
    assert [f.where for f in report.findings] == ["anchor record of size 3"]
