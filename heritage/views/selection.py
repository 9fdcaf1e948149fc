"""Nomination and selection: staff nominate items, curators score and rank them.

Pages and API (routes in :func:`includeme`):

- ``GET/POST /staff/nominate`` and ``POST /api/nominations``: any staff member nominates a
  new record or an existing one of their institution, with a reason; a digitized copy of the
  same work anywhere in the union catalogue (:func:`find_digitized_copies`) must be
  confirmed first (``confirm``).
- ``GET /staff/selection`` and ``GET /api/selection``: a curator's selection queue, ranked
  by priority with the institution's own weights; ``POST /staff/selection/{item}/score``
  scores an item; select, defer and reject post to ``/staff/items/{item}/transition``.
- ``GET/PUT /api/institutions/{id}/selection-weights`` and ``POST /staff/selection/weights``:
  the institution's weights.

The rules (criteria, scores, priority, title and identifier matching) live in
:mod:`workflows.selection`; this module reads the database, checks who may act, and renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import colander
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.traversal import find_root
from pyramid.view import view_config

from heritage.catalog import item_ids_where
from heritage.metadata import MAX_VALUE_LENGTH, MetadataError, normalize_language, validate_record
from heritage.resources.events import APP_AGENT
from heritage.resources.institution import Institution
from heritage.resources.item import Item, validate_item_id
from heritage.validation import ValidationFailed, deserialize, json_body
from heritage.views.api import item_json
from heritage.views.helpers import item_title, pick
from heritage.workflow import roles_for
from workflows import selection
from workflows.machine import STATE_LABELS, outgoing
from workflows.states import DEFERRED, NOMINATED

#: The states of the selection queue: waiting for a decision, or deferred to a date.
QUEUE_STATES: tuple[str, ...] = (NOMINATED, DEFERRED)
#: Languages offered for a new record's title (any BCP 47 tag may be typed).
TITLE_LANGUAGES: tuple[str, ...] = (
    "ms",
    "id",
    "en",
    "ms-Arab",
    "iba",
    "dtp",
    "bjn",
    "nij",
    "sdo",
    "mel",
    "xkl",
    "kys",
    "kxd",
)


def includeme(config: Configurator) -> None:  # pragma: no cover
    """Add this module's routes (its views are found by the scan)."""
    config.add_route("staff_nominate", "/staff/nominate")
    config.add_route("staff_selection", "/staff/selection")
    config.add_route("staff_selection_weights", "/staff/selection/weights")
    config.add_route(
        "staff_selection_score", "/staff/selection/{item_id}/score", traverse="/items/{item_id}"
    )
    config.add_route("api_nominations", "/api/nominations")
    config.add_route("api_selection", "/api/selection")
    config.add_route(
        "api_selection_weights",
        "/api/institutions/{inst_id}/selection-weights",
        traverse="/institutions/{inst_id}",
    )


def _now() -> datetime:
    return datetime.now(UTC)


def weights_of(institution: Institution) -> dict[str, int]:
    """Return the institution's selection weights (the defaults until it sets its own)."""
    return dict(institution.selection_weights or selection.DEFAULT_WEIGHTS)


# -- the union catalogue: digitized copies -----------------------------------------------------


def _values(item: Item, element: str) -> list[str]:
    return [v["value"] for v in item.metadata.get(element, ())]


def local_digitized_records(root: Any) -> Iterator[dict[str, Any]]:
    """Yield a union-catalogue record for each item of any member that has files.

    A record is ``{"source", "id", "institution", "titles", "identifiers", "item"}``;
    harvested records (a later source) carry a ``url`` and no ``item``.
    """
    # The catalog's "digital" index finds the items with files: no other item is read.
    for item_id in item_ids_where(root, digital=True):
        item = root.items[item_id]
        yield {
            "source": "local",
            "id": item.item_id,
            "institution": item.institution.__name__,
            "titles": _values(item, "title"),
            "identifiers": _values(item, "identifier"),
            "item": item,
        }


#: The sources of the union catalogue; harvested records (OAI-PMH) join here later.
CATALOGUE_SOURCES: tuple[Callable[[Any], Iterable[dict[str, Any]]], ...] = (
    local_digitized_records,
)


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [v for v in value if v and v.strip()]


