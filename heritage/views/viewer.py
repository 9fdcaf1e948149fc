"""Mirador pages: ``/embed/{item_id}`` for partner sites' iframes, and ``/compare``.

Both open the items' IIIF manifests in Mirador, served from our own static files
(``make install`` puts the pinned, checked bundle in ``heritage/static/vendor/mirador``).
An item whose images the caller may not see answers 404, as its manifest does.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.view import view_config

from heritage.i18n import _
from heritage.resources.item import Item
from heritage.views.helpers import item_title

#: At most this many items side by side on /compare.
MAX_COMPARE = 4


def mirador_config(request: Any, manifests: list[str], *, embedded: bool = False) -> dict[str, Any]:
    """Return the ``Mirador.viewer`` settings for these manifests (``id`` is set in JS).

    ``language`` makes Mirador pick the manifests' labels in the reader's language; its
    own buttons have no Malay or Indonesian and stay in English. Several windows open side
    by side (Mirador's default "mosaic" workspace).
    """
    config: dict[str, Any] = {
        "language": request.locale_name,
        "windows": [{"manifestId": m} for m in manifests],
    }
    if embedded:  # one item, nothing else: no workspace panel, the window stays
        config["workspaceControlPanel"] = {"enabled": False}
        config["window"] = {"allowClose": False, "allowMaximize": False, "allowFullscreen": True}
    return config


@view_config(
    route_name="embed",
    context=Item,
    permission="view",
    renderer="heritage:templates/embed.jinja2",
)
def embed(context: Item, request: Any) -> dict[str, Any]:
    """The viewer alone, full window, for an ``<iframe>`` on any site."""
    if not request.has_permission("view-media", context):
        raise HTTPNotFound()
    # Made to be framed by partner sites: allow every ancestor, explicitly.
    request.response.headers["Content-Security-Policy"] = "frame-ancestors *"
    manifest = request.route_url("iiif_manifest", item_id=context.item_id)
    return {
        "item": context,
        "title": item_title(context, request),
        "item_url": request.route_url("item", item_id=context.item_id),
        "manifest": manifest,
        "config": mirador_config(request, [manifest], embedded=True),
    }


def requested_ids(request: Any) -> list[str]:
    """Return the item ids of ``?items=a,b`` (repeatable), in order, without repeats."""
    ids: list[str] = []
    for value in request.GET.getall("items"):
        for part in value.split(","):
            item_id = part.strip()
            if item_id and item_id not in ids:
                ids.append(item_id)
    return ids


@view_config(route_name="compare", renderer="heritage:templates/compare.jinja2")
def compare(request: Any) -> dict[str, Any]:
    """Up to four items side by side; ids that are unknown or hidden are skipped, and said so."""
    ids = requested_ids(request)
    if not ids:
        raise HTTPBadRequest(_("Give the ids of the items to compare, as in /compare?items=a,b"))
    extra = ids[MAX_COMPARE:]
    items: list[Item] = []
    skipped: list[str] = []
    for item_id in ids[:MAX_COMPARE]:
        item = request.root.items.get(item_id)
        # Unknown and hidden look the same: a hidden item's existence must not leak.
        if item is None or not request.has_permission("view-media", item):
            skipped.append(item_id)
        else:
            items.append(item)
    if not items:
        raise HTTPNotFound()
    manifests = [request.route_url("iiif_manifest", item_id=i.item_id) for i in items]
    return {
        "entries": [
            {
                "item": item,
                "title": item_title(item, request),
                "url": request.route_url("item", item_id=item.item_id),
            }
            for item in items
        ],
        "skipped": skipped,
        "extra": extra,
        "max_compare": MAX_COMPARE,
        "config": mirador_config(request, manifests),
    }
