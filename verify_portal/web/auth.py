"""Who may call what. Every view declares its access with `@access(...)`; the app
refuses to start if one does not (see `check_every_view_declares_access`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, g, request

from ledger.errors import Unauthenticated
from ledger.users import Actor, authenticate
from verify_portal.web.context import current

PUBLIC = "public"  # proofs, checkpoints, keys: hashes only, never personal data
AUTHENTICATED = "authenticated"  # any user; the service checks the role for the action

F = TypeVar("F", bound=Callable[..., Any])


def access(level: str) -> Callable[[F], F]:
    """Declare who may call a view: PUBLIC, or AUTHENTICATED (bearer token required)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if level == AUTHENTICATED:
                g.actor = _actor_from_header()
            return view(*args, **kwargs)

        # A mark the access tests read on each view.
        wrapper.access = level  # type: ignore[attr-defined]
        return cast(F, wrapper)  # wraps() keeps the view's name and signature

    return decorate


def current_actor() -> Actor:
    return g.actor


def _actor_from_header() -> Actor:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("this endpoint needs an `Authorization: Bearer <token>` header")
    return authenticate(current().engine, token.strip())


def check_every_view_declares_access(app: Flask) -> None:
    """Fail fast if a route was added without saying who may call it."""
    for endpoint, view in app.view_functions.items():
        if endpoint != "static" and not hasattr(view, "access"):
            raise RuntimeError(f"view {endpoint} does not declare its access with @access(...)")