def find_digitized_copies(
    root: Any,
    title: str | Iterable[str] | None,
    identifier: str | Iterable[str] | None,
    *,
    exclude: Iterable[str] = (),
    sources: Iterable[Callable[[Any], Iterable[dict[str, Any]]]] = CATALOGUE_SOURCES,
) -> list[dict[str, Any]]:
    """Return the union catalogue's digitized copies of the same work, best match first.

    A copy matches on the same identifier (:func:`workflows.selection.same_identifier`) or a
    close title (:func:`workflows.selection.similar_titles`). Each result is
    ``{"record", "match": "identifier" | "title", "similarity"}``; identifier matches
    come first.

    :param title: the title, or every title (all languages) of the work.
    :param identifier: its identifier, or identifiers (ISBN, call number, …).
    :param exclude: record ids to leave out (the item being nominated).
    :param sources: callables ``root → records`` (default :data:`CATALOGUE_SOURCES`).
    """
    titles, identifiers = _as_list(title), _as_list(identifier)
    excluded = set(exclude)
    found: list[dict[str, Any]] = []
    for source in sources:
        for record in source(root):
            if record["id"] in excluded:
                continue
            if any(
                selection.same_identifier(mine, theirs)
                for mine in identifiers
                for theirs in record["identifiers"]
            ):
                found.append({"record": record, "match": "identifier", "similarity": 1.0})
                continue
            candidates = list(enumerate(record["titles"]))
            best = max(
                (m.similarity for t in titles for m in selection.similar_titles(t, candidates)),
                default=None,
            )
            if best is not None:
                found.append({"record": record, "match": "title", "similarity": best})
    found.sort(key=lambda f: (f["match"] != "identifier", -f["similarity"]))
    return found


def _copy_json(found: dict[str, Any], request: Any) -> dict[str, Any]:
    """Return a match as shown to this user: what they may not see stays hidden.

    A copy the user may not view (another member's work in progress, or restricted
    material) is reported by institution and kind of match only, without title or link.
    """
    record = found["record"]
    institution = request.root.institutions.get(record["institution"])
    item = record.get("item")
    visible = item is not None and bool(request.has_permission("view", item))
    return {
        "institution": record["institution"],
        "institution_name": pick(institution.name, request) if institution else "",
        "match": found["match"],
        "similarity": found["similarity"],
        "visible": visible,
        "id": record["id"] if visible else None,
        "title": item_title(item, request) if visible else None,
        "url": request.route_url("item", item_id=record["id"]) if visible else None,
    }


# -- nominating --------------------------------------------------------------------------------


def _check_item_id(node: colander.SchemaNode, value: str) -> None:
    try:
        validate_item_id(value)
    except ValueError as exc:
        raise colander.Invalid(node, str(exc)) from None


def _check_language(node: colander.SchemaNode, value: str) -> None:
    try:
        normalize_language(value)
    except ValueError as exc:
        raise colander.Invalid(node, str(exc)) from None


def nomination_schema() -> colander.SchemaNode:
    """A nomination: ``collection``, then ``item`` (existing) or ``id`` + ``title`` (new)."""
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"))
    drop = {"missing": colander.drop}
    schema.add(colander.SchemaNode(colander.String(), name="collection"))
    schema.add(colander.SchemaNode(colander.String(), name="item", **drop))
    schema.add(colander.SchemaNode(colander.String(), name="id", validator=_check_item_id, **drop))
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="title",
            preparer=lambda v: v.strip() if isinstance(v, str) else v,
            validator=colander.Length(max=MAX_VALUE_LENGTH),
            **drop,
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="lang",
            preparer=lambda v: v.strip() if isinstance(v, str) else v,
            validator=_check_language,
            missing="und",
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="identifier",
            preparer=lambda v: v.strip() if isinstance(v, str) else v,
            validator=colander.Length(max=500),
            **drop,
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="reason",
            preparer=lambda v: v.strip() if isinstance(v, str) else v,
            validator=colander.Length(max=selection.MAX_REASON),
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.Boolean(false_choices=("false", "0"), true_choices=("true", "1")),
            name="confirm",
            missing=False,
        )
    )
    return schema


def _staff_institutions(request: Any) -> list[Institution]:
    """Return the institutions the user works for (every one, for admins)."""
    user = request.identity
    if user is None:
        return []
    institutions = request.root.institutions
    if user.is_admin:
        return list(institutions.values())
    return [institutions[i] for i in user.institutions() if i in institutions]


def _require_staff(request: Any) -> list[Institution]:
    mine = _staff_institutions(request)
    if not mine:
        raise HTTPForbidden()
    return mine


