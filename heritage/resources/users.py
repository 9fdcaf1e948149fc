"""Users, their argon2 password hashes, roles and API tokens."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from heritage.resources.folder import Folder
from heritage.security import ADMIN, ROLES

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
#: Verified against when the user is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def parse_role(text: str) -> tuple[str, str | None]:
    """Parse ``curator@unimas`` or ``admin`` into ``(role, institution_id)``."""
    role, _, institution_id = text.partition("@")
    if role == ADMIN:
        if institution_id:
            raise UserError("admin is a consortium role: give it without @INSTITUTION")
        return ADMIN, None
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join((*ROLES, ADMIN))}")
    if not institution_id:
        raise UserError(f"role {role!r} needs an institution: {role}@INSTITUTION_ID")
    return role, institution_id


class User(Persistent):
    __name__: str | None = None
    __parent__: Any = None
    active = True

    def __init__(self, username: str, *, title: str = "", email: str = "") -> None:
        if not USERNAME_RE.match(username or ""):
            raise UserError(
                "a username is 2-63 characters: lowercase letters, digits, '.', '_' or '-'"
            )
        self.username = username
        self.title = title or username
        self.email = email
        self.password_hash = ""
        self.session_stamp = secrets.token_hex(8)
        self.roles: tuple[tuple[str, str | None], ...] = ()
        self.communities: tuple[str, ...] = ()

    def set_password(self, password: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
        self.password_hash = _hasher.hash(password)
        self.session_stamp = secrets.token_hex(8)

    def check_password(self, password: str) -> bool:
        try:
            ok = _hasher.verify(self.password_hash or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return False
        if not self.password_hash:
            return False
        if ok and _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = _hasher.hash(password)
        return ok

    def add_role(self, role: str, institution_id: str | None) -> None:
        if (role, institution_id) not in self.roles:
            self.roles = (*self.roles, (role, institution_id))

    @property
    def is_admin(self) -> bool:
        return any(role == ADMIN for role, _ in self.roles)

    def institutions(self) -> list[str]:
        return sorted({inst for role, inst in self.roles if inst})


class Users(Folder):
    """The users of the whole consortium, and their API tokens (stored hashed)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = OOBTree()  # sha256(token) → {"user", "created", "label"}

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.get(username)
        if user is None or not user.active:
            User("nobody").check_password(password or "")  # same cost as a real check
            return None
        return user if user.check_password(password or "") else None

    def add_token(self, username: str, token_hash: str, label: str = "") -> None:
        if username not in self:
            raise UserError(f"no user {username!r}")
        self.tokens[token_hash] = {
            "user": username,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "label": label,
        }

    def user_for_token(self, token_hash: str) -> User | None:
        entry = self.tokens.get(token_hash)
        if entry is None:
            return None
        user = self.get(entry["user"])
        return user if user is not None and user.active else None
