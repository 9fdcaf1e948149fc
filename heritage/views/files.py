"""The staff item page (files, QA, events, upload) and the upload endpoints."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from heritage.resources.item import Item
from heritage.uploads import ingest_uploads
from heritage.views.helpers import item_title, pick
from heritage.workflow import facts_for, roles_for
from workflows.machine import STATE_LABELS, available


def _status(results: list[dict[str, Any]]) -> int:
    if any(r["outcome"] in {"stored", "flagged"} for r in results):
        return 201
    if any(r["outcome"] == "rejected" for r in results):
        return 400
    return 200


@view_config(
    route_name="api_item_files",
    context=Item,
    request_method="POST",
    permission="upload",
    renderer="json",
)
def api_upload(context: Item, request: Any) -> dict[str, Any]:
    results = ingest_uploads(request, context)
    request.response.status_int = _status(results)
    if request.response.status_int == 400:
        request.tm.doom()
    return {"item": context.item_id, "files": results}


@view_config(
    route_name="api_item_files",
    context=Item,
    request_method="GET",
    permission="view-media",
    renderer="json",
)
def api_files(context: Item, request: Any) -> dict[str, Any]:
    return {
        "item": context.item_id,
        "files": [
            {
                **f.as_dict(),
                "qa": dict(f.qa),
                "derivatives": f.derivatives,
                "label": f.label,
            }
            for f in context.files
        ],
    }


@view_config(
    route_name="staff_item",
    context=Item,
    permission="edit",
    renderer="heritage:templates/staff_item.jinja2",
)
def staff_item(context: Item, request: Any) -> dict[str, Any]:
    files = list(context.files)
    return {
        "item": context,
        "title": item_title(context, request),
        "files": files,
        "flagged": sum(1 for f in files if not f.qa.get("passed", True)),
        "events": context.events.latest(30),
        "can_upload": request.has_permission("upload", context),
        "results": request.session.pop_flash("upload"),
        "moved": request.session.pop_flash("transition"),
        "transitions": available(facts_for(context), roles_for(request.identity, context)),
        "state_labels": STATE_LABELS,
        "lang": request.locale_name,
        "timeline": [e for e in context.events.latest(200) if "workflow" in e],
        "pick": pick,
    }


@view_config(
    route_name="staff_item_upload", context=Item, request_method="POST", permission="upload"
)
def staff_upload(context: Item, request: Any) -> Any:
    results = ingest_uploads(request, context)
    request.session.flash(results, "upload")
    if request.headers.get("Accept", "").startswith("application/json"):  # upload.js
        request.response.status_int = _status(results)
        request.response.json_body = {"item": context.item_id, "files": results}
        request.response.content_type = "application/json"
        return request.response
    return HTTPFound(request.route_url("staff_item", item_id=context.item_id))