def _nominate(request: Any, data: dict[str, Any]) -> tuple[Item | None, list[dict[str, Any]]]:
    """Check and record a nomination; return the item (None if not saved) and the copies.

    The item is None when digitized copies were found and ``confirm`` is not true.

    :raises ValidationFailed: naming every bad field.
    :raises HTTPForbidden: the user is not staff of the collection's institution.
    """
    fields = deserialize(nomination_schema(), data)
    root = request.root
    collection = root.collections.get(fields["collection"])
    if collection is None:
        raise ValidationFailed({"collection": f"no collection {fields['collection']!r}"})
    institution = collection.institution
    if not request.has_permission("staff", institution):
        raise HTTPForbidden()
    errors: dict[str, str] = {}
    item: Item | None = None
    metadata: dict[str, Any] = {}
    if "item" in fields and "id" in fields:
        errors["item"] = "give either an existing item or a new record (id), not both"
    elif "item" in fields:
        for name in ("title", "identifier"):
            if name in fields:
                errors[name] = "only for a new record; an existing item keeps its own"
        item = root.items.get(fields["item"])
        if item is None or item.institution is not institution:
            errors["item"] = f"no item {fields['item']!r} at this institution"
            item = None
        elif item.state != NOMINATED:
            errors["item"] = (
                f"is in state {item.state!r}; only a record in 'nominated' can be nominated"
            )
        elif selection.is_nominated(item.nomination):
            errors["item"] = (
                f"already nominated by {item.nomination['by']} on {item.nomination['date'][:10]}"
            )
    elif "id" in fields:
        if fields["id"] in root.items or fields["id"] in getattr(root, "tombstones", ()):
            errors["id"] = f"{fields['id']!r} is already used in the consortium"
        if "title" not in fields:
            errors["title"] = "a new record needs a title"
        else:
            record: dict[str, Any] = {"title": [{"value": fields["title"], "lang": fields["lang"]}]}
            if "identifier" in fields:
                record["identifier"] = [fields["identifier"]]
            try:
                metadata = validate_record(record)
            except MetadataError as exc:
                errors.update(exc.errors)
    else:
        errors["item"] = "give an existing item's id, or a new record's id and title"
    try:
        reason = selection.validate_reason(fields["reason"])
    except selection.SelectionError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)

    if item is not None:
        titles, identifiers = _values(item, "title"), _values(item, "identifier")
        exclude = (item.item_id,)
    else:
        titles = [fields["title"]]
        identifiers = _as_list(fields.get("identifier"))
        exclude = ()
    copies = [
        _copy_json(found, request)
        for found in find_digitized_copies(root, titles, identifiers, exclude=exclude)
    ]
    if copies and not fields["confirm"]:
        return None, copies

    if item is None:
        item = Item(fields["id"], metadata, access="staff", state=NOMINATED)
        collection.add_item(item)
    username = request.identity.username
    item.nomination = selection.nominate(username, reason, _now(), previous=item.nomination)
    item.events.record(
        "appraisal",
        agents=[{"type": "person", "name": f"user:{username}"}, APP_AGENT],
        objects=(item.item_id,),
        detail="nominated for digitization"
        + (f" despite {len(copies)} possible digitized copies" if copies else ""),
        note=reason,
    )
    item.touch()
    return item, copies


#: The fields of the nomination form (``confirm`` is a checkbox).
FORM_FIELDS: tuple[str, ...] = ("collection", "item", "id", "title", "lang", "identifier", "reason")


@view_config(route_name="staff_nominate", renderer="heritage:templates/nominate.jinja2")
def nominate_form(request: Any) -> Any:
    """The nomination form: validation errors re-show it (400), copies ask to confirm (409)."""
    mine = _require_staff(request)
    values = dict.fromkeys(FORM_FIELDS, "")
    values["lang"] = "ms"
    errors: dict[str, str] = {}
    copies: list[dict[str, Any]] = []
    if request.method == "POST":
        values.update({k: request.POST.get(k, "").strip() for k in FORM_FIELDS})
        data: dict[str, Any] = {k: v for k, v in values.items() if v}  # blank: not given
        data["confirm"] = "true" if request.POST.get("confirm") else "false"
        try:
            item, copies = _nominate(request, data)
        except ValidationFailed as exc:
            errors = exc.errors
            request.response.status_int = 400
        else:
            if item is not None:
                request.session.flash(
                    {"id": item.item_id, "title": item_title(item, request)}, "nomination"
                )
                return HTTPFound(request.route_url("staff_nominate"))
            request.response.status_int = 409
    return {
        "institutions": [(inst, list(inst.collections.values())) for inst in mine],
        "values": values,
        "errors": errors,
        "copies": copies,
        "done": request.session.pop_flash("nomination"),
        "languages": TITLE_LANGUAGES,
        "pick": pick,
    }


