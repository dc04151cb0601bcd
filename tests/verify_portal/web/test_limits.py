"""Which requests the rate limiter looks at (verify_portal/web/limits.py)."""

import re

import pytest

from verify_portal.web import limits


def _path(app, endpoint):  # type: ignore[no-untyped-def]
    """A URL of `endpoint`, each variable part filled in."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule, re.sub(r"<[^>]+>", "x", rule.rule)


@pytest.mark.parametrize("endpoint", sorted(limits.RULES))
def test_every_endpoint_with_a_limit_is_looked_at_by_the_limiter(app, endpoint):
    rule, path = _path(app, endpoint)
    with app.test_request_context(path, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0]):
        assert not limits._unlimited()  # noqa: SLF001 - the limiter's own filter


@pytest.mark.parametrize("endpoint", ["cases.create", "log.publickey", "evidence.upload"])
def test_endpoints_without_a_limit_skip_the_limiter(app, endpoint):
    rule, path = _path(app, endpoint)
    with app.test_request_context(path, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0]):
        assert limits._unlimited()  # noqa: SLF001 - the limiter's own filter
