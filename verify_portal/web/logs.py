"""Structured logs: one JSON object per line, each carrying the request id.

The request id comes from the `X-Request-Id` header when it is a plain token, else a new one; the
answer echoes it, so a client, the proxy and our logs name the same request. Messages never carry
personal data (the code logs case numbers and user ids at most); access logs leave out query
strings."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from gunicorn import glogging

HEADER = "X-Request-Id"
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Stamps each record made while handling a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class AccessLog(glogging.Logger):
    """gunicorn's logger (`logger_class`), each access line a JSON object of the few values the
    service logs: the client, the method and path (no query string: it may name a case), status,
    bytes, milliseconds and the request id. gunicorn's own line is made of every header and
    environment variable of the request, a twentieth of an API request's time, and escapes only
    quotes."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        headers = getattr(resp, "headers", None) or []
        entry = {
            "remote": environ.get("REMOTE_ADDR", "-"),
            "request": f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}",
            "status": _status_code(resp.status),
            "bytes": getattr(resp, "sent", None),
            "ms": request_time // timedelta(milliseconds=1),
            "request_id": next((v for k, v in headers if k.lower() == "x-request-id"), None),
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


def _status_code(status: object) -> int | None:
    """The number of a status line ("201 CREATED"); None when the app failed before it answered."""
    code = status.split(None, 1)[0] if isinstance(status, str) else status
    if isinstance(code, int):
        return code
    return int(code) if isinstance(code, str) and code.isdigit() else None


def configure(json_lines: bool = True) -> None:
    """Root logging for the service's processes: JSON lines (or plain text for a developer's
    terminal)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def install(app: Flask) -> None:
    """Give every request an id and echo it in the answer."""

    @app.before_request
    def _assign() -> None:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if _TOKEN.match(sent) else uuid.uuid4().hex

    @app.after_request
    def _echo(response: Response) -> Response:
        response.headers[HEADER] = g.get("request_id", "")
        return response
