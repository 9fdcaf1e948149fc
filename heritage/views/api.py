"""The JSON API for staff and scripts: items, institutions, collections."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPCreated, HTTPForbidden
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from digitization.premis import to_bytes as premis_bytes
from heritage.dublincore import dublin_core, to_bytes
from heritage.partner_view import latest_json, partner_json
from heritage.preservation import blob_storage, premis_record
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.validation import (
    ValidationFailed,
    collection_schema,
    deserialize,
    institution_schema,
    json_body,
    validate_item,
)
from heritage.views.helpers import page_after

MAX_PAGE = 200


def _limit(request: Any) -> int:
    raw = request.params.get("limit", str(request.registry.heritage.page_size))
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationFailed({"limit": "must be a whole number"}) from None
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_PAGE}"})
    return limit


def _page(request: Any, index: Any, route: str, represent: Any) -> dict[str, Any]:
    limit = _limit(request)
    objects, next_key = page_after(request, index, request.params.get("after"), limit)
    next_url = (
        request.route_url(route, _query={"after": next_key, "limit": limit}) if next_key else None
    )
    return {"items": [represent(o, request) for o in objects], "limit": limit, "next": next_url}


def item_json(item: Item, request: Any) -> dict[str, Any]:
    staff = request.has_permission("edit", item)
    data: dict[str, Any] = {
        "id": item.item_id,
        "url": request.route_url("item", item_id=item.item_id),
        "api": request.route_url("api_item", item_id=item.item_id),
        "institution": item.institution.__name__,
        "collection": item.collection.__name__,
        "state": item.state,
        "access": item.access,
        "rights": item.rights,
        "viewing_direction": item.viewing_direction,
        "sections": [{"label": s["label"], "files": list(s["files"])} for s in item.sections],
        "manifest": request.route_url("iiif_manifest", item_id=item.item_id),
        "metadata": {k: list(v) for k, v in item.metadata.items()},
        "modified": item.modified,
    }
    if staff:
        data["community"] = item.community
        data["created"] = item.created
    if request.has_permission("view-media", item):
        data["files"] = [
            {
                "filename": f.filename,
                "mimetype": f.mimetype,
                "size": f.size,
                "sha256": f.sha256,
                "label": dict(f.label),
            }
            for f in item.files
        ]
    return data


def institution_json(inst: Institution, request: Any) -> dict[str, Any]:
    return {
        "id": inst.__name__,
        "url": request.route_url("institution", inst_id=inst.__name__),
        "name": dict(inst.name),
        "country": inst.country,
        "homepage": inst.homepage,
        "collections": list(inst.collections.keys()),
        **partner_json(inst, request),  # public counts and entry points (counters only)
    }


def collection_json(coll: Collection, request: Any) -> dict[str, Any]:
    return {
        "id": coll.__name__,
        "url": request.route_url("collection", coll_id=coll.__name__),
        "institution": coll.institution.__name__,
        "title": dict(coll.title),
        "description": dict(coll.description),
        "items": len(coll.items),
    }


@view_defaults(renderer="json")
class ItemsAPI:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(route_name="api_items", request_method="GET")
    def list(self) -> dict[str, Any]:
        return _page(self.request, self.request.root.items, "api_items", item_json)

    @view_config(route_name="api_items", request_method="POST")
    def create(self) -> Any:
        request = self.request
        data = json_body(request)
        fields = validate_item(data)
        root = request.root
        collection = root.collections.get(fields["collection"])
        if collection is None:
            raise ValidationFailed({"collection": f"no collection {fields['collection']!r}"})
        if not request.has_permission("create", collection):
            raise HTTPForbidden()
        if fields["id"] in root.items or fields["id"] in getattr(root, "tombstones", ()):
            raise ValidationFailed({"id": f"{fields['id']!r} is already used in the consortium"})
        if "metadata" not in fields:
            raise ValidationFailed({"metadata.title": "a title is required"})
        item = Item(
            fields["id"],
            fields["metadata"],
            access=fields["access"],
            community=fields.get("community", ""),
            rights=fields.get("rights", ""),
            viewing_direction=fields.get("viewing_direction", "left-to-right"),
        )
        collection.add_item(item)
        response = HTTPCreated(json_body=item_json(item, request))
        response.location = request.route_url("api_item", item_id=item.item_id)
        return response

    @view_config(route_name="api_item", context=Item, request_method="GET", permission="view")
    def read(self) -> dict[str, Any]:
        return item_json(self.context, self.request)

    @view_config(route_name="api_item", context=Item, request_method="PATCH", permission="edit")
    def update(self) -> dict[str, Any]:
        item = self.context
        fields = validate_item(json_body(self.request), partial=True)
        if "metadata" in fields:
            item.metadata.clear()
            item.metadata.update(fields["metadata"])
        if "access" in fields or "community" in fields:
            try:
                item.set_access(
                    fields.get("access", item.access), fields.get("community", item.community)
                )
            except ValueError as exc:
                raise ValidationFailed({"community": str(exc)}) from None
        for name in ("rights", "viewing_direction"):
            if name in fields:
                setattr(item, name, fields[name])
        if "sections" in fields:  # the table of contents (IIIF ranges), in order
            item.sections = tuple(
                {"label": dict(s["label"]), "files": tuple(s["files"])} for s in fields["sections"]
            )
        item.touch()
        return item_json(item, self.request)


@view_defaults(renderer="json")
class InstitutionsAPI:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(route_name="api_institutions", request_method="GET")
    def list(self) -> dict[str, Any]:
        return _page(
            self.request, self.request.root.institutions, "api_institutions", institution_json
        )

    @view_config(route_name="api_institutions", request_method="POST", permission="admin")
    def create(self) -> Any:
        request = self.request
        data = json_body(request)
        fields = deserialize(institution_schema(), data)
        if fields["id"] in request.root.institutions:
            raise ValidationFailed({"id": f"{fields['id']!r} already exists"})
        inst = Institution(fields["name"], country=fields["country"], homepage=fields["homepage"])
        request.root.institutions.add(fields["id"], inst)
        return HTTPCreated(json_body=institution_json(inst, request))

    @view_config(
        route_name="api_institution", context=Institution, request_method="GET", permission="view"
    )
    def read(self) -> dict[str, Any]:
        data = institution_json(self.context, self.request)
        data["latest"] = latest_json(self.context, self.request)  # its newest public items
        return data


@view_defaults(renderer="json")
class CollectionsAPI:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(route_name="api_collections", request_method="GET")
    def list(self) -> dict[str, Any]:
        return _page(
            self.request, self.request.root.collections, "api_collections", collection_json
        )

    @view_config(route_name="api_collections", request_method="POST")
    def create(self) -> Any:
        request = self.request
        data = json_body(request)
        fields = deserialize(collection_schema(), data)
        inst = request.root.institutions.get(fields["institution"])
        if inst is None:
            raise ValidationFailed({"institution": f"no institution {fields['institution']!r}"})
        if not request.has_permission("create", inst):
            raise HTTPForbidden()
        if fields["id"] in request.root.collections:
            raise ValidationFailed({"id": f"{fields['id']!r} is already used in the consortium"})
        coll = Collection(fields["title"], description=fields["description"])
        request.root.add_collection(inst, fields["id"], coll)
        return HTTPCreated(json_body=collection_json(coll, request))

    @view_config(
        route_name="api_collection", context=Collection, request_method="GET", permission="view"
    )
    def read(self) -> dict[str, Any]:
        return collection_json(self.context, self.request)


@view_config(route_name="api_item_dc", context=Item, request_method="GET", permission="view")
def item_dc(context: Item, request: Any) -> Response:
    """The item's Dublin Core record (oai_dc XML), for everyone who may see the item."""
    element = dublin_core(
        context,
        item_url=request.route_url("item", item_id=context.item_id),
        manifest_url=request.route_url("iiif_manifest", item_id=context.item_id),
    )
    response = Response(body=to_bytes(element), content_type="application/xml", charset=None)
    response.md5_etag()
    response.conditional_response = True
    return response