@view_config(route_name="api_nominations", request_method="POST", renderer="json")
def api_nominate(request: Any) -> dict[str, Any]:
    """``POST /api/nominations``: 201 with the item, 409 when copies need a ``confirm``."""
    _require_staff(request)
    item, copies = _nominate(request, json_body(request))
    if item is None:
        request.response.status_int = 409
        return {
            "error": "The union catalogue already holds a digitized copy of this work; "
            'send "confirm": true to nominate it anyway.',
            "possible_duplicates": copies,
        }
    request.response.status_int = 201
    request.response.location = request.route_url("api_item", item_id=item.item_id)
    return {
        "item": item_json(item, request),
        "nomination": dict(item.nomination),
        "possible_duplicates": copies,
    }


# -- the selection queue -----------------------------------------------------------------------


def _criteria(request: Any, weights: dict[str, int]) -> list[dict[str, Any]]:
    lang = request.locale_name
    return [
        {
            "name": c,
            "label": selection.label(c, lang),
            "help": selection.help_text(c, lang),
            "weight": weights[c],
        }
        for c in selection.CRITERIA
    ]


def nomination_json(item: Item, weights: dict[str, int], request: Any) -> dict[str, Any]:
    """Return an item of the queue with its nomination, scores and priority."""
    n = item.nomination or {}
    scores = dict(n.get("scores") or {})
    return {
        "id": item.item_id,
        "title": item_title(item, request),
        "state": item.state,
        "collection": item.collection.__name__,
        "priority": selection.priority(scores, weights),
        "scores": scores,
        "reason": n.get("reason", ""),
        "by": n.get("by", ""),
        # A record made another way (POST /api/items) waits from its creation.
        "date": n.get("date") or item.created,
        "scored_by": n.get("scored_by", ""),
        "scored": n.get("scored", ""),
        "deferred_until": getattr(item, "deferred_until", None) if item.state == DEFERRED else None,
        "url": request.route_url("staff_item", item_id=item.item_id),
        "api": request.route_url("api_item", item_id=item.item_id),
    }


def selection_queue(institution: Institution, request: Any) -> list[dict[str, Any]]:
    """Return the institution's nominated and deferred items, ranked by priority."""
    counts = institution.counts()
    if not any(counts.get(state, 0) for state in QUEUE_STATES):
        return []  # the counters say so: no need to read the items
    weights = weights_of(institution)
    # The catalog's state index finds them: only the queue's items are read.
    root = find_root(institution)
    ids = item_ids_where(root, institution=institution.__name__, states=QUEUE_STATES)
    rows = [nomination_json(root.items[i], weights, request) for i in ids]
    return list(selection.rank(rows))


def _curator_institution(request: Any) -> tuple[Institution, list[Institution]]:
    """Return the institution asked for (``?institution=``, else the first) and all those
    whose queue the user may see (curators and admins)."""
    mine = [i for i in _staff_institutions(request) if request.has_permission("nominate", i)]
    if not mine:
        raise HTTPForbidden()
    wanted = request.params.get("institution", "")
    if not wanted:
        return mine[0], mine
    institution = request.root.institutions.get(wanted)
    if institution is None:
        raise ValidationFailed({"institution": f"no institution {wanted!r}"})
    if not request.has_permission("nominate", institution):
        raise HTTPForbidden()
    return institution, mine


@view_config(route_name="staff_selection", renderer="heritage:templates/selection.jinja2")
def selection_page(request: Any) -> dict[str, Any]:
    """The selection queue: score each nomination, then select, defer or reject it."""
    institution, mine = _curator_institution(request)
    weights = weights_of(institution)
    rows = selection_queue(institution, request)
    user = request.identity
    for row in rows:
        item = request.root.items[row["id"]]
        roles = roles_for(user, item)
        row["transitions"] = [t for t in outgoing(item.state) if t.allows(roles)]
    return {
        "institution": institution,
        "institutions": mine,
        "rows": rows,
        "criteria": _criteria(request, weights),
        "default_weights": institution.selection_weights is None,
        "scores": range(selection.MIN_SCORE, selection.MAX_SCORE + 1),
        "weights_range": range(selection.MIN_WEIGHT, selection.MAX_WEIGHT + 1),
        "messages": request.session.pop_flash("selection"),
        "state_labels": STATE_LABELS,
        "lang": request.locale_name,
        "pick": pick,
    }


