"""Partners of the union catalogue, for admins: pages and JSON API.

- ``GET /staff/partners``: every partner with its last run (outcome, counts, error) and how
  many records we hold from it; ``POST`` adds one (form, CSRF).
- ``GET /staff/partners/{id}``: one partner, its edit form and its run log; ``POST`` saves
  (name, URL, prefix, set, schedule, enabled); ``POST …/harvest`` queues a harvest now.
- ``GET /api/partners``: the list; ``POST`` creates (400 naming every bad field);
  ``GET /api/partners/{id}``: one partner with its log.

Admins only: others get 403 (signed in) or the login page (HTML); partner URLs and errors may
name internal hosts, so nothing here is public.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPCreated, HTTPFound, HTTPNotFound
from pyramid.view import view_config

from heritage.resources.partners import (
    RUNS_KEPT,
    Partner,
    PartnerInvalid,
    apply_partner,
    new_partner,
    validate_partner,
)
from heritage.validation import ValidationFailed, json_body
from heritage.views.helpers import pick

#: Interface languages a partner's name can be given in on the form.
NAME_LANGUAGES = ("en", "ms", "id")
FLASH = "partners"


def includeme(config: Configurator) -> None:  # pragma: no cover
    """Add this module's routes (its views are found by the scan)."""
    config.add_route("staff_partners", "/staff/partners")
    config.add_route("staff_partner", "/staff/partners/{partner_id}")
    config.add_route("staff_partner_harvest", "/staff/partners/{partner_id}/harvest")
    config.add_route("api_partners", "/api/partners")
    config.add_route("api_partner", "/api/partners/{partner_id}")


def _partner(request: Any) -> Partner:
    partner = request.root.partners.get(request.matchdict["partner_id"])
    if partner is None:
        raise HTTPNotFound()
    return partner


def record_count(root: Any, partner_id: str) -> int:
    records = root.harvested.records_of(partner_id)
    return len(records) if records is not None else 0


def partner_json(partner: Partner, request: Any, *, log: bool = False) -> dict[str, Any]:
    data = partner.as_dict()
    data["records"] = record_count(request.root, partner.__name__)
    data["url_api"] = request.route_url("api_partner", partner_id=partner.__name__)
    if log:
        data["log"] = [run.as_dict() for run in partner.latest_runs()]
    return data


# -- JSON API -----------------------------------------------------------------------------------


@view_config(route_name="api_partners", request_method="GET", permission="admin", renderer="json")
def api_list(request: Any) -> dict[str, Any]:
    return {"partners": [partner_json(p, request) for p in request.root.partners.values()]}


@view_config(route_name="api_partners", request_method="POST", permission="admin", renderer="json")
def api_create(request: Any) -> Any:
    data = json_body(request)
    try:
        fields = validate_partner(data, creating=True)
    except PartnerInvalid as exc:
        raise ValidationFailed(exc.errors) from None
    if fields["id"] in request.root.partners:
        raise ValidationFailed({"id": f"{fields['id']!r} already exists"})
    partner = request.root.partners.add(fields["id"], new_partner(fields))
    response = HTTPCreated(json_body=partner_json(partner, request, log=True))
    response.location = request.route_url("api_partner", partner_id=partner.__name__)
    return response


@view_config(route_name="api_partner", request_method="GET", permission="admin", renderer="json")
def api_read(request: Any) -> dict[str, Any]:
    return partner_json(_partner(request), request, log=True)


# -- pages --------------------------------------------------------------------------------------


def _form_data(request: Any, *, creating: bool) -> dict[str, Any]:
    """Return the posted form as partner fields (names per language → a language map)."""
    post = request.POST
    data: dict[str, Any] = {}
    if creating:
        data["id"] = post.get("id", "").strip()
    names = {lang: post.get(f"name_{lang}", "").strip() for lang in NAME_LANGUAGES}
    data["name"] = {lang: text for lang, text in names.items() if text}
    for key in ("url", "prefix", "set", "schedule"):
        data[key] = post.get(key, "").strip()
    for key in ("prefix", "schedule"):  # left empty: the default, or as it was
        if not data[key]:
            del data[key]
    data["enabled"] = post.get("enabled") == "on"
    return data


