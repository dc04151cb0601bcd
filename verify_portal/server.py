"""Run the app under gunicorn from `lianzheng serve` (no separate config file needed)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from verify_portal import create_app

        # Refused steps and unexpected errors are logged by the app (never with personal data).
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return create_app()  # each worker opens its own database connections


def run(host: str, port: int, workers: int) -> None:
    """Serve on host:port until interrupted."""
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 30,
        # Access log without query strings: a case number or token never lands in a log file.
        "accesslog": "-",
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
    }).run()
