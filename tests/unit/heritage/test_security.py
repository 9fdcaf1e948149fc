"""Tests for heritage.security and the resources' ACLs: who may see and edit what.

The ACL tests build a real resource tree (no database needed) and ask Pyramid's ACLHelper,
with the principals :func:`principals_of` gives each kind of user.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from pyramid import testing
from pyramid.authorization import ACLHelper, Authenticated, Everyone

from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import Root
from heritage.resources.users import User, Users
from heritage.security import (
    ADMIN_PRINCIPAL,
    SecurityPolicy,
    bearer_token,
    community_principal,
    csrf_applies,
    hash_token,
    principals_of,
    role_principal,
    staff_principal,
)
from workflows.states import NOMINATED, PUBLISHED, QA, WITHDRAWN

COMMUNITY = "iban-pua-kumbu"
ACL = ACLHelper()


def make_user(username, roles=(), communities=()):
    user = User(username)
    for role, institution_id in roles:
        user.add_role(role, institution_id)
    user.communities = tuple(communities)
    return user


#: Who asks, as principal lists.
WHO = {
    "anonymous": principals_of(None),
    "own-curator": principals_of(make_user("ana", [("curator", "unimas")])),
    "own-digitizer": principals_of(make_user("dayang", [("digitizer", "unimas")])),
    "other-curator": principals_of(make_user("oscar", [("curator", "pns")])),
    "admin": principals_of(make_user("root", [("admin", None)])),
    "community": principals_of(make_user("jugah", communities=[COMMUNITY])),
    "other-community": principals_of(make_user("kenyah", communities=["kenyah-sape"])),
    "logged-in": principals_of(make_user("nobody")),
}
ALL = frozenset(WHO)
OWN = frozenset({"own-curator", "own-digitizer", "admin"})

#: Who gets each permission on a *published* item, by access level.
PUBLISHED_RULES = {
    "public": {"view": ALL, "view-media": ALL},
    "metadata-only": {"view": ALL, "view-media": OWN},
    "community": {"view": OWN | {"community"}, "view-media": OWN | {"community"}},
    "staff": {"view": OWN, "view-media": OWN},
}
#: Before publication (and after withdrawal) only the institution's own staff and admins.
UNPUBLISHED_RULES = {"view": OWN, "view-media": OWN}
#: Editing never depends on state or access: own institution's roles and admins only.
EDITORS = OWN


def build_tree():
    root = Root()
    unimas = root.institutions.add("unimas", Institution({"en": "UNIMAS"}, country="MY"))
    pns = root.institutions.add("pns", Institution({"en": "PNS"}, country="MY"))
    root.add_collection(unimas, "manuscripts", Collection({"en": "Manuscripts"}))
    root.add_collection(pns, "photographs", Collection({"en": "Photographs"}))
    return root


TREE = build_tree()


def item_in(state, access):
    """Return an item of unimas's manuscripts in ``state`` with ``access`` (in a fresh tree)."""
    item = Item(
        "unimas-ms-0007",
        {},
        state=state,
        access=access,
        community=COMMUNITY if access == "community" else "",
    )
    return build_tree().collections["manuscripts"].add_item(item)


def expected(state, access, permission):
    if permission == "edit":
        return EDITORS
    if state == PUBLISHED:
        return PUBLISHED_RULES[access][permission]
    return UNPUBLISHED_RULES[permission]


CASES = [
    pytest.param(state, access, who, permission, id=f"{state}-{access}-{who}-{permission}")
    for state in (NOMINATED, QA, PUBLISHED, WITHDRAWN)
    for access in ("public", "metadata-only", "community", "staff")
    for who in WHO
    for permission in ("view", "view-media", "edit")
]


@pytest.mark.parametrize(("state", "access", "who", "permission"), CASES)
def test_item_permissions(state, access, who, permission):
    item = item_in(state, access)
    allowed = bool(ACL.permits(item, WHO[who], permission))
    assert allowed is (who in expected(state, access, permission))


@pytest.mark.parametrize("access", ["public", "metadata-only", "community", "staff"])
def test_other_institutions_curator_never_edits(access):
    for state in (NOMINATED, PUBLISHED):
        item = item_in(state, access)
        assert not ACL.permits(item, WHO["other-curator"], "edit")
        assert not ACL.permits(item, WHO["other-curator"], "view-unpublished")


def test_moving_an_item_to_published_opens_it():
    item = item_in(QA, "public")
    assert not ACL.permits(item, WHO["anonymous"], "view")
    item.state = PUBLISHED  # ACLs derive from state: no stored ACL to update
    assert ACL.permits(item, WHO["anonymous"], "view")
    item.set_access("staff")
    assert not ACL.permits(item, WHO["anonymous"], "view")


def test_unpublished_item_hides_even_though_its_institution_is_public():
    item = item_in(NOMINATED, "public")
    institution = TREE.institutions["unimas"]
    assert ACL.permits(institution, WHO["anonymous"], "view")
    denied = ACL.permits(item, WHO["anonymous"], "view")
    assert not denied
    assert denied.ace[0] == "Deny"  # the item's own final Deny, not a fallthrough


