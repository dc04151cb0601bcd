"""Run the app under gunicorn: `lianzheng serve` here, `gunicorn -c gunicorn.conf.py` in the
container; both take their options from `options()`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from verify_portal.web import logs


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from verify_portal.web import create_app

        # JSON lines with request ids; refused steps and errors never carry personal data
        logs.configure()
        return create_app()  # each worker opens its own database connections


THREADS = 16  # each may hold one database connection: ledger/db.py sizes the pool to match


def options(host: str, port: int, workers: int) -> dict[str, Any]:
    """gunicorn's settings for the service."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread: the worker's main thread keeps beating while request threads stream multi-GiB
        # uploads, so `timeout` (a hung worker) does not cut long uploads short.
        # Many threads per worker: concurrent writers share one commit (ledger/group_commit.py),
        # so the more requests wait together, the fewer commits they cost.
        "threads": THREADS,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        # No control socket: its default path is one for every gunicorn of the host (a second
        # service would take over the first's), whoever can reach it may stop or scale the
        # service, and stopping its thread held up every shutdown by 2 s. Signals do the same.
        "control_socket_disable": True,
        # Access log lines as JSON, without query strings (a case number, a reason) and with the
        # request id (verify_portal/web/logs.py).
        "accesslog": "-",
        "logger_class": logs.AccessLog,
    }


def run(host: str, port: int, workers: int) -> None:
    """Serve on host:port until interrupted."""
    _Gunicorn(options(host, port, workers)).run()