@view_config(route_name="api_item_premis", context=Item, request_method="GET", permission="view")
def item_premis(context: Item, request: Any) -> Response:
    """The item's PREMIS 3 preservation record, for its institution's staff and admins."""
    institution = context.institution
    if not (
        request.has_permission("view-unpublished", institution)
        or request.has_permission("edit", context)
    ):
        raise HTTPForbidden()
    uri = request.route_url("item", item_id=context.item_id)
    element = premis_record(context, uri=uri, storage=blob_storage)
    response = Response(body=premis_bytes(element), content_type="application/xml", charset=None)
    response.md5_etag()
    response.conditional_response = True
    return response


@view_config(
    route_name="api_item_events",
    context=Item,
    request_method="GET",
    permission="view",
    renderer="json",
)
def item_events(context: Item, request: Any) -> dict[str, Any]:
    """The item's PREMIS events, oldest first, paged by key (``?after=KEY&limit=N``)."""
    if not (
        request.has_permission("view-unpublished", context.institution)
        or request.has_permission("edit", context)
    ):
        raise HTTPForbidden()
    limit = _limit(request)
    after = request.params.get("after")
    keys = context.events.data.keys(min=after, excludemin=True) if after else context.events.data
    events = []
    for key in keys:
        if len(events) == limit:
            url = request.route_url(
                "api_item_events",
                item_id=context.item_id,
                _query={"after": events[-1]["id"], "limit": limit},
            )
            return {"item": context.item_id, "events": events, "next": url}
        events.append(dict(context.events.data[key]))
    return {"item": context.item_id, "events": events, "next": None}
