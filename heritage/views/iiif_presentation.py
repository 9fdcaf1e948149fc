"""IIIF Presentation 3 (manifests, collections), Change Discovery 1.0, and media files.

Only what the caller may see is listed or served; a manifest of an item whose images or
sound the caller may not see answers 404, like the item's image URLs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import FileResponse, Response
from pyramid.view import view_config

from heritage.manifests import manifests
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.security import publicly_visible
from iiif.presentation.collection import PAGE_SIZE, build_collection, reference
from iiif.presentation.manifest import MEDIA_TYPE

DISCOVERY_CONTEXT = "http://iiif.io/api/discovery/1/context.json"


def _json(
    request: Any,
    data: Any,
    *,
    public: bool,
    etag: str | None = None,
    content_type: str = MEDIA_TYPE,
) -> Any:
    body = (
        data
        if isinstance(data, bytes)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    )
    response = Response(body=body, content_type=content_type, charset=None)
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "application/ld+json" not in accept:
        response.content_type = "application/json"
    if etag:
        response.etag = etag
    else:
        response.md5_etag()
    response.cache_control = "public, max-age=300" if public else "private, max-age=60"
    response.vary = ("Accept",) if public else ("Accept", "Cookie", "Authorization")
    response.conditional_response = True
    return response


def _plain(language_map: Any) -> dict[str, list[str]]:
    return {lang: [text] for lang, text in dict(language_map).items()}


@view_config(route_name="iiif_manifest", context=Item, permission="view")
def manifest(context: Item, request: Any) -> Any:
    if not request.has_permission("view-media", context):
        raise HTTPNotFound()
    body, etag = manifests.get(context, request)
    response = _json(request, body, public=publicly_visible(context), etag=etag)
    response.last_modified = datetime.fromisoformat(context.modified)
    return response


def _visible_items(request: Any, collection: Collection) -> list[Item]:
    return [i for i in collection.items.values() if request.has_permission("view-media", i)]


def _manifest_ref(request: Any, item: Item) -> dict[str, Any]:
    from heritage.metadata import values_by_language

    label = values_by_language(item.metadata.get("title", ())) or {"none": [item.item_id]}
    return reference(request.route_url("iiif_manifest", item_id=item.item_id), "Manifest", label)


@view_config(route_name="iiif_collection_top")
def top_collection(request: Any) -> Any:
    root = request.root
    items = [
        reference(
            request.route_url("iiif_institution", inst_id=name), "Collection", _plain(inst.name)
        )
        for name, inst in root.institutions.items()
    ]
    data = build_collection(
        request.route_url("iiif_collection_top"),
        _plain(root.title),
        items,
        summary={
            "en": ["The k@borneo consortium: its member institutions and their collections"],
            "ms": ["Konsortium k@borneo: institusi ahli dan koleksi mereka"],
            "id": ["Konsorsium k@borneo: lembaga anggota dan koleksinya"],
        },
    )
    return _json(request, data, public=True)


@view_config(route_name="iiif_institution", context=Institution, permission="view")
def institution_collection(context: Institution, request: Any) -> Any:
    items = [
        reference(
            request.route_url("iiif_collection", coll_id=name), "Collection", _plain(coll.title)
        )
        for name, coll in context.collections.items()
    ]
    data = build_collection(
        request.route_url("iiif_institution", inst_id=context.__name__),
        _plain(context.name),
        items,
        part_of=[{"id": request.route_url("iiif_collection_top"), "type": "Collection"}],
    )
    return _json(request, data, public=True)


@view_config(route_name="iiif_collection", context=Collection, permission="view")
def collection(context: Collection, request: Any) -> Any:
    """One collection's manifests; past PAGE_SIZE, sub-collections of one page each."""
    base = request.route_url("iiif_collection", coll_id=context.__name__)
    visible = _visible_items(request, context)
    page = request.params.get("page")
    label = _plain(context.title)
    part_of = [
        {
            "id": request.route_url("iiif_institution", inst_id=context.institution.__name__),
            "type": "Collection",
        }
    ]
    if page is not None:
        if not page.isdigit() or int(page) * PAGE_SIZE >= max(len(visible), 1):
            raise HTTPNotFound()
        n = int(page)
        chunk = visible[n * PAGE_SIZE : (n + 1) * PAGE_SIZE]
        data = build_collection(
            f"{base}?page={n}",
            label,
            [_manifest_ref(request, i) for i in chunk],
            part_of=[{"id": base, "type": "Collection"}],
        )
    elif len(visible) > PAGE_SIZE:
        pages = -(-len(visible) // PAGE_SIZE)
        data = build_collection(
            base,
            label,
            [
                reference(
                    f"{base}?page={n}",
                    "Collection",
                    {
                        "en": [
                            f"{label.get('en', next(iter(label.values())))[0]}, "
                            f"part {n + 1} of {pages}"
                        ]
                    },
                )
                for n in range(pages)
            ],
            part_of=part_of,
        )
    else:
        data = build_collection(
            base, label, [_manifest_ref(request, i) for i in visible], part_of=part_of
        )
    public = request.authenticated_userid is None
    return _json(request, data, public=public)


@view_config(route_name="iiif_changes")
def changes(request: Any) -> Any:
    activities = request.root.activities
    pages = activities.pages()
    data = {
        "@context": DISCOVERY_CONTEXT,
        "id": request.route_url("iiif_changes"),
        "type": "OrderedCollection",
        "totalItems": len(activities),
        "first": {
            "id": request.route_url("iiif_changes_page", page=0),
            "type": "OrderedCollectionPage",
        },
        "last": {
            "id": request.route_url("iiif_changes_page", page=pages - 1),
            "type": "OrderedCollectionPage",
        },
    }
    return _json(request, data, public=True, content_type="application/ld+json")


@view_config(route_name="iiif_changes_page")
def changes_page(request: Any) -> Any:
    from heritage.resources.activities import PAGE_SIZE as ACTIVITY_PAGE

    activities = request.root.activities
    page = request.matchdict["page"]
    if not page.isdigit() or int(page) >= activities.pages():
        raise HTTPNotFound()
    n = int(page)
    data: dict[str, Any] = {
        "@context": DISCOVERY_CONTEXT,
        "id": request.route_url("iiif_changes_page", page=n),
        "type": "OrderedCollectionPage",
        "partOf": {"id": request.route_url("iiif_changes"), "type": "OrderedCollection"},
        "startIndex": n * ACTIVITY_PAGE,
    }
    if n > 0:
        data["prev"] = {
            "id": request.route_url("iiif_changes_page", page=n - 1),
            "type": "OrderedCollectionPage",
        }
    if n + 1 < activities.pages():
        data["next"] = {
            "id": request.route_url("iiif_changes_page", page=n + 1),
            "type": "OrderedCollectionPage",
        }
    data["orderedItems"] = [
        {
            "type": a["type"],
            "object": {"id": request.application_url + a["object"], "type": a["object_type"]},
            "endTime": a["endTime"],
        }
        for a in activities.page(n)
    ]
    return _json(request, data, public=True, content_type="application/ld+json")


@view_config(route_name="iiif_media", context=Item, permission="view")
def media(context: Item, request: Any) -> Any:
    """Serve a recording (with HTTP Range, for seeking) or a transcript of the item.

    Images are served by the Image API, never here: masters stay in the repository.
    """
    f = context.files.get(request.matchdict["file"])
    servable = f is not None and (f.is_audio or f.mimetype == "application/pdf")
    if not servable or not request.has_permission("view-media", context):
        raise HTTPNotFound()
    response = FileResponse(f.blob.committed(), request=request, content_type=f.mimetype)
    response.etag = f.sha256
    response.accept_ranges = "bytes"
    response.conditional_response = True
    response.cache_control = (
        "public, max-age=86400" if publicly_visible(context) else "private, max-age=3600"
    )
    return response