def _rows(request: Any) -> list[dict[str, Any]]:
    return [
        {"partner": p, "records": record_count(request.root, p.__name__), "last": p.last_run}
        for p in request.root.partners.values()
    ]


def _page(request: Any, **extra: Any) -> dict[str, Any]:
    return {
        "pick": pick,
        "languages": NAME_LANGUAGES,
        "values": {},
        "errors": {},
        "messages": request.session.pop_flash(FLASH),
        **extra,
    }


@view_config(
    route_name="staff_partners",
    request_method="GET",
    permission="admin",
    renderer="heritage:templates/partners.jinja2",
)
def partners_page(request: Any) -> dict[str, Any]:
    return _page(request, rows=_rows(request), values={"prefix": "oai_dc", "schedule": "1d"})


@view_config(
    route_name="staff_partners",
    request_method="POST",
    permission="admin",
    renderer="heritage:templates/partners.jinja2",
)
def partners_add(request: Any) -> Any:
    data = _form_data(request, creating=True)
    errors: dict[str, str] = {}
    try:
        fields = validate_partner(data, creating=True)
    except PartnerInvalid as exc:
        errors = exc.errors
    else:
        if fields["id"] in request.root.partners:
            errors = {"id": f"{fields['id']!r} already exists"}
    if errors:
        request.response.status_int = 400
        values = {**data, **{f"name_{k}": v for k, v in data["name"].items()}}
        return _page(request, rows=_rows(request), values=values, errors=errors)
    request.root.partners.add(fields["id"], new_partner(fields))
    request.session.flash({"added": fields["id"]}, FLASH)
    return HTTPFound(request.route_url("staff_partner", partner_id=fields["id"]))


def _edit_values(partner: Partner) -> dict[str, Any]:
    values = {
        "url": partner.url,
        "prefix": partner.prefix,
        "set": partner.set_spec,
        "schedule": partner.schedule,
        "enabled": partner.enabled,
    }
    values.update({f"name_{lang}": text for lang, text in partner.name.items()})
    return values


@view_config(
    route_name="staff_partner",
    request_method="GET",
    permission="admin",
    renderer="heritage:templates/partner.jinja2",
)
def partner_page(request: Any) -> dict[str, Any]:
    partner = _partner(request)
    return _page(
        request,
        partner=partner,
        records=record_count(request.root, partner.__name__),
        runs=partner.latest_runs(RUNS_KEPT),
        values=_edit_values(partner),
        queued=request.root.jobs.queued("harvest", partner=partner.__name__),
    )


@view_config(
    route_name="staff_partner",
    request_method="POST",
    permission="admin",
    renderer="heritage:templates/partner.jinja2",
)
def partner_edit(request: Any) -> Any:
    partner = _partner(request)
    data = _form_data(request, creating=False)
    try:
        fields = validate_partner(data, creating=False)
    except PartnerInvalid as exc:
        request.response.status_int = 400
        values = {**data, **{f"name_{k}": v for k, v in data["name"].items()}}
        return _page(
            request,
            partner=partner,
            records=record_count(request.root, partner.__name__),
            runs=partner.latest_runs(RUNS_KEPT),
            values=values,
            errors=exc.errors,
            queued=request.root.jobs.queued("harvest", partner=partner.__name__),
        )
    apply_partner(partner, fields)
    request.session.flash({"saved": partner.__name__}, FLASH)
    return HTTPFound(request.route_url("staff_partner", partner_id=partner.__name__))


@view_config(route_name="staff_partner_harvest", request_method="POST", permission="admin")
def partner_harvest(request: Any) -> Any:
    """Queue a harvest of this partner for the worker (once: not if one is waiting)."""
    partner = _partner(request)
    if not request.root.jobs.queued("harvest", partner=partner.__name__):
        request.root.jobs.add("harvest", partner=partner.__name__)
    request.session.flash({"queued": partner.__name__}, FLASH)
    return HTTPFound(request.route_url("staff_partner", partner_id=partner.__name__))
