"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json and read at
/api/v1/docs.

Each operation is one row below; `tests/verify_portal/web/test_openapi.py` fails when a route of the
app has no row, a row names no route, or a row's security disagrees with the route's declared
access."""

from __future__ import annotations

from typing import Any

from evidence.projection import GAP_REASONS
from evidence.retention import HOLD_REASONS, LIFT_REASONS
from evidence.service import CUSTODY_REASONS
from ledger.lifecycle import State

PROBLEM = {
    "description": "An RFC 9457 problem",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
OBJECT = {"type": "object"}
HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
INT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"], "minimum": 0}
TX = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these required properties (and these optional ones); others allowed (additions
    to the API stay compatible)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


# The shapes of the answers (DESIGN.md: Public verification API; README: API).
SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": _obj({"type": STR, "title": STR, "status": {"type": "integer"}, "detail": STR}),
    "Head": _obj({"size": INT, "root": HEX}),
    "Event": _obj(
        {
            "v": {"type": "integer"},
            "type": STR,
            "case_no": STR,
            "seq": INT,
            "actor": STR,
            "time": STR,
            "prev": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
            "payload": OBJECT,
        }
    ),
    "Written": _obj(
        {
            "case_no": STR,
            "state": STR,
            "index": INT,
            "leaf_hash": HEX,
            "event": _ref("Event"),
            "checkpoint": _ref("Head"),
        }
    ),
    "LoggedEvent": _obj({"index": INT, "leaf_hash": HEX, "event": _ref("Event")}),
    "Case": _obj(
        {
            "case_no": STR,
            "state": STR,
            "state_zh": STR,
            "violation_type": STR,
            "district": STR,
            "source": STR,
            "outcome": NULLABLE_STR,
            "amount_fen": NULLABLE_INT,
            "party": {"type": ["object", "null"]},
            "events": _list(_ref("LoggedEvent")),
            "integrity": _obj({"consistent": BOOL, "disagreements": _list(STR)}),
        }
    ),
    "Anchor": _obj(
        {
            "size": INT,
            "root": HEX,
            "tx_hash": TX,
            "block_number": NULLABLE_INT,
            "block_hash": {"type": ["string", "null"], "pattern": "^0x[0-9a-f]{64}$"},
            "final": BOOL,
        }
    ),
    "Receipt": _obj(
        {
            "format": STR,
            "log": _obj({"origin": STR, "trust_root": NULLABLE_STR}),
            "leaf_index": INT,
            "leaf_hash": HEX,
            "inclusion": _obj({"size": INT, "root": HEX, "proof": _list(HEX)}),
            "checkpoint": STR,
            "anchor": _obj(
                {
                    "chain_id": INT,
                    "contract": STR,
                    "size": INT,
                    "root": HEX,
                    "tx_hash": TX,
                    "final": BOOL,
                }
            ),
        },
        {"event": OBJECT},
    ),
    "TrustRoot": _obj(
        {
            "format": {"const": "lianzheng-trust/1"},
            "agency": STR,
            "log_origin": STR,
            "checkpoint_keys": _list(OBJECT),
            "package_keys": _list(OBJECT),
            "chain": {"type": ["object", "null"]},
            "witnesses": _list(OBJECT),
            "witness_quorum": INT,
            "tsa": NULLABLE_STR,
            "require_chain_check": BOOL,
        },
        {"replaces": HEX, "signatures": _list(OBJECT)},
    ),
    "Evidence": _obj(
        {
            "evidence_id": STR,
            "case_no": STR,
            "sha256": HEX,
            "size": INT,
            "media_type": STR,
            "officer": NULLABLE_STR,
            "device": NULLABLE_STR,
            "device_signed": BOOL,
            "captured_at": STR,
            "registered_at": STR,
            "late": BOOL,
            "media": OBJECT,
            "continuity": NULLABLE_STR,
            "derived_from": NULLABLE_STR,
            "operation": {"type": ["object", "null"]},
            "poster": BOOL,
            "leaf_index": INT,
        }
    ),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, required: bool = False, schema: dict | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "integer", "minimum": 0},
    }


def _path(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    }


REASON = {"enum": list(CUSTODY_REASONS)}
# A legal hold set or lifted: refused when the item is held already or not (409), purged (410).
HOLD_ANSWERS = {
    "201": _json(_ref("Written")),
    "400": PROBLEM,
    "403": PROBLEM,
    "404": PROBLEM,
    "409": PROBLEM,
    "410": PROBLEM,
}
OPEN_CASE = _obj(
    {
        "source": {"enum": ["patrol", "camera", "hotline-12345", "hotline-12319", "citizen"]},
        "violation_type": STR,
        "district": STR,
    },
    {"party": OBJECT},
)
STEP = _obj(
    {"to": {"enum": [state.value for state in State]}}, {"payload": OBJECT, "party": OBJECT}
)
READY = _obj({"ready": BOOL, "checks": {"type": "object", "additionalProperties": STR}})

# (method, path, access, summary, parameters, request body schema or None, {status: response})
OPERATIONS: list[tuple[str, str, str, str, list, dict | None, dict]] = [
    (
        "get",
        "/healthz",
        "public",
        "The process is up",
        [],
        None,
        {"200": _json(_obj({"status": STR}))},
    ),
    (
        "get",
        "/readyz",
        "public",
        "Database, blob store, chain and anchor lag ready",
        [],
        None,
        {"200": _json(READY), "503": _json(READY, "Not ready; the failing checks are named")},
    ),
    (
        "get",
        "/metrics",
        "public",
        "Prometheus metrics",
        [],
        None,
        {
            "200": {
                "description": "Prometheus text",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    ),
    (
        "get",
        "/api/v1/log/checkpoint",
        "public",
        "Latest signed checkpoint (C2SP note)",
        [_query("size")],
        None,
        {
            "200": {
                "description": "The note",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/log/publickey",
        "public",
        "The checkpoint key",
        [],
        None,
        {"200": _json(_obj({"origin": STR, "key_id": STR, "algorithm": STR, "public_key": STR}))},
    ),
    (
        "get",
        "/api/v1/log/leaves",
        "public",
        "Leaf hashes, at most 1,000",
        [_query("start", True), _query("end", True)],
        None,
        {
            "200": _json(_obj({"leaves": _list(_obj({"index": INT, "leaf_hash": HEX}))})),
            "400": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/log/proof/inclusion",
        "public",
        "Inclusion proof",
        [_query("index", True), _query("size")],
        None,
        {
            "200": _json(
                _obj(
                    {"index": INT, "size": INT, "leaf_hash": HEX, "root": HEX, "proof": _list(HEX)}
                )
            ),
            "400": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/log/proof/consistency",
        "public",
        "Consistency proof",
        [_query("from", True), _query("to")],
        None,
        {
            "200": _json(
                _obj(
                    {"from": INT, "to": INT, "root_from": HEX, "root_to": HEX, "proof": _list(HEX)}
                )
            ),
            "400": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/log/anchors",
        "public",
        "Anchors on chain, newest first",
        [_query("limit"), _query("before")],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "chain_id": NULLABLE_INT,
                        "contract": NULLABLE_STR,
                        "anchors": _list(_ref("Anchor")),
                    }
                )
            )
        },
    ),
    (
        "get",
        "/api/v1/log/receipt",
        "public",
        "A leaf's receipt, pinned to the first anchor that covered it",
        [_query("index", True)],
        None,
        {"200": _json(_ref("Receipt")), "404": PROBLEM, "409": PROBLEM},
    ),
    (
        "get",
        "/api/v1/trust",
        "public",
        "The deployment's current trust root",
        [],
        None,
        {"200": _json(_ref("TrustRoot"))},
    ),
    (
        "get",
        "/api/v1/trust/history",
        "public",
        "Every published trust root, oldest first",
        [],
        None,
        {"200": _json(_obj({"roots": _list(_ref("TrustRoot"))}))},
    ),
    (
        "post",
        "/api/v1/cases",
        "bearer",
        "Open a case",
        [],
        OPEN_CASE,
        {"201": _json(_ref("Written")), "400": PROBLEM, "401": PROBLEM, "403": PROBLEM},
    ),
    (
        "post",
        "/api/v1/cases/{case_no}/transitions",
        "bearer",
        "Record a case step",
        [_path("case_no")],
        STEP,
        {"201": _json(_ref("Written")), "400": PROBLEM, "404": PROBLEM, "409": PROBLEM},
    ),
    (
        "post",
        "/api/v1/cases/{case_no}/party-erasure",
        "bearer",
        "Erase the party's data",
        [_path("case_no")],
        None,
        {"201": _json(_ref("Written")), "403": PROBLEM, "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/cases/{case_no}",
        "bearer",
        "A case and its events",
        [_path("case_no")],
        None,
        {"200": _json(_ref("Case")), "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/cases/{case_no}/proofs",
        "bearer",
        "Each event's inclusion proof",
        [_path("case_no"), _query("size")],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "case_no": STR,
                        "size": INT,
                        "root": HEX,
                        "checkpoint": STR,
                        "events": _list(
                            _obj({"index": INT, "leaf_hash": HEX, "proof": _list(HEX)})
                        ),
                    }
                )
            ),
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/cases/{case_no}/receipts",
        "bearer",
        "Receipts of the case's events",
        [_path("case_no")],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "case_no": STR,
                        "receipts": _list(_ref("Receipt")),
                        "not_yet_anchored": _list(INT),
                    }
                )
            ),
            "404": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/cases/{case_no}/exports",
        "bearer",
        "The signed evidence package",
        [_path("case_no")],
        _obj({}, {"reason": REASON}),
        {
            "200": {
                "description": "A zipped BagIt bag",
                "content": {
                    "application/zip": {
                        "schema": {"type": "string", "contentMediaType": "application/zip"}
                    }
                },
            },
            "403": PROBLEM,
            "409": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/cases/{case_no}/verification-code",
        "bearer",
        "Issue the notice's verification code (format=pdf: the printable notice itself)",
        [
            _path("case_no"),
            _query("format", False, {"type": "string", "enum": ["json", "pdf"]}),
            _query("lang", False, {"type": "string", "enum": ["zh", "en"]}),
        ],
        None,
        {
            "201": {
                "description": "The code, its link and QR code; or the notice as a PDF",
                "content": {
                    "application/json": {
                        "schema": _obj(
                            {
                                "case_no": STR,
                                "code": STR,
                                "link": STR,
                                "qr_svg": STR,
                                "trust_fingerprint": HEX,
                                "notice_svg": STR,
                            }
                        )
                    },
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "403": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/cases/{case_no}/evidence",
        "bearer",
        "The case's evidence",
        [_path("case_no")],
        None,
        {"200": _json(_obj({"case_no": STR, "evidence": _list(_ref("Evidence"))})), "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/cases/{case_no}/statements",
        "bearer",
        "The party's statements",
        [_path("case_no")],
        None,
        {"200": _json(_obj({"case_no": STR, "statements": _list(OBJECT)})), "404": PROBLEM},
    ),
    (
        "post",
        "/api/v1/evidence",
        "bearer",
        "Upload a file as evidence (the body is the file)",
        [],
        {"type": "string", "contentMediaType": "application/octet-stream"},
        {
            "201": _json({"allOf": [_ref("Written"), _obj({"evidence": _ref("Evidence")})]}),
            "400": PROBLEM,
            "413": PROBLEM,
            "415": PROBLEM,
            "422": PROBLEM,
            "460": PROBLEM,
        },
    ),
    (
        "options",
        "/api/v1/evidence/uploads",
        "public",
        "tus discovery",
        [],
        None,
        {"204": {"description": "tus"}},
    ),
    (
        "post",
        "/api/v1/evidence/uploads",
        "bearer",
        "tus creation",
        [],
        None,
        {
            "201": {"description": "Created; Location names the upload"},
            "400": PROBLEM,
            "412": PROBLEM,
        },
    ),
    (
        "head",
        "/api/v1/evidence/uploads/{upload_id}",
        "bearer",
        "tus offset",
        [_path("upload_id")],
        None,
        {"200": {"description": "Upload-Offset"}, "404": {"description": "Not found"}},
    ),
    (
        "patch",
        "/api/v1/evidence/uploads/{upload_id}",
        "bearer",
        "tus append",
        [_path("upload_id")],
        {"type": "string", "contentMediaType": "application/offset+octet-stream"},
        {"204": {"description": "Upload-Offset"}, "409": PROBLEM, "460": PROBLEM},
    ),
    (
        "get",
        "/api/v1/evidence/lookup",
        "public",
        "Where a file's SHA-256 is registered",
        [_query("sha256", True, HEX)],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "sha256": HEX,
                        "registrations": _list(
                            _obj(
                                {
                                    "evidence_id": STR,
                                    "case_no": STR,
                                    "media_type": STR,
                                    "registered_at": STR,
                                    "leaf_index": INT,
                                    "anchor": {"type": ["object", "null"]},
                                }
                            )
                        ),
                    }
                )
            ),
            "400": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/evidence/{evidence_id}",
        "bearer",
        "An item (a view custody event)",
        [_path("evidence_id"), _query("reason", True, {"type": "string"})],
        None,
        {"200": _json(_ref("Evidence")), "400": PROBLEM, "403": PROBLEM, "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/evidence/{evidence_id}/content",
        "bearer",
        "The file (a download custody event)",
        [_path("evidence_id"), _query("reason", True, {"type": "string"})],
        None,
        {"200": {"description": "The file"}, "400": PROBLEM, "403": PROBLEM, "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/evidence/{evidence_id}/poster",
        "bearer",
        "The poster frame (a view custody event)",
        [_path("evidence_id"), _query("reason", True, {"type": "string"})],
        None,
        {"200": {"description": "JPEG"}, "400": PROBLEM, "404": PROBLEM},
    ),
    (
        "get",
        "/api/v1/evidence/{evidence_id}/custody",
        "bearer",
        "The custody trail",
        [_path("evidence_id")],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "evidence_id": STR,
                        "custody": _list(
                            _obj({"index": INT, "type": STR, "actor": STR, "time": STR})
                        ),
                    }
                )
            ),
            "403": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/evidence/{evidence_id}/shares",
        "bearer",
        "Record a share with another body",
        [_path("evidence_id")],
        _obj({"recipient": STR, "reason": REASON}),
        {
            "201": _json(_obj({"evidence_id": STR, "action": STR, "recipient": STR})),
            "400": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/evidence/{evidence_id}/derivations",
        "bearer",
        "A trimmed or blurred copy",
        [_path("evidence_id")],
        _obj({"operation": OBJECT}),
        {
            "201": _json({"allOf": [_ref("Written"), _obj({"evidence": _ref("Evidence")})]}),
            "400": PROBLEM,
            "415": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/evidence/{evidence_id}/gap-acknowledgements",
        "bearer",
        "Acknowledge a known gap in a device's recordings",
        [_path("evidence_id")],
        _obj({"reason": {"enum": list(GAP_REASONS)}}),
        {"201": _json(OBJECT), "400": PROBLEM, "404": PROBLEM},
    ),
    (
        "put",
        "/api/v1/evidence/{evidence_id}/legal-hold",
        "bearer",
        "Put the item under a legal hold (the legal role)",
        [_path("evidence_id")],
        _obj({"reason": {"enum": list(HOLD_REASONS)}}),
        HOLD_ANSWERS,
    ),
    (
        "delete",
        "/api/v1/evidence/{evidence_id}/legal-hold",
        "bearer",
        "Lift the legal hold on the item (the legal role)",
        [_path("evidence_id"), _query("reason", True, {"enum": list(LIFT_REASONS)})],
        None,
        HOLD_ANSWERS,
    ),
    (
        "get",
        "/api/v1/recipients",
        "bearer",
        "The bodies evidence may be handed to",
        [],
        None,
        {"200": _json(_obj({"recipients": _list(_obj({"id": STR, "name": STR}))}))},
    ),
    (
        "post",
        "/api/v1/recipients",
        "bearer",
        "Register a body evidence may be handed to",
        [],
        _obj({"id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"}, "name": STR}),
        {"201": _json(_obj({"id": STR, "name": STR})), "400": PROBLEM},
    ),
    (
        "post",
        "/api/v1/devices",
        "bearer",
        "Register a device",
        [],
        _obj(
            {"serial": STR, "kind": {"enum": ["bodycam", "camera"]}, "unit": STR, "public_key": STR}
        ),
        {
            "201": _json(
                _obj({"serial": STR, "kind": STR, "unit": STR, "status": STR, "algorithm": STR})
            ),
            "400": PROBLEM,
            "403": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/devices/{serial}/revocation",
        "bearer",
        "Revoke a device",
        [_path("serial")],
        None,
        {"200": _json(_obj({"serial": STR, "status": STR})), "403": PROBLEM, "404": PROBLEM},
    ),
    (
        "post",
        "/api/v1/devices/{serial}/issue",
        "bearer",
        "Hand a bodycam to an officer",
        [_path("serial")],
        _obj({"officer": STR}),
        {
            "201": _json(_obj({"serial": STR, "issued_to": STR})),
            "400": PROBLEM,
            "403": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/devices/{serial}",
        "bearer",
        "A recorder's identity, for a docking station",
        [_path("serial")],
        None,
        {
            "200": _json(
                _obj(
                    {"serial": STR, "kind": STR, "status": STR},
                    {"issued_to": {"type": ["string", "null"]}},
                )
            ),
            "403": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "get",
        "/api/v1/intake/{evidence_id}",
        "bearer",
        "What the log registered for a file a docking station ingested",
        [_path("evidence_id")],
        None,
        {
            "200": _json(
                _obj(
                    {
                        "evidence_id": STR,
                        "sha256": HEX,
                        "size": INT,
                        "device": STR,
                        "captured_at": STR,
                        "leaf_index": INT,
                    },
                    {"sm3": {"type": ["string", "null"]}},
                )
            ),
            "403": PROBLEM,
            "404": PROBLEM,
        },
    ),
    (
        "post",
        "/api/v1/intake/reports",
        "bearer",
        "Log a docking station's shift report (its hash and counts)",
        [],
        _obj(
            {
                "report_sha256": HEX,
                "started_at": STR,
                "ended_at": STR,
                "recorders": INT,
                "files": INT,
                "bytes": INT,
                "kept": INT,
            }
        ),
        {"201": _json(OBJECT), "400": PROBLEM, "403": PROBLEM},
    ),
    (
        "get",
        "/api/v1/intake",
        "bearer",
        "Docked footage no case holds yet, with the cases proposed for each",
        [],
        None,
        {"200": _json(_obj({"unlinked": _list(OBJECT)})), "403": PROBLEM},
    ),
    (
        "post",
        "/api/v1/intake/{evidence_id}/link",
        "bearer",
        "Link docked footage to its case (a case event)",
        [_path("evidence_id")],
        _obj({"case_no": STR}),
        {"201": _json(OBJECT), "400": PROBLEM, "403": PROBLEM, "404": PROBLEM, "409": PROBLEM},
    ),
    (
        "post",
        "/api/v1/intake/{evidence_id}/decline",
        "bearer",
        "Decline a proposed link of docked footage to a case (a case event)",
        [_path("evidence_id")],
        _obj({"case_no": STR}),
        {"201": _json(OBJECT), "400": PROBLEM, "403": PROBLEM, "404": PROBLEM, "409": PROBLEM},
    ),
    ("get", "/api/v1/openapi.json", "public", "This document", [], None, {"200": _json(OBJECT)}),
    (
        "get",
        "/api/v1/docs",
        "public",
        "This document as a page",
        [],
        None,
        {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
    ),
]


def _common(
    method: str, path: str, access: str, parameters: list, body: dict | None
) -> dict[str, Any]:
    """The refusals any operation of its kind can answer (verify_portal/web/problems.py maps
    them)."""
    common: dict[str, Any] = {}
    if parameters or body is not None:
        common["400"] = PROBLEM  # malformed parameter or body
    if parameters:  # gunicorn refuses a request line over 4,094 bytes before the service sees it
        common["414"] = {
            "description": "URI too long, refused by the HTTP server",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    if access != "public":
        common |= {"401": PROBLEM, "403": PROBLEM}  # no or unknown token; a role that may not
    if "{" in path:
        common["404"] = PROBLEM
    if body is not None:
        common["413"] = PROBLEM  # larger than the limit
    if path.startswith("/api/v1/evidence/uploads") and method != "options":
        common["412"] = PROBLEM  # tus: Tus-Resumable missing or another version
    if method == "patch":
        common["415"] = PROBLEM  # tus: not application/offset+octet-stream
    return common


def document(version: str = "1") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, access, summary, parameters, body, responses in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {**_common(method, path, access, parameters, body), **responses},
            "security": [] if access == "public" else [{"bearer": []}],
        }
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            media = "application/json" if body.get("type") == "object" else body["contentMediaType"]
            operation["requestBody"] = {"required": True, "content": {media: {"schema": body}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lianzheng 链证 API",
            "version": version,
            "description": "Evidence and audit ledger for city-management law enforcement. The "
            "public verification API (DESIGN.md) needs no login; the rest takes a bearer token.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }
