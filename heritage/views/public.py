"""Public HTML pages: home, institution, collection, item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from pyramid.view import view_config

from heritage import partner_view
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.views.helpers import item_title, metadata_rows, page_after, pick

RECENT = 8


@view_config(route_name="home", renderer="heritage:templates/home.jinja2")
def home(request: Any) -> dict[str, Any]:
    root = request.root
    return {
        "institutions": list(root.institutions.values()),
        "recent": partner_view.latest_public_everywhere(root, RECENT),
        "pick": pick,
        "item_title": item_title,
    }


@view_config(
    route_name="institution",
    context=Institution,
    permission="view",
    renderer="heritage:templates/institution.jinja2",
)
def institution(context: Institution, request: Any) -> dict[str, Any]:
    """The partner page: public counts, newest public items, collections, entry points."""
    locale = request.locale_name
    return {
        "institution": context,
        "collections": list(context.collections.values()),
        "counts": partner_view.public_counts(context),
        "latest": partner_view.latest_public_items(context),
        "entry_points": partner_view.entry_points(context, request),
        "thumbnail_url": partner_view.thumbnail_url,
        "number": lambda n: format_decimal(n, locale=locale),
        "day": lambda iso: format_date(datetime.fromisoformat(iso), "medium", locale=locale),
        "pick": pick,
        "item_title": item_title,
    }


@view_config(
    route_name="collection",
    context=Collection,
    permission="view",
    renderer="heritage:templates/collection.jinja2",
)
def collection(context: Collection, request: Any) -> dict[str, Any]:
    size = request.registry.heritage.page_size
    items, next_key = page_after(request, context.items, request.params.get("after"), size)
    return {
        "collection": context,
        "institution": context.institution,
        "items": items,
        "next_key": next_key,
        "pick": pick,
        "item_title": item_title,
    }


@view_config(
    route_name="item", context=Item, permission="view", renderer="heritage:templates/item.jinja2"
)
def item(context: Item, request: Any) -> dict[str, Any]:
    return {
        "item": context,
        "title": item_title(context, request),
        "rows": metadata_rows(context, request),
        "institution": context.institution,
        "collection": context.collection,
        "show_media": request.has_permission("view-media", context),
        "can_edit": request.has_permission("edit", context),
        "pick": pick,
    }
