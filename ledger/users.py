"""Users, roles and bearer tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import db
from ledger.errors import Forbidden, InvalidInput, Unauthenticated
from ledger.models import User
from ledger.permissions import DISTRICT_BOUND, Action, allowed
from ledger.roles import Role

__all__ = ["Action", "Actor", "Role", "actor_of", "add_user", "authenticate", "by_username"]


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of a request or CLI command."""

    user_id: int
    username: str
    role: Role
    district: str | None

    def require(self, action: Action, district: str | None = None) -> None:
        """Forbidden unless the permissions table lets this role do `action` (in `district`)."""
        if not allowed(self.role, action):
            raise Forbidden(f"role {self.role.value} may not {action.value}")
        if (
            district is not None
            and action in DISTRICT_BOUND
            and not self.may_see_district(district)
        ):
            raise Forbidden(
                f"{self.username} works in district {self.district} and may not "
                f"{action.value} in {district}"
            )

    def may(self, action: Action) -> bool:
        return allowed(self.role, action)

    def may_see_district(self, district: str) -> bool:
        """Officers bound to a district see only its cases; other readers see all."""
        return self.role is not Role.OFFICER or self.district is None or self.district == district


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


_USERNAME = re.compile(
    r"[a-z0-9][a-z0-9._-]{0,63}"
)  # an account code (badge number): it goes into events


def add_user(session: Session, username: str, role: Role, district: str | None = None) -> str:
    """Create a user and return its bearer token (shown once, stored hashed).

    The username is a code such as a badge number, never a person's name: it is each event's
    `actor`."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is a code (lowercase letters, digits, . _ -), e.g. officer-0427; "
            "never a person's name: it is written into the log"
        )
    token = "lz_" + secrets.token_urlsafe(32)
    session.add(
        User(username=username, role=role.value, district=district, token_hash=_token_hash(token))
    )
    try:
        session.flush()
    except IntegrityError as exc:
        raise InvalidInput(f"user {username!r} exists already") from exc
    return token


def authenticate(engine: Engine, token: str) -> Actor:
    """The active user holding `token`, or Unauthenticated: one statement outside any transaction
    (ledger/db.py `lone_rows`), as every authenticated request makes it."""
    found = db.lone_rows(engine, _BY_TOKEN, [_token_hash(token)])
    if not found:
        raise Unauthenticated("the bearer token is not valid")
    [row] = found  # token_hash is unique
    return actor_of(_Holder(*row))


_BY_TOKEN = "SELECT id, username, role, district FROM users WHERE token_hash = ? AND active"


class _Holder(NamedTuple):
    """The columns `_BY_TOKEN` reads, named as a `User` names them."""

    id: int
    username: str
    role: str
    district: str | None


def by_username(session: Session, username: str) -> Actor:
    """The active user called `username` (the CLI acts as a named user)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        raise Unauthenticated(f"no active user {username!r}")
    return actor_of(user)


class UserFields(Protocol):
    """What an Actor is made of: a `User`, or the columns of one (read only)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def district(self) -> str | None: ...


def actor_of(user: UserFields) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.district)
