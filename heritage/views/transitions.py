"""Workflow transitions: ``POST /api/items/{id}/transitions`` and the staff page's buttons."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.view import view_config

from heritage.resources.item import Item
from heritage.validation import deserialize, json_body, transition_schema
from heritage.workflow import apply_transition, make_request, roles_for
from workflows.machine import GuardFailed, NotAllowed, RoleRequired


def _transition(context: Item, request: Any, data: dict[str, Any]) -> tuple[int, dict]:
    """Try the transition; return an HTTP status and a JSON body saying what happened."""
    user = request.identity
    roles = roles_for(user, context)
    if not roles:
        raise HTTPForbidden()
    fields = deserialize(transition_schema(), data)
    try:
        transition, event = apply_transition(
            context, roles, make_request(fields), f"user:{user.username}"
        )
    except NotAllowed as exc:
        return 409, {"error": str(exc), "unmet": [str(exc)], "state": context.state}
    except RoleRequired as exc:
        return 403, {"error": str(exc), "roles": sorted(exc.roles)}
    except GuardFailed as exc:
        return 409, {
            "error": "The item cannot move yet.",
            "unmet": list(exc.reasons),
            "state": context.state,
        }
    return 200, {
        "item": context.item_id,
        "state": context.state,
        "from": transition.source,
        "event": {k: v for k, v in event.items() if k != "agents"},
    }


@view_config(
    route_name="api_item_transitions",
    context=Item,
    request_method="POST",
    permission="view",
    renderer="json",
)
def api_transition(context: Item, request: Any) -> dict[str, Any]:
    status, body = _transition(context, request, json_body(request))
    request.response.status_int = status
    if status != 200:
        request.tm.doom()  # a refused move changes nothing
    return body


@view_config(
    route_name="staff_item_transition", context=Item, request_method="POST", permission="edit"
)
def staff_transition(context: Item, request: Any) -> Any:
    data = {k: v for k, v in request.POST.items() if k in {"to", "note", "defer_until"}}
    data["qa_signoff"] = "qa_signoff" in request.POST
    rescan = request.POST.get("rescan", "").replace(",", " ").split()
    if rescan:
        data["rescan"] = rescan
    status, body = _transition(context, request, data)
    if status != 200:
        request.tm.doom()
    request.session.flash(body, "transition")
    return HTTPFound(request.route_url("staff_item", item_id=context.item_id))
