"""Staff sign-in to the portal: scrypt passwords, 5 failures lock an account for 10 minutes.

Passwords are hashed with scrypt (RFC 7914; N=2^15, r=8, p=1, a 16-byte salt), compared in constant
time. A wrong password, an unknown user and a locked account get the same answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import as_utc
from ledger.errors import InvalidInput, LianzhengError
from ledger.models import User
from ledger.users import Actor, actor_of
from verify_portal.models import StaffLogin

SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MAX_FAILURES = 5
LOCK = timedelta(minutes=10)
MIN_PASSWORD = 12
_DUMMY = "scrypt$" + base64.b64encode(bytes(16)).decode() + "$" + base64.b64encode(bytes(32)).decode()


class SignInRefused(LianzhengError):
    """Wrong user, wrong password or locked account: one answer for all three."""

    code = "sign-in-refused"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 << 20, dklen=32, **SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(hash_password(password, base64.b64decode(salt)), stored)


@dataclass
class StaffLogins:
    sessions: sessionmaker[Session]

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"a portal password has at least {MIN_PASSWORD} characters")
        with self.sessions.begin() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise InvalidInput(f"no user {username}")
            session.merge(StaffLogin(user_id=user.id, password_hash=hash_password(password), failures=0,
                                     locked_until=None))

    def sign_in(self, username: str, password: str) -> Actor:
        """The user, if the password is right and the account not locked; else SignInRefused."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            user = session.scalars(select(User).where(User.username == username[:64])).first()
            login = session.get(StaffLogin, user.id) if user else None
            matches = password_matches(password, login.password_hash if login else _DUMMY)  # same cost always
            locked = login is not None and login.locked_until is not None and as_utc(login.locked_until) > now
            if login is not None and user is not None and user.active and matches and not locked:
                login.failures = 0
                return actor_of(user)
            if login is not None and not locked:
                login.failures += 1
                if login.failures >= MAX_FAILURES:
                    login.failures, login.locked_until = 0, now + LOCK
        raise SignInRefused("the user name or password is wrong, or the account is locked for a while")

    def actor(self, user_id: int) -> Actor | None:
        with self.sessions() as session:
            user = session.get(User, user_id)
            return actor_of(user) if user is not None and user.active else None
