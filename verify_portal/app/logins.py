"""Staff sign-in to the portal: scrypt passwords and sessions kept on the server.

Passwords are hashed with scrypt (RFC 7914; N=2^15, r=8, p=1, a 16-byte salt), compared in constant
time. A wrong password and an unknown user get the same answer. Wrong passwords slow down the client
that sends them (verify_portal/web/limits.py); no account is ever locked by someone else's guesses.
A signed-in session is a random id in the cookie and a row here: signing out deletes the row, so a
copied cookie opens nothing afterwards, and 30 idle minutes end it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.errors import InvalidInput, LianzhengError
from ledger.models import User
from ledger.users import Actor, actor_of
from verify_portal.app.models import StaffLogin, StaffSession

SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MIN_PASSWORD = 12
IDLE = timedelta(minutes=30)
_DUMMY = (
    "scrypt$" + base64.b64encode(bytes(16)).decode() + "$" + base64.b64encode(bytes(32)).decode()
)


class SignInRefused(LianzhengError):
    """Wrong user or wrong password: one answer for both."""

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
            session.merge(StaffLogin(user_id=user.id, password_hash=hash_password(password)))

    def sign_in(self, username: str, password: str) -> tuple[Actor, str]:
        """The user and a new session id, if the password is right; else SignInRefused."""
        with self.sessions.begin() as session:
            user = session.scalars(select(User).where(User.username == username[:64])).first()
            login = session.get(StaffLogin, user.id) if user else None
            matches = password_matches(
                password, login.password_hash if login else _DUMMY
            )  # same cost always
            if login is None or user is None or not user.active or not matches:
                raise SignInRefused("the user name or password is wrong")
            session_id = secrets.token_urlsafe(32)
            now = datetime.now(UTC)
            session.add(
                StaffSession(
                    id_hash=_hashed(session_id), user_id=user.id, created_at=now, last_seen=now
                )
            )
            return actor_of(user), session_id

    def resume(self, session_id: str) -> Actor | None:
        """The signed-in user of a live session (its idle time restarts), or None."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            row = session.get(StaffSession, _hashed(session_id))
            if row is None or now - row.last_seen > IDLE:
                if row is not None:
                    session.delete(row)
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.active:
                return None
            row.last_seen = now
            return actor_of(user)

    def sign_out(self, session_id: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(StaffSession).where(StaffSession.id_hash == _hashed(session_id)))


def _hashed(session_id: str) -> bytes:
    """Only a hash of a session id is stored: the database alone opens no session."""
    return hashlib.sha256(session_id.encode()).digest()
