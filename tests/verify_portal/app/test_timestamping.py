"""Anchored checkpoints stamped by the configured RFC 3161 authority: once each, checked before
they are kept, and named in the trust root by the authority's certificates."""

import dataclasses

import pytest

from ledger import timestamp
from tests.anchor.support import append, worker
from tests.support.tsa import TestAuthority, serving
from verify_portal.app import timestamping
from verify_portal.app.settings import WitnessSettings


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return TestAuthority(tmp_path_factory.mktemp("tsa"))


@pytest.fixture
def stamped_services(services, authority, tmp_path):
    certificates = tmp_path / "tsa.pem"
    certificates.write_text(authority.chain_pem)
    with serving(authority) as url:
        config = WitnessSettings(tsa_url=url, tsa_certificates=certificates)
        settings = dataclasses.replace(services.settings, witnesses=config)
        yield dataclasses.replace(services, settings=settings)


def test_each_anchored_checkpoint_is_stamped_once_and_the_token_verifies(
    stamped_services, target, authority
):
    services = stamped_services
    size = append(services, 4)
    assert timestamping.stamp_anchored(services) == []  # nothing anchored yet
    worker(services, target).cycle()
    assert timestamping.stamp_anchored(services) == [size]
    assert timestamping.stamp_anchored(services) == []  # once
    with services.sessions() as session:
        token = services.store.timestamp(session, size)
        note = services.store.signed_note(session, size).encode()
    assert timestamp.verify(token, note, authority.chain_pem).authority == "CN=Test TSA"


def test_the_trust_root_names_the_authority_by_its_certificates(stamped_services, authority):
    services = stamped_services
    trust_service = dataclasses.replace(services.trust, settings=services.settings)
    with services.sessions.begin() as session:
        assert trust_service.compose(session)["tsa"] == authority.chain_pem


def test_an_authority_that_stamps_with_another_certificate_is_not_kept(
    stamped_services, target, tmp_path
):
    services = stamped_services
    stranger = TestAuthority(tmp_path / "stranger", name="Stranger TSA")
    append(services, 2)
    worker(services, target).cycle()
    with serving(stranger) as url:
        config = dataclasses.replace(services.settings.witnesses, tsa_url=url)
        settings = dataclasses.replace(services.settings, witnesses=config)
        assert timestamping.stamp_anchored(dataclasses.replace(services, settings=settings)) == []
    with services.sessions() as session:
        assert services.store.timestamp(session, 2) is None
