"""Tests for heritage.resources.users: roles, usernames, passwords, tokens.

argon2 costs ~50 ms a call, so one password hash is made per module (``password_hash``)
and copied onto the users that need it.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from heritage.resources.users import MIN_PASSWORD, User, UserError, Users, parse_role
from heritage.security import hash_token

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def password_hash():
    user = User("hasher")
    user.set_password(PASSWORD)
    return user.password_hash


@pytest.fixture
def users(password_hash):
    users = Users()
    ana = users.add("ana", User("ana", title="Ana Anak Jugah", email="ana@example.org"))
    ana.password_hash = password_hash
    gone = users.add("gone", User("gone"))
    gone.password_hash = password_hash
    gone.active = False
    users.add("nopass", User("nopass"))
    return users


# -- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("admin", ("admin", None)),
        ("curator@pns", ("curator", "pns")),
        ("digitizer@unimas", ("digitizer", "unimas")),
        ("cataloguer@unimas", ("cataloguer", "unimas")),
        ("rights-officer@pns", ("rights-officer", "pns")),
    ],
)
def test_parse_role(text, parsed):
    assert parse_role(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("admin@pns", "consortium role"),
        ("curator", "needs an institution"),
        ("curator@", "needs an institution"),
        ("owner@pns", "unknown role"),
        ("Curator@pns", "unknown role"),
        ("", "unknown role"),
        ("@pns", "unknown role"),
    ],
)
def test_parse_role_errors(text, message):
    with pytest.raises(UserError, match=message):
        parse_role(text)


# -- users ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ana", "a1", "ana.jugah", "ana_j-2", "0ana", "a" * 63])
def test_valid_usernames(username):
    assert User(username).username == username


@pytest.mark.parametrize(
    "username", ["a", "", None, "Ana", ".ana", "-ana", "ana jugah", "ana@unimas", "a" * 64, "anä"]
)
def test_invalid_usernames(username):
    with pytest.raises(UserError):
        User(username)


def test_new_user_defaults():
    user = User("ana")
    assert user.title == "ana"
    assert user.email == ""
    assert user.active is True
    assert user.password_hash == ""
    assert user.roles == ()
    assert user.communities == ()
    assert user.is_admin is False
    assert user.institutions() == []
    assert len(user.session_stamp) == 16


def test_roles():
    user = User("ana")
    user.add_role("curator", "unimas")
    user.add_role("curator", "unimas")  # twice: recorded once
    user.add_role("digitizer", "pns")
    user.add_role("cataloguer", "unimas")
    assert user.roles == (("curator", "unimas"), ("digitizer", "pns"), ("cataloguer", "unimas"))
    assert user.institutions() == ["pns", "unimas"]
    assert user.is_admin is False
    user.add_role(*parse_role("admin"))
    assert user.is_admin is True
    assert user.institutions() == ["pns", "unimas"]


def test_session_stamps_differ_between_users():
    assert User("ana").session_stamp != User("ana").session_stamp


# -- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "short", "x" * (MIN_PASSWORD - 1), None, 1234567890123])
def test_password_minimum_length(password):
    user = User("ana")
    stamp = user.session_stamp
    with pytest.raises(UserError, match=str(MIN_PASSWORD)):
        user.set_password(password)
    assert user.password_hash == ""
    assert user.session_stamp == stamp


def test_set_password_hashes_and_changes_the_session_stamp():
    user = User("ana")
    stamp = user.session_stamp
    user.set_password("x" * MIN_PASSWORD)
    assert user.password_hash.startswith("$argon2")
    assert "x" * MIN_PASSWORD not in user.password_hash
    assert user.session_stamp != stamp  # logins made before the change stop working


def test_check_password(users):
    ana = users["ana"]
    assert ana.check_password(PASSWORD) is True
    assert ana.check_password(PASSWORD + "!") is False


def test_user_without_password_never_matches():
    # not even the password behind the dummy hash used to keep timings equal
    assert User("ana").check_password("not-a-real-password") is False


def test_corrupt_hash_does_not_match():
    user = User("ana")
    user.password_hash = "not a hash"
    assert user.check_password(PASSWORD) is False


def test_old_hash_is_upgraded_on_login():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user = User("ana")
    user.password_hash = old = weak.hash(PASSWORD)
    assert user.check_password("wrong-password") is False
    assert user.password_hash == old  # a failed check changes nothing
    assert user.check_password(PASSWORD) is True
    assert user.password_hash != old
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


# -- Users.authenticate -----------------------------------------------------------------------


def test_authenticate(users):
    assert users.authenticate("ana", PASSWORD) is users["ana"]


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ana", "wrong-password"),
        ("ana", None),
        ("nobody", PASSWORD),  # unknown user
        ("gone", PASSWORD),  # inactive user, right password
        ("nopass", ""),  # a user who never set a password
    ],
)
def test_authenticate_refuses(users, username, password):
    assert users.authenticate(username, password) is None


def test_users_is_a_folder(users):
    assert len(users) == 3
    assert users["ana"].__parent__ is users
    assert users["ana"].title == "Ana Anak Jugah"


# -- API tokens -------------------------------------------------------------------------------


def test_token_lookup(users):
    digest = hash_token("ana-token")
    users.add_token("ana", digest, label="scanner script")
    assert users.user_for_token(digest) is users["ana"]
    entry = users.tokens[digest]
    assert entry["user"] == "ana"
    assert entry["label"] == "scanner script"
    assert entry["created"].endswith("+00:00")
    assert "ana-token" not in users.tokens  # only the hash is kept


def test_unknown_token(users):
    users.add_token("ana", hash_token("ana-token"))
    assert users.user_for_token(hash_token("guess")) is None
    assert users.user_for_token("ana-token") is None  # the raw token is not a key


def test_token_of_an_inactive_or_removed_user(users):
    users.add_token("gone", hash_token("gone-token"))
    assert users.user_for_token(hash_token("gone-token")) is None
    users.add_token("nopass", hash_token("removed-token"))
    users.remove("nopass")
    assert users.user_for_token(hash_token("removed-token")) is None


def test_token_for_unknown_user(users):
    with pytest.raises(UserError, match="no user 'nobody'"):
        users.add_token("nobody", hash_token("x"))
    assert len(users.tokens) == 0