@view_config(route_name="api_selection", request_method="GET", renderer="json")
def api_selection(request: Any) -> dict[str, Any]:
    """``GET /api/selection?institution=ID``: the ranked queue, with the weights used."""
    institution, _mine = _curator_institution(request)
    return {
        "institution": institution.__name__,
        "weights": weights_of(institution),
        "criteria": [
            {k: v for k, v in c.items() if k != "weight"}
            for c in _criteria(request, weights_of(institution))
        ],
        "nominations": selection_queue(institution, request),
    }


def _form_numbers(request: Any) -> dict[str, Any]:
    """Return the criteria fields of a form, digits as ints; blank fields are left out."""
    values: dict[str, Any] = {}
    for criterion in selection.CRITERIA:
        raw = request.POST.get(criterion, "").strip()
        if raw:
            values[criterion] = int(raw) if raw.isascii() and raw.isdigit() else raw
    return values


def _back_to_queue(request: Any, institution: Institution, anchor: str = "") -> HTTPFound:
    return HTTPFound(
        request.route_url(
            "staff_selection", _query={"institution": institution.__name__}, _anchor=anchor
        )
    )


@view_config(
    route_name="staff_selection_score",
    context=Item,
    request_method="POST",
    permission="nominate",
)
def score_item(context: Item, request: Any) -> Any:
    """Score a nominated or deferred item of the curator's institution (0–5 per criterion)."""
    if context.state not in QUEUE_STATES:
        raise ValidationFailed(
            {"state": f"the item is {context.state!r}; only nominated or deferred items are scored"}
        )
    username = request.identity.username
    try:
        nomination = selection.score(context.nomination, _form_numbers(request), username, _now())
    except selection.SelectionError as exc:
        raise ValidationFailed(exc.errors) from None
    context.nomination = nomination  # a new dict: stored whole
    institution = context.institution
    value = selection.priority(nomination["scores"], weights_of(institution))
    context.events.record(
        "appraisal",
        agents=[{"type": "person", "name": f"user:{username}"}],
        objects=(context.item_id,),
        detail=f"scored for selection: priority {value}",
    )
    request.session.flash(
        {"id": context.item_id, "title": item_title(context, request), "priority": value},
        "selection",
    )
    return _back_to_queue(request, institution, f"item-{context.item_id}")


def _weights_errors(exc: selection.SelectionError) -> dict[str, str]:
    return {k if k == "weights" else f"weights.{k}": v for k, v in exc.errors.items()}


@view_config(route_name="staff_selection_weights", request_method="POST")
def weights_form(request: Any) -> Any:
    """Set the institution's weights from the selection page's form."""
    wanted = request.POST.get("institution", "")
    institution = request.root.institutions.get(wanted)
    if institution is None:
        raise ValidationFailed({"institution": f"no institution {wanted!r}"})
    if not request.has_permission("nominate", institution):
        raise HTTPForbidden()
    try:
        institution.selection_weights = selection.validate_weights(_form_numbers(request))
    except selection.SelectionError as exc:
        raise ValidationFailed(_weights_errors(exc)) from None
    request.session.flash({"weights": True}, "selection")
    return _back_to_queue(request, institution)


# -- the weights in the API --------------------------------------------------------------------


def weights_json(institution: Institution, request: Any) -> dict[str, Any]:
    weights = weights_of(institution)
    return {
        "institution": institution.__name__,
        "weights": weights,
        "default": institution.selection_weights is None,
        "criteria": [
            {k: v for k, v in c.items() if k != "weight"} for c in _criteria(request, weights)
        ],
    }


@view_config(
    route_name="api_selection_weights",
    context=Institution,
    request_method="GET",
    permission="staff",
    renderer="json",
)
def api_weights(context: Institution, request: Any) -> dict[str, Any]:
    """The institution's selection weights, for its staff."""
    return weights_json(context, request)


@view_config(
    route_name="api_selection_weights",
    context=Institution,
    request_method="PUT",
    permission="nominate",
    renderer="json",
)
def api_set_weights(context: Institution, request: Any) -> dict[str, Any]:
    """Replace the weights: ``{"weights": {criterion: 0–10, …}}``; ``null`` restores the
    consortium defaults. For the institution's curators and admins."""
    data = json_body(request)
    errors = {k: "unknown field" for k in data if k != "weights"}
    if "weights" not in data:
        errors["weights"] = "required: an object with a weight for each of " + ", ".join(
            selection.CRITERIA
        )
    if errors:
        raise ValidationFailed(errors)
    if data["weights"] is None:
        context.selection_weights = None
    else:
        try:
            context.selection_weights = selection.validate_weights(data["weights"])
        except selection.SelectionError as exc:
            raise ValidationFailed(_weights_errors(exc)) from None
    return weights_json(context, request)
