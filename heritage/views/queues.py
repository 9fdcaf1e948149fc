"""Work queues: what waits for each role at an institution, and batch transitions.

``GET /staff/queue?institution=ID&role=ROLE`` lists the institution's items in the role's
queue states (``workflows.machine.queue_states``), showing the note of a send-back to the
people of the step the item returned to. ``POST /api/transitions`` and the queue page's form
(``POST /staff/queue/transition``) move many items to one target state at once.

A batch runs in the request's one transaction. Each item is checked by the same rules as a
single transition (``heritage.workflow.apply_transition``), which changes nothing when it
refuses; so when some items move and others are refused, the moves that passed are committed
and the refusals are reported item by item. Only when no item moves is the transaction
doomed and the answer 409.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

import colander
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.traversal import find_root
from pyramid.view import view_config

from heritage.catalog import item_ids_where
from heritage.resources.institution import Institution
from heritage.validation import ValidationFailed, deserialize, json_body, transition_schema
from heritage.views.helpers import item_title, pick
from heritage.workflow import apply_transition, make_request, roles_for
from workflows.machine import (
    ADMIN,
    ROLE_QUEUES,
    STATE_LABELS,
    GuardFailed,
    WorkflowError,
    outgoing,
    queue_states,
)

#: Items on one page of a queue.
PAGE_SIZE = 50
#: Items in one batch transition: enough for a shelf, small enough for one transaction.
MAX_BATCH = 500
#: Refusals kept in the flash message: the session lives in a cookie of at most 4 KB.
FLASH_FAILURES = 5
FLASH_REASON_CHARS = 120
#: The roles a queue can be asked for; ``admin`` sees every queue at once.
QUEUE_ROLES: tuple[str, ...] = (*ROLE_QUEUES, ADMIN)
NOT_FOUND = "not found"


def includeme(config: Configurator) -> None:
    """Add this module's routes (its views are found by the scan)."""
    config.add_route("staff_queue", "/staff/queue")
    config.add_route("staff_queue_transition", "/staff/queue/transition")
    config.add_route("api_transitions", "/api/transitions")


# -- reading a queue ----------------------------------------------------------------------------


def may_work(user: Any, role: str, institution_id: str) -> bool:
    """Return whether ``user`` holds ``role`` at the institution (admins hold every role)."""
    return user is not None and (user.is_admin or (role, institution_id) in user.roles)


def _queue_params(request: Any, params: Any) -> tuple[Institution, str]:
    """Return the institution and role a queue is asked for, or raise 400, 404 or 403."""
    user = request.identity
    if user is None:
        raise HTTPForbidden()
    role = params.get("role", "")
    if role not in QUEUE_ROLES:
        raise HTTPBadRequest(f"Unknown role {role!r}; roles: {', '.join(QUEUE_ROLES)}.")
    institution_id = params.get("institution", "")
    if not institution_id:
        raise HTTPBadRequest("Say which institution's queue to show (?institution=ID).")
    institution = request.root.institutions.get(institution_id)
    if institution is None:
        raise HTTPNotFound()
    if not may_work(user, role, institution_id):
        raise HTTPForbidden()
    return institution, role


def queue_items(
    institution: Institution, states: Iterable[str], after: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Return up to ``limit`` items of the institution in ``states`` with ids after ``after``,
    and the cursor of the next page (None when there is none).

    The search catalog's ``institution`` and ``state`` indexes give the ids (no item is
    read to find them), so only the page's items are loaded.
    """
    root = find_root(institution)
    ids = item_ids_where(root, institution=institution.__name__, states=states)
    start = bisect.bisect_right(ids, after) if after else 0
    page = [root.items[i] for i in ids[start : start + limit + 1]]
    if len(page) > limit:  # one more exists: only then is there a next page
        return page[:limit], page[limit - 1].item_id
    return page, None


def last_move(item: Any) -> dict[str, Any] | None:
    """Return the item's latest workflow event (the one that brought it to its state)."""
    log = item.events
    total = len(log)
    for n in (20, total):  # the move is nearly always recent; else read the whole log
        for event in log.latest(n):
            if "workflow" in event:
                return event
        if n >= total:
            break
    return None


def sent_back(item: Any, users: Any) -> dict[str, Any] | None:
    """Return who sent the item back to its current step, the note and pages to rescan,
    or None if it did not arrive here by a send-back."""
    event = last_move(item)
    if event is None:
        return None
    move = event["workflow"]
    if not move.get("send_back") or move.get("target") != item.state:
        return None
    agent = move.get("agent", "")
    username = agent.removeprefix("user:")
    user = users.get(username) if username != agent else None
    return {
        "by": user.title if user is not None else username,
        "when": event["date"],
        "from": move.get("source", ""),
        "note": move.get("note", ""),
        "rescan": list(move.get("rescan", ())),
    }


def batch_targets(states: Iterable[str], roles: Iterable[str]) -> list[dict[str, Any]]:
    """Return the target states ``roles`` may move items of ``states`` to, each with the
    transitions leading there and the form fields they ask for, in transition order."""
    targets: dict[str, dict[str, Any]] = {}
    allowed = (t for state in states for t in outgoing(state) if t.allows(roles))
    for t in allowed:
        entry = targets.setdefault(
            t.target, {"state": t.target, "transitions": [], "inputs": set()}
        )
        entry["transitions"].append(t)
        entry["inputs"].update(t.inputs)
    return list(targets.values())


