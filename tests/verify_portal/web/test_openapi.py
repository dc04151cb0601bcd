"""The OpenAPI document stays true: every JSON API route has its operation, no operation names a
missing route, and each operation's security is the route's declared access."""

import re

from verify_portal.web import openapi

OPS_PATHS = ("/healthz", "/readyz", "/metrics")


def _routes(app):
    """(method, OpenAPI path) -> declared access, for the JSON API and the operations endpoints."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in OPS_PATHS):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        access = app.view_functions[rule.endpoint].access
        methods = rule.methods - {"HEAD", "OPTIONS"} or {"OPTIONS"}
        if rule.rule == "/api/v1/evidence/uploads/<upload_id>" and not methods - {"OPTIONS"}:
            methods = {"HEAD"}
        for method in methods:
            routes[(method.lower(), path)] = access
    return routes


def test_every_route_has_its_operation_and_every_operation_its_route(app):
    routes = _routes(app)
    documented = {(m, p): a for m, p, a, *_ in openapi.OPERATIONS}
    assert set(routes) == set(documented), set(routes) ^ set(documented)


def test_each_operations_security_is_the_routes_declared_access(app):
    routes = _routes(app)
    for (method, path), access in routes.items():
        security = openapi.document()["paths"][path][method]["security"]
        assert (security == []) is (access == "public"), f"{method} {path}"


def test_the_document_and_its_page_are_served(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0" and "/api/v1/cases/{case_no}/transitions" in doc["paths"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/log/proof/inclusion" in page and "openapi.json" in page
