"""Errors as RFC 9457 problem documents: the one place domain errors meet HTTP statuses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from anchor.errors import ChainUnavailable, NotAnchoredYet
from evidence import errors as evidence_errors
from ledger import errors
from verify_portal.app.citizens import LookupRefused
from verify_portal.app.export import ExportRefused
from verify_portal.web.pages.home import error_page, wants_page

log = logging.getLogger(__name__)

PROBLEM_TYPE = "urn:lianzheng:problem:"

STATUS: dict[type[errors.LianzhengError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.IllegalTransition: 409,
    errors.IdempotencyConflict: 422,
    errors.StoredStateMismatch: 409,
    ExportRefused: 409,
    errors.VerificationError: 422,
    errors.ConfigurationError: 500,
    NotAnchoredYet: 409,
    ChainUnavailable: 503,
    errors.CheckIncomplete: 503,
    evidence_errors.TooLarge: 413,
    evidence_errors.UnsupportedMedia: 415,
    evidence_errors.ChecksumMismatch: 460,  # tus checksum extension's status
    evidence_errors.OffsetConflict: 409,
    evidence_errors.DeviceRefused: 422,
    evidence_errors.TamperedBlob: 500,
    evidence_errors.TusVersionMismatch: 412,
    evidence_errors.Purged: 410,
    evidence_errors.HoldConflict: 409,
    LookupRefused: 404,
}


def status_of(exc: errors.LianzhengError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem(status: int, code: str, title: str, detail: str, **extra: object) -> Response:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lianzheng"'
    return response


def register(app: Flask) -> None:
    """Turn every error into a problem+json answer."""

    @app.errorhandler(errors.LianzhengError)
    def _domain(exc: errors.LianzhengError) -> Response:
        status = status_of(exc)
        if wants_page():  # a page the service refused: said as a page, JSON stays for machines
            return error_page(status, exc.message)
        return problem(status, exc.code, type(exc).__name__, exc.message, **exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if isinstance(
            exc.response, Response
        ):  # a page made for it (a rate limit's "too many attempts")
            return exc.response
        if wants_page():  # a person's browser: a page in their language, JSON stays for machines
            return error_page(exc.code or 500)
        code = (exc.name or "error").lower().replace(" ", "-")
        return problem(exc.code or 500, code, exc.name or "Error", exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        if wants_page():
            return error_page(500)
        return problem(
            500, "internal", "Internal Server Error", "the server failed; nothing was acknowledged"
        )