@view_config(
    route_name="staff_queue", request_method="GET", renderer="heritage:templates/queue.jinja2"
)
def queue(request: Any) -> dict[str, Any]:
    """The items waiting for a role at an institution, 50 a page, with a batch form."""
    institution, role = _queue_params(request, request.GET)
    states = queue_states(role)
    after = request.GET.get("after") or None
    items, next_after = queue_items(institution, states, after, PAGE_SIZE)
    users = request.root.users
    counts = institution.counts()
    targets = batch_targets(states, {role})
    return {
        "institution": institution,
        "institution_name": pick(institution.name, request),
        "role": role,
        "states": states,
        "waiting": {s: counts.get(s, 0) for s in states},
        "rows": [
            {
                "item": item,
                "title": item_title(item, request),
                "sent_back": sent_back(item, users),
            }
            for item in items
        ],
        "after": after,
        "next_after": next_after,
        "targets": targets,
        "inputs": set().union(*(t["inputs"] for t in targets)),
        "results": request.session.pop_flash("queue"),
        "state_labels": STATE_LABELS,
        "lang": request.locale_name,
    }


# -- batch transitions --------------------------------------------------------------------------


def batch_schema() -> colander.SchemaNode:
    """A batch: ``{"items": [ids…], "to": STATE, …}`` with the fields of one transition."""
    schema = transition_schema()
    schema.add(
        colander.SchemaNode(
            colander.Sequence(),
            colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=200)),
            name="items",
            validator=colander.Length(
                min=1,
                max=MAX_BATCH,
                min_err="give at least one item id",
                max_err=f"at most {MAX_BATCH} items at once",
            ),
        )
    )
    return schema


def _move_one(request: Any, item_id: str, transition_request: Any, agent: str) -> dict[str, Any]:
    """Try the transition on one item; return its result (nothing changes when refused)."""
    item = request.root.items.get(item_id)
    if item is None or not request.has_permission("view", item):
        # The same answer whether it does not exist or is hidden: never reveal which.
        return {"id": item_id, "ok": False, "state": None, "error": NOT_FOUND}
    try:
        apply_transition(item, roles_for(request.identity, item), transition_request, agent)
    except GuardFailed as exc:
        return {
            "id": item_id,
            "ok": False,
            "state": item.state,
            "error": "The item cannot move yet.",
            "unmet": list(exc.reasons),
        }
    except WorkflowError as exc:  # NotAllowed, RoleRequired
        return {"id": item_id, "ok": False, "state": item.state, "error": str(exc)}
    return {"id": item_id, "ok": True, "state": item.state}


def move_items(request: Any, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Apply one transition to every listed item; return the status and the results.

    Moves that pass are kept and refusals reported per item (200); if none moved, the
    transaction is doomed and the status is 409. Repeated ids are tried once.

    :raises ValidationFailed: the batch itself is malformed (400); nothing is tried.
    :raises HTTPForbidden: nobody is logged in.
    """
    user = request.identity
    if user is None:
        raise HTTPForbidden()
    fields = deserialize(batch_schema(), data)
    transition_request = make_request(fields)
    agent = f"user:{user.username}"
    ids = list(dict.fromkeys(fields["items"]))
    results = [_move_one(request, item_id, transition_request, agent) for item_id in ids]
    moved = sum(1 for r in results if r["ok"])
    if not moved:
        request.tm.doom()  # nothing moved: make sure nothing at all changes
    body = {"to": fields["to"], "moved": moved, "refused": len(results) - moved, "results": results}
    return (200 if moved else 409), body


@view_config(
    route_name="api_transitions", request_method="POST", permission="view", renderer="json"
)
def api_transitions(request: Any) -> dict[str, Any]:
    status, body = move_items(request, json_body(request))
    request.response.status_int = status
    return body


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    """Return a small summary of a batch for the flash message (it lives in the cookie)."""
    failures = [r for r in body["results"] if not r["ok"]]
    return {
        "to": body["to"],
        "moved": body["moved"],
        "refused": body["refused"],
        "failures": [
            {
                "id": r["id"][:64],
                "reason": "; ".join(r.get("unmet") or [r["error"]])[:FLASH_REASON_CHARS],
            }
            for r in failures[:FLASH_FAILURES]
        ],
    }


@view_config(route_name="staff_queue_transition", request_method="POST", permission="view")
def staff_queue_transition(request: Any) -> Any:
    """The queue page's batch form: move the checked items, then back to the queue."""
    institution, role = _queue_params(request, request.POST)
    data: dict[str, Any] = {"items": request.POST.getall("items")}
    data.update({k: v for k, v in request.POST.items() if k in {"to", "note", "defer_until"}})
    data["qa_signoff"] = "qa_signoff" in request.POST
    rescan = request.POST.get("rescan", "").replace(",", " ").split()
    if rescan:
        data["rescan"] = rescan
    try:
        _, body = move_items(request, data)
        summary = _summary(body)
    except ValidationFailed as exc:
        summary = {"invalid": exc.errors}
    request.session.flash(summary, "queue")
    return HTTPFound(
        request.route_url("staff_queue", _query={"institution": institution.__name__, "role": role})
    )
