"""The OpenAPI 3.1 document of the JSON API (issue 7), served at /api/v1/openapi.json and read at /api/v1/docs.

Each operation is one row below; `tests/verify_portal/test_openapi.py` fails when a route of the app has no
row, a row names no route, or a row's security disagrees with the route's declared access.
"""

from __future__ import annotations

from typing import Any

PROBLEM = {"description": "An RFC 9457 problem", "content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}}
OBJECT = {"type": "object"}
HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, required: bool = False, schema: dict | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "integer", "minimum": 0}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


# (method, path, access, summary, parameters, request body schema or None, {status: response})
OPERATIONS: list[tuple[str, str, str, str, list, dict | None, dict]] = [
    ("get", "/healthz", "public", "The process is up", [], None, {"200": _json(OBJECT)}),
    ("get", "/readyz", "public", "Database, blob store, chain and anchor lag ready", [], None,
     {"200": _json(OBJECT), "503": _json(OBJECT, "Not ready; the failing checks are named")}),
    ("get", "/metrics", "public", "Prometheus metrics", [], None,
     {"200": {"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
    ("get", "/api/v1/log/checkpoint", "public", "Latest signed checkpoint (C2SP note)", [_query("size")], None,
     {"200": {"description": "The note", "content": {"text/plain": {"schema": {"type": "string"}}}},
      "404": PROBLEM}),
    ("get", "/api/v1/log/publickey", "public", "The checkpoint key", [], None, {"200": _json(OBJECT)}),
    ("get", "/api/v1/log/leaves", "public", "Leaf hashes, at most 1,000",
     [_query("start", True), _query("end", True)], None, {"200": _json(OBJECT), "400": PROBLEM}),
    ("get", "/api/v1/log/proof/inclusion", "public", "Inclusion proof", [_query("index", True), _query("size")],
     None, {"200": _json(OBJECT), "400": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/log/proof/consistency", "public", "Consistency proof", [_query("from", True), _query("to")],
     None, {"200": _json(OBJECT), "400": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/log/anchors", "public", "Anchors on chain, newest first", [_query("limit"), _query("before")],
     None, {"200": _json(OBJECT)}),
    ("get", "/api/v1/log/receipt", "public", "A leaf's receipt to the newest anchor", [_query("index", True)],
     None, {"200": _json(OBJECT), "404": PROBLEM, "409": PROBLEM}),
    ("post", "/api/v1/cases", "bearer", "Open a case", [], OBJECT,
     {"201": _json(OBJECT), "400": PROBLEM, "401": PROBLEM, "403": PROBLEM}),
    ("post", "/api/v1/cases/{case_no}/transitions", "bearer", "Record a case step", [_path("case_no")], OBJECT,
     {"201": _json(OBJECT), "400": PROBLEM, "404": PROBLEM, "409": PROBLEM}),
    ("post", "/api/v1/cases/{case_no}/party-erasure", "bearer", "Erase the party's data", [_path("case_no")],
     None, {"201": _json(OBJECT), "403": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/cases/{case_no}", "bearer", "A case and its events", [_path("case_no")], None,
     {"200": _json(OBJECT), "404": PROBLEM}),
    ("get", "/api/v1/cases/{case_no}/proofs", "bearer", "Each event's inclusion proof",
     [_path("case_no"), _query("size")], None, {"200": _json(OBJECT), "404": PROBLEM}),
    ("get", "/api/v1/cases/{case_no}/receipts", "bearer", "Receipts of the case's events", [_path("case_no")],
     None, {"200": _json(OBJECT), "404": PROBLEM}),
    ("post", "/api/v1/cases/{case_no}/exports", "bearer", "The signed evidence package", [_path("case_no")],
     OBJECT, {"200": {"description": "A zipped BagIt bag", "content": {"application/zip": {
         "schema": {"type": "string", "contentMediaType": "application/zip"}}}}, "403": PROBLEM, "409": PROBLEM}),
    ("post", "/api/v1/cases/{case_no}/verification-code", "bearer", "Issue the notice's verification code",
     [_path("case_no")], None, {"201": _json(OBJECT), "403": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/cases/{case_no}/evidence", "bearer", "The case's evidence", [_path("case_no")], None,
     {"200": _json(OBJECT), "404": PROBLEM}),
    ("get", "/api/v1/cases/{case_no}/statements", "bearer", "The party's statements", [_path("case_no")], None,
     {"200": _json(OBJECT), "404": PROBLEM}),
    ("post", "/api/v1/evidence", "bearer", "Upload a file as evidence (the body is the file)", [],
     {"type": "string", "contentMediaType": "application/octet-stream"},
     {"201": _json(OBJECT), "400": PROBLEM, "413": PROBLEM, "415": PROBLEM, "422": PROBLEM, "460": PROBLEM}),
    ("options", "/api/v1/evidence/uploads", "public", "tus discovery", [], None, {"204": {"description": "tus"}}),
    ("post", "/api/v1/evidence/uploads", "bearer", "tus creation", [], None,
     {"201": {"description": "Created; Location names the upload"}, "400": PROBLEM, "412": PROBLEM}),
    ("head", "/api/v1/evidence/uploads/{upload_id}", "bearer", "tus offset", [_path("upload_id")], None,
     {"200": {"description": "Upload-Offset"}, "404": {"description": "Not found"}}),
    ("patch", "/api/v1/evidence/uploads/{upload_id}", "bearer", "tus append", [_path("upload_id")],
     {"type": "string", "contentMediaType": "application/offset+octet-stream"},
     {"204": {"description": "Upload-Offset"}, "409": PROBLEM, "460": PROBLEM}),
    ("get", "/api/v1/evidence/lookup", "public", "Where a file's SHA-256 is registered",
     [_query("sha256", True, HEX)], None, {"200": _json(OBJECT), "400": PROBLEM}),
    ("get", "/api/v1/evidence/{evidence_id}", "bearer", "An item (a view custody event)",
     [_path("evidence_id"), _query("reason", True, {"type": "string"})], None,
     {"200": _json(OBJECT), "400": PROBLEM, "403": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/evidence/{evidence_id}/content", "bearer", "The file (a download custody event)",
     [_path("evidence_id"), _query("reason", True, {"type": "string"})], None,
     {"200": {"description": "The file"}, "400": PROBLEM, "403": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/evidence/{evidence_id}/poster", "bearer", "The poster frame (a view custody event)",
     [_path("evidence_id"), _query("reason", True, {"type": "string"})], None,
     {"200": {"description": "JPEG"}, "400": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/evidence/{evidence_id}/custody", "bearer", "The custody trail", [_path("evidence_id")], None,
     {"200": _json(OBJECT), "403": PROBLEM, "404": PROBLEM}),
    ("post", "/api/v1/evidence/{evidence_id}/shares", "bearer", "Record a share with another body",
     [_path("evidence_id")], OBJECT, {"201": _json(OBJECT), "400": PROBLEM, "404": PROBLEM}),
    ("post", "/api/v1/evidence/{evidence_id}/derivations", "bearer", "A trimmed or blurred copy",
     [_path("evidence_id")], OBJECT, {"201": _json(OBJECT), "400": PROBLEM, "415": PROBLEM}),
    ("post", "/api/v1/devices", "bearer", "Register a device", [], OBJECT,
     {"201": _json(OBJECT), "400": PROBLEM, "403": PROBLEM}),
    ("post", "/api/v1/devices/{serial}/revocation", "bearer", "Revoke a device", [_path("serial")], None,
     {"200": _json(OBJECT), "403": PROBLEM, "404": PROBLEM}),
    ("get", "/api/v1/openapi.json", "public", "This document", [], None, {"200": _json(OBJECT)}),
    ("get", "/api/v1/docs", "public", "This document as a page", [], None,
     {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}),
]


def document(version: str = "1") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, access, summary, parameters, body, responses in OPERATIONS:
        operation: dict[str, Any] = {"summary": summary, "responses": responses,
                                     "security": [] if access == "public" else [{"bearer": []}]}
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            media = "application/json" if body.get("type") == "object" else body["contentMediaType"]
            operation["requestBody"] = {"required": True, "content": {media: {"schema": body}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lianzheng 链证 API", "version": version,
                 "description": "Evidence and audit ledger for city-management law enforcement. The public "
                                "verification API (DESIGN.md) needs no login; the rest takes a bearer token."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                                   "status": {"type": "integer"}, "detail": {"type": "string"}}}},
        },
    }