# -- institution and root ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "permission", "allowed"),
    [
        ("anonymous", "view", True),
        ("other-curator", "view", True),
        ("anonymous", "staff", False),
        ("own-curator", "staff", True),
        ("own-curator", "view-unpublished", True),
        ("other-curator", "staff", False),
        ("other-curator", "view-unpublished", False),
        ("own-curator", "create", True),
        ("own-curator", "nominate", True),
        ("own-curator", "upload", False),
        ("own-digitizer", "upload", True),
        ("own-digitizer", "nominate", False),
        ("other-curator", "create", False),
        ("community", "create", False),
        ("admin", "create", True),
        ("admin", "admin", True),
        ("own-curator", "admin", False),
    ],
)
def test_institution_permissions(who, permission, allowed):
    institution = TREE.institutions["unimas"]
    assert bool(ACL.permits(institution, WHO[who], permission)) is allowed
    # a collection has no ACL of its own: it inherits its institution's
    collection = TREE.collections["manuscripts"]
    assert bool(ACL.permits(collection, WHO[who], permission)) is allowed


@pytest.mark.parametrize(
    ("who", "allowed"), [("anonymous", False), ("own-curator", False), ("admin", True)]
)
def test_only_admins_administer_the_consortium(who, allowed):
    assert bool(ACL.permits(TREE, WHO[who], "admin")) is allowed
    assert ACL.permits(TREE, WHO[who], "view")


@pytest.mark.parametrize("role", ["cataloguer", "rights-officer"])
def test_every_institution_role_may_edit_own_items(role):
    principals = principals_of(make_user("someone", [(role, "unimas")]))
    assert ACL.permits(item_in(NOMINATED, "staff"), principals, "edit")
    assert ACL.permits(item_in(NOMINATED, "staff"), principals, "view")
    assert not ACL.permits(
        item_in(NOMINATED, "staff"), principals_of(make_user("someone", [(role, "pns")])), "edit"
    )


# -- principals -------------------------------------------------------------------------------


def test_principals_of_anonymous():
    assert principals_of(None) == [Everyone]


def test_principals_of_staff_and_communities():
    user = make_user("ana", [("curator", "unimas"), ("digitizer", "pns")], ["iban-pua-kumbu"])
    principals = principals_of(user)
    assert principals[:3] == [Everyone, Authenticated, "user:ana"]
    assert set(principals[3:]) == {
        "role:curator@unimas",
        "staff@unimas",
        "role:digitizer@pns",
        "staff@pns",
        "community:iban-pua-kumbu",
    }


def test_principals_of_admin():
    principals = principals_of(make_user("root", [("admin", None)]))
    assert ADMIN_PRINCIPAL in principals
    assert "staff@None" not in principals
    assert not any(p.startswith("role:admin@") for p in principals)


def test_principal_names():
    assert role_principal("curator", "pns") == "role:curator@pns"
    assert staff_principal("pns") == "staff@pns"
    assert community_principal("kenyah-sape") == "community:kenyah-sape"


# -- tokens and CSRF --------------------------------------------------------------------------


def test_hash_token():
    token = "q" * 43
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64
    assert hash_token(token) == digest
    assert hash_token(token + "x") != digest
    assert token not in digest


def request_with(authorization=None):
    headers = {} if authorization is None else {"Authorization": authorization}
    return testing.DummyRequest(headers=headers)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc123", "abc123"),
        ("bearer abc123", "abc123"),
        ("BEARER abc123", "abc123"),
        ("Bearer   abc123  ", "abc123"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
        ("Token abc123", None),
        ("Bearerabc123", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(request_with(header)) == token


def test_csrf_applies_unless_a_bearer_token_is_sent():
    assert csrf_applies(request_with()) is True
    assert csrf_applies(request_with("Basic abc")) is True
    assert csrf_applies(request_with("Bearer")) is True
    assert csrf_applies(request_with("Bearer abc")) is False


# -- the security policy's identity -----------------------------------------------------------


@pytest.fixture
def users():
    users = Users()
    users.add("ana", make_user("ana", [("curator", "unimas")]))
    users.add("gone", make_user("gone"))
    users["gone"].active = False
    users.add_token("ana", hash_token("ana-token"))
    users.add_token("gone", hash_token("gone-token"))
    return users


def policy_request(users, authorization=None, session=None):
    request = request_with(authorization)
    request.root = SimpleNamespace(users=users)
    request.session.update(session or {})
    return request


@pytest.mark.parametrize(
    ("header", "username"),
    [("Bearer ana-token", "ana"), ("Bearer gone-token", None), ("Bearer wrong", None)],
)
def test_identity_from_bearer_token(users, header, username):
    request = policy_request(users, header)
    policy = SecurityPolicy()
    assert policy.authenticated_userid(request) == username
    expected_principals = [Everyone] if username is None else principals_of(users[username])
    assert policy.effective_principals(request) == expected_principals


def test_identity_from_session_needs_the_current_stamp(users):
    ana = users["ana"]
    policy = SecurityPolicy()
    good = {"auth.userid": "ana", "heritage.stamp": ana.session_stamp}
    assert policy.identity(policy_request(users, session=good)) is ana
    stale = {"auth.userid": "ana", "heritage.stamp": "0" * 16}
    assert policy.identity(policy_request(users, session=stale)) is None
    unstamped = {"auth.userid": "ana"}
    assert policy.identity(policy_request(users, session=unstamped)) is None
    inactive = {"auth.userid": "gone", "heritage.stamp": users["gone"].session_stamp}
    assert policy.identity(policy_request(users, session=inactive)) is None
    unknown = {"auth.userid": "who", "heritage.stamp": "x"}
    assert policy.identity(policy_request(users, session=unknown)) is None
    assert policy.identity(policy_request(users)) is None


def test_identity_is_computed_once_per_request(users):
    request = policy_request(users, "Bearer ana-token")
    policy = SecurityPolicy()
    assert policy.identity(request) is users["ana"]
    users.tokens.clear()
    assert policy.identity(request) is users["ana"]  # cached in the environ
