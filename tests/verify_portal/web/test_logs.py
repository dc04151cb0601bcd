"""Structured logs: JSON lines carrying the request id that the answer echoes."""

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from verify_portal.web import logs
from verify_portal.web.server import options


def test_every_answer_carries_a_request_id_and_keeps_a_clean_one_sent_to_it(client):
    fresh = client.get("/healthz").headers["X-Request-Id"]
    assert len(fresh) == 32
    assert (
        client.get("/healthz", headers={"X-Request-Id": "proxy-7f3a"}).headers["X-Request-Id"]
        == "proxy-7f3a"
    )
    assert (
        client.get("/healthz", headers={"X-Request-Id": "bad id!"}).headers["X-Request-Id"]
        != "bad id!"
    )


def test_log_lines_are_json_with_the_request_id(app):
    formatter, records = logs.JsonFormatter(), []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(formatter.format(record))

    handler = Keep()
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("lianzheng.test")
    logger.addHandler(handler)
    with app.test_request_context("/", headers={"X-Request-Id": "req-42"}):
        app.preprocess_request()
        logger.warning("refused step of case %s", "CG-2026-000001")
    line = json.loads(records[-1])
    assert line["request_id"] == "req-42" and line["level"] == "WARNING"
    assert line["message"] == "refused step of case CG-2026-000001"


def _access_log():  # type: ignore[no-untyped-def]
    """gunicorn's logger as `lianzheng serve` configures it."""
    config = Config()
    for key, value in options("127.0.0.1", 0, 1).items():
        config.set(key, value)
    return config.logger_class(config)


def test_an_access_line_is_json_without_the_query_string_and_with_the_request_id(capsys):
    access = _access_log()
    answer = SimpleNamespace(
        status="201 CREATED", sent=512, headers=[("Content-Type", "x"), ("X-Request-Id", "r-7")]
    )
    environ = {
        "REMOTE_ADDR": "198.51.100.4",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": '/api/v1/cases/CG-"\\\n',  # what a hostile path may hold
        "QUERY_STRING": "reason=litigation",
    }
    access.access(answer, None, environ, timedelta(seconds=1, microseconds=2500))
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "remote": "198.51.100.4",
        "request": 'GET /api/v1/cases/CG-"\\\n',
        "status": 201,
        "bytes": 512,
        "ms": 1002,
        "request_id": "r-7",
    }


def test_an_access_line_is_written_for_an_answer_that_never_started(capsys):
    unstarted = SimpleNamespace(status=None, sent=0, headers=[])  # the app raised before answering
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/cases"}
    _access_log().access(unstarted, None, environ, timedelta(milliseconds=3))
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["status"] is None
    assert json.loads(line)["request"] == "POST /api/v1/cases"
