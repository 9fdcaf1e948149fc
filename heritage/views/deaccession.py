"""Deaccession (admins only) and the tombstones that answer for what was removed.

Routes (added by :func:`includeme`):

- ``POST /api/items/{id}/files/{n}/deaccession`` and ``POST /api/items/{id}/deaccession``
  with ``{"reason": "…"}``: remove one master, or the whole item. Others get 403, or 404 if
  they may not see the item; an empty reason is a 400.
- ``POST /staff/items/{id}/deaccession``: the staff item page's forms (CSRF token, a reason,
  and a confirmation: a checkbox for a file, the item id typed again for the item).

A removed item's public page, embed page, manifest and API URL answer **410 Gone** with its
tombstone: id, title and date withdrawn for everyone if the public ever saw it (else 404,
as before), and the whole tombstone (reason, files and checksums) for admins and the
holding institution's staff. The rules live in :mod:`heritage.deaccession`.
"""

from __future__ import annotations

import re
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound, HTTPGone, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, view_config

from heritage.deaccession import DeaccessionError, deaccession_file, deaccession_item
from heritage.resources.item import Item
from heritage.validation import ValidationFailed, json_body
from heritage.views.errors import not_found
from heritage.views.helpers import pick

FILE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
#: The routes of an item that answer 410 once it is deaccessioned.
GONE_HTML = ("item", "embed")
GONE_JSON = ("iiif_manifest", "api_item")


def includeme(config: Configurator) -> None:  # pragma: no cover
    """Add this module's routes (its views are found by the scan)."""
    config.add_route(
        "api_item_deaccession", "/api/items/{item_id}/deaccession", traverse="/items/{item_id}"
    )
    config.add_route(
        "api_file_deaccession",
        "/api/items/{item_id}/files/{file}/deaccession",
        traverse="/items/{item_id}",
    )
    config.add_route(
        "staff_item_deaccession",
        "/staff/items/{item_id}/deaccession",
        traverse="/items/{item_id}",
    )


def _user(request: Any) -> str:
    return f"user:{request.identity.username}"


def _checked(call: Any, *args: Any, **kw: Any) -> Any:
    try:
        return call(*args, **kw)
    except DeaccessionError as exc:
        raise ValidationFailed({exc.field: exc.message}) from None


def _reason(data: dict[str, Any]) -> Any:
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed({"reason": "give the reason for the deaccession (required)"})
    return reason


def _file_name(context: Item, name: str) -> str:
    if not FILE_NUMBER.fullmatch(name):
        raise HTTPNotFound()
    if context.files.get(name) is None:
        gone = context.files.removed.get(int(name)) if context.files.removed else None
        if gone is not None:
            raise HTTPGone(json_body={"error": f"file {name} was deaccessioned on {gone['date']}"})
        raise HTTPNotFound()
    return name


@view_config(
    route_name="api_file_deaccession",
    context=Item,
    request_method="POST",
    permission="deaccession",
    renderer="json",
)
def api_file(context: Item, request: Any) -> dict[str, Any]:
    name = _file_name(context, request.matchdict["file"])
    reason = _reason(json_body(request))
    tomb = _checked(
        deaccession_file,
        context,
        name,
        reason=reason,
        user=_user(request),
        hs=request.registry.heritage,
    )
    return {"item": context.item_id, "file": name, "tombstone": tomb}


@view_config(
    route_name="api_item_deaccession",
    context=Item,
    request_method="POST",
    permission="deaccession",
    renderer="json",
)
def api_item(context: Item, request: Any) -> dict[str, Any]:
    reason = _reason(json_body(request))
    tomb = _checked(
        deaccession_item, context, reason=reason, user=_user(request), hs=request.registry.heritage
    )
    return {"item": tomb.item_id, "tombstone": tomb.as_dict()}


@view_config(
    route_name="staff_item_deaccession",
    context=Item,
    request_method="POST",
    permission="deaccession",
)
def staff_deaccession(context: Item, request: Any) -> Any:
    """The staff page's forms: a file (``file`` and ``confirm``) or the item (``confirm_id``)."""
    post = request.POST
    reason = _reason({"reason": post.get("reason", "")})
    hs = request.registry.heritage
    name = post.get("file", "")
    if name:
        if post.get("confirm") != "yes":
            raise ValidationFailed({"confirm": "tick the box to confirm the deaccession"})
        if not FILE_NUMBER.fullmatch(name) or context.files.get(name) is None:
            raise ValidationFailed({"file": f"item {context.item_id} has no file {name!r}"})
        tomb = _checked(deaccession_file, context, name, reason=reason, user=_user(request), hs=hs)
        request.session.flash({"file": tomb["file"], "filename": tomb["filename"]}, "deaccession")
        return HTTPFound(request.route_url("staff_item", item_id=context.item_id))
    if post.get("confirm_id", "").strip() != context.item_id:
        raise ValidationFailed({"confirm_id": "type the item id to confirm the deaccession"})
    tomb = _checked(deaccession_item, context, reason=reason, user=_user(request), hs=hs)
    return HTTPFound(request.route_url("item", item_id=tomb.item_id))


# -- 410 Gone -------------------------------------------------------------------------------


def _may_see_all(request: Any, tomb: Any) -> bool:
    """Admins and the holding institution's staff see the whole tombstone."""
    institution = request.root.institutions.get(tomb.institution)
    context = institution if institution is not None else request.root
    return bool(request.has_permission("view-unpublished", context))


def _gone(exc: HTTPNotFound, request: Any, *, as_json: bool) -> Any:
    item_id = (request.matchdict or {}).get("item_id", "")
    tombstones = getattr(request.root, "tombstones", None)
    tomb = tombstones.get(item_id) if tombstones is not None and item_id else None
    if tomb is None:
        return not_found(exc, request)
    full = _may_see_all(request, tomb)
    if not (tomb.public or full):
        return not_found(exc, request)  # never public: nothing at all is said of it
    if as_json:
        response = request.response
        response.status_int = 410
        response.content_type = "application/json"
        body = tomb.as_dict() if full else tomb.public_json()
        response.json_body = {
            "error": f"Gone: {tomb.item_id} was withdrawn from the repository on {tomb.date}.",
            **body,
        }
        response.cache_control = "private, no-cache" if full else "public, max-age=300"
        return response
    response = render_to_response(
        "heritage:templates/tombstone.jinja2",
        {
            "tomb": tomb,
            "full": full,
            "title": pick({k: v[0] for k, v in tomb.title.items() if v}, request),
        },
        request=request,
    )
    response.status_int = 410
    return response


@exception_view_config(HTTPNotFound, route_name="item")
@exception_view_config(HTTPNotFound, route_name="embed")
def gone_page(exc: HTTPNotFound, request: Any) -> Any:
    return _gone(exc, request, as_json=False)


@exception_view_config(HTTPNotFound, route_name="iiif_manifest")
@exception_view_config(HTTPNotFound, route_name="api_item")
def gone_json(exc: HTTPNotFound, request: Any) -> Any:
    return _gone(exc, request, as_json=True)
