"""Structured logs: JSON lines carrying the request id that the answer echoes."""

import json
import logging

from verify_portal.web import logs


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
