"""The services a Flask app runs on, reachable from any request handler."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from verify_portal.app.services import Services

EXTENSION = "lianzheng"


def install(app: Flask, services: Services) -> None:
    """Make `services` the app's, for `current()` in request handlers."""
    app.extensions[EXTENSION] = services


def current() -> Services:
    """The services of the app handling the current request."""
    return cast(Services, current_app.extensions[EXTENSION])
