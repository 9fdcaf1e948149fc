"""Who the user is, which principals they hold, and the permissions roles grant.

Identity comes from the session cookie (after the login form) or from an API token sent as
``Authorization: Bearer …``. Permissions come from ``__acl__`` on the resources, walked by
Pyramid's ACLHelper along the resource's lineage.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pyramid.authentication import SessionAuthenticationHelper
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import IRootFactory

#: Institution roles (ARCHITECTURE.md, "Workflow"), assigned per institution.
ROLES: tuple[str, ...] = ("curator", "digitizer", "cataloguer", "rights-officer")
ADMIN = "admin"
ADMIN_PRINCIPAL = "role:admin"

#: What each institution role may do in its own institution. The workflow refines who may
#: move an item between states; these are the coarse rights on the resources themselves.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "curator": ("edit", "create", "nominate"),
    "digitizer": ("edit", "create", "upload"),
    "cataloguer": ("edit", "create"),
    "rights-officer": ("edit",),
}

#: Access levels of an item (ARCHITECTURE.md, "Access levels").
ACCESS_LEVELS: tuple[str, ...] = ("public", "metadata-only", "community", "staff")


def role_principal(role: str, institution_id: str | None) -> str:
    return f"role:{role}@{institution_id}"


def staff_principal(institution_id: str | None) -> str:
    return f"staff@{institution_id}"


def community_principal(protocol: str) -> str:
    return f"community:{protocol}"


def hash_token(token: str) -> str:
    """Return the stored form of an API token.

    Tokens are 256-bit random strings, so a plain SHA-256 is enough (no dictionary to
    resist), and it lets a token be found by lookup rather than by trying every hash.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(request: Any) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def csrf_applies(request: Any) -> bool:
    """Require a CSRF token unless the request authenticates with a bearer token.

    A bearer token is never sent by a browser on its own, so such requests cannot be forged
    cross-site; every cookie-authenticated state change must carry the token.
    """
    return bearer_token(request) is None


def principals_of(user: Any) -> list[str]:
    if user is None:
        return [Everyone]
    principals = [Everyone, Authenticated, f"user:{user.username}"]
    for role, institution_id in user.roles:
        if role == ADMIN:
            principals.append(ADMIN_PRINCIPAL)
        else:
            principals.append(role_principal(role, institution_id))
            principals.append(staff_principal(institution_id))
    principals.extend(community_principal(p) for p in user.communities)
    return principals


_ACL = ACLHelper()


def publicly_listed(resource: Any) -> bool:
    """Whether anyone, signed in or not, may see the record (``view``)."""
    return bool(_ACL.permits(resource, [Everyone], "view"))


def publicly_visible(resource: Any) -> bool:
    """Whether anyone may see its images and sound (``view-media``), and so its manifest."""
    return bool(_ACL.permits(resource, [Everyone], "view-media"))


class SecurityPolicy:
    """Pyramid 2 security policy: session or bearer identity, ACL permissions."""

    def __init__(self) -> None:
        self.helper = SessionAuthenticationHelper()
        self.acl = ACLHelper()

    def identity(self, request: Any) -> Any:
        if "heritage.identity" in request.environ:
            return request.environ["heritage.identity"]
        user = self._load_identity(request)
        request.environ["heritage.identity"] = user
        return user

    def _load_identity(self, request: Any) -> Any:
        # pyramid_tm asks for the user before traversal has set ``request.root``.
        root = getattr(request, "root", None) or request.registry.getUtility(IRootFactory)(request)
        users = root.users
        token = bearer_token(request)
        if token is not None:
            return users.user_for_token(hash_token(token))
        userid = self.helper.authenticated_userid(request)
        if userid is None:
            return None
        user = users.get(userid)
        if user is None or not user.active:
            return None
        # A password change invalidates sessions made before it.
        stamp = request.session.get("heritage.stamp")
        if stamp is None or not hmac.compare_digest(stamp, user.session_stamp):
            return None
        return user

    def authenticated_userid(self, request: Any) -> str | None:
        user = self.identity(request)
        return None if user is None else user.username

    def effective_principals(self, request: Any) -> list[str]:
        return principals_of(self.identity(request))

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        return self.acl.permits(context, self.effective_principals(request), permission)

    def remember(self, request: Any, userid: str, **kw: Any) -> list:
        user = request.registry.getUtility(IRootFactory)(request).users.get(userid)
        request.session.invalidate()  # a new session on login: no fixation
        request.session["heritage.stamp"] = user.session_stamp
        request.environ.pop("heritage.identity", None)
        return self.helper.remember(request, userid, **kw)

    def forget(self, request: Any, **kw: Any) -> list:
        request.environ.pop("heritage.identity", None)
        request.session.invalidate()
        return self.helper.forget(request, **kw)
