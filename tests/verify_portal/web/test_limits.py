"""Which requests the rate limiter looks at (verify_portal/web/limits.py)."""

import re

import pytest

from verify_portal.web import limits


def _request_to(app, endpoint):  # type: ignore[no-untyped-def]
    """A request context for `endpoint`: its URL, each variable part filled in, and a method it
    takes."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return app.test_request_context(re.sub(r"<[^>]+>", "x", rule.rule), method=method)


@pytest.mark.parametrize("endpoint", sorted(limits.RULES))
def test_every_endpoint_with_a_limit_is_looked_at_by_the_limiter(app, endpoint):
    with _request_to(app, endpoint):
        assert not limits._unlimited()  # noqa: SLF001 - the limiter's own filter


@pytest.mark.parametrize("endpoint", ["cases.create", "log.publickey", "evidence.upload"])
def test_endpoints_without_a_limit_skip_the_limiter(app, endpoint):
    with _request_to(app, endpoint):
        assert limits._unlimited()  # noqa: SLF001 - the limiter's own filter
