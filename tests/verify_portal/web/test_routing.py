"""The app's URL rules compile their builders on first use (verify_portal/web/routing.py): every
URL they build must be the one werkzeug's own rules build."""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import Map, Rule

# A value for each kind of argument the routes take, with characters that need quoting.
SAMPLES = {"index": 7, "kind": "pdf", "filename": "js/a b.js"}
ANY_OTHER = "CG-2026/案件 1"


def _values(rule: Rule) -> dict[str, object]:
    return {name: SAMPLES.get(name, ANY_OTHER) for name in rule.arguments}


def _eager_copy(rules: list[Rule]) -> Map:
    return Map([Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in rules])


@pytest.mark.parametrize("append_unknown", [True, False])
def test_every_route_builds_the_url_werkzeugs_own_rule_builds(app, append_unknown):
    rules = list(app.url_map.iter_rules())
    ours, theirs = app.url_map.bind("portal.test"), _eager_copy(rules).bind("portal.test")
    extra = {"lang": "zh", "q": "a&b"} if append_unknown else {}
    for rule in rules:
        values = {**_values(rule), **extra}
        method = sorted(rule.methods or {"GET"})[0]
        built = ours.build(rule.endpoint, values, method=method, append_unknown=append_unknown)
        expected = theirs.build(rule.endpoint, values, method=method, append_unknown=append_unknown)
        assert built == expected, rule.rule


def test_url_for_builds_a_quoted_url_with_its_query(app):
    with app.test_request_context():
        url = url_for("staff.case_view", case_no="CG 1?#", lang="zh")
    assert url == "/staff/cases/CG%201%3F%23?lang=zh"
