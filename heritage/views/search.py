"""One search over everything: the public ``/search`` page and ``/api/search`` JSON.

Both take the same parameters (README, "Search") and search as the requester: their
principals come from the security policy, so staff also find their institution's
unpublished items, and nobody finds what they may not see.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.authorization import Everyone
from pyramid.config import Configurator
from pyramid.interfaces import ISecurityPolicy
from pyramid.view import view_config

from heritage.catalog import FACETS, OURS
from heritage.i18n import _
from heritage.metadata import first_value, language_name
from heritage.partner_view import thumbnail_url
from heritage.search import dates
from heritage.search.query import DEFAULT_SIZE, SORTS, Hit, SearchError, SearchResult, search
from heritage.search.text import highlight, matches, snippet
from heritage.validation import ValidationFailed
from heritage.views.helpers import pick, preferred_languages

#: Facet names as the page shows them.
FACET_TITLES = {
    "institution": _("Institution"),
    "collection": _("Collection"),
    "type": _("Type"),
    "language": _("Language"),
    "place": _("Place"),
    "decade": _("Decade"),
    "century": _("Century"),
    "digital": _("Digitized"),
    "source": _("Source"),
}
SORT_TITLES = {
    "relevance": _("Relevance"),
    "title": _("Title A–Z"),
    "-title": _("Title Z–A"),
    "date": _("Date, oldest first"),
    "-date": _("Date, newest first"),
    "modified": _("Updated, oldest first"),
    "-modified": _("Updated, newest first"),
}
DIGITAL_TITLES = {"yes": _("With images or sound"), "no": _("Description only")}
OURS_TITLE = _("Consortium members")
#: Facets listed in their own order (time), not by count.
CHRONOLOGICAL = frozenset({"decade", "century"})
#: Metadata elements a snippet is taken from, in order of preference (not the title).
SNIPPET_ELEMENTS = ("description", "subject", "creator", "coverage", "publisher", "contributor")
#: The parameters a search page keeps from one link to the next.
KEPT = ("q", "sort", "from", "to", "size", "facets", *FACETS)


def principals(request: Any) -> list[str]:
    """Return the requester's principals (Everyone alone for the public)."""
    policy = request.registry.queryUtility(ISecurityPolicy)
    if policy is None:  # pragma: no cover - the app always sets one
        return [Everyone]
    return list(policy.effective_principals(request))


def _whole_number(params: Any, name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed({name: "must be a whole number"}) from None


def run_search(request: Any) -> SearchResult:
    """Parse the request's search parameters and search as the requester.

    :raises ValidationFailed: naming the bad parameter (HTTP 400).
    """
    params = request.params
    facets: tuple[str, ...] = FACETS
    if params.get("facets") is not None:
        facets = tuple(f for f in params["facets"].split(",") if f.strip())
    try:
        return search(
            request.root,
            principals(request),
            q=params.get("q", ""),
            filters={f: params.getall(f) for f in FACETS if params.getall(f)},
            date_from=params.get("from"),
            date_to=params.get("to"),
            sort=params.get("sort") or None,
            page=_whole_number(params, "page", 1),
            size=_whole_number(params, "size", DEFAULT_SIZE),
            facets=facets,
        )
    except SearchError as exc:
        raise ValidationFailed({exc.field: exc.message}) from None


# -- presenting results --------------------------------------------------------------------


def _first_matching(metadata: Any, terms: frozenset[str]) -> str:
    """Return the metadata value a snippet should show: the first (not a title) in which a
    query word occurs, else the first description."""
    if terms:
        for element in (*SNIPPET_ELEMENTS, *metadata.keys()):
            if element == "title":
                continue
            for value in metadata.get(element, ()):
                if matches(str(value["value"]), terms):
                    return str(value["value"])
    descriptions = metadata.get("description", ())
    return str(descriptions[0]["value"]) if descriptions else ""


def present_hit(hit: Hit, request: Any, terms: frozenset[str]) -> dict[str, Any] | None:
    """Return what a page or the JSON says of one hit (None if the requester may not see it:
    the catalog already filtered it, this is the second lock)."""
    obj = hit.obj
    if obj is None:
        return None
    languages = preferred_languages(request)
    metadata = obj.metadata or {}
    if hit.kind == "item":
        if not request.has_permission("view", obj):
            return None
        title = first_value(metadata.get("title", ()), languages) or obj.item_id
        media = request.has_permission("view-media", obj) and len(obj.files) > 0
        institution, collection = obj.institution, obj.collection
        data = {
            "id": obj.item_id,
            "url": request.route_url("item", item_id=obj.item_id),
            "manifest": request.route_url("iiif_manifest", item_id=obj.item_id) if media else "",
            "thumbnail": thumbnail_url(obj, request) if media else None,
            "institution": {"id": institution.__name__, "name": pick(institution.name, request)},
            "collection": {"id": collection.__name__, "name": pick(collection.title, request)},
            "source": {"id": OURS, "name": request.localizer.translate(OURS_TITLE)},
            "access": obj.access,
            "state": obj.state,
        }
    else:
        title = first_value(metadata.get("title", ()), languages) or obj.identifier
        link = obj.link if obj.link.startswith(("https://", "http://")) else ""
        manifest = obj.manifest if obj.manifest.startswith(("https://", "http://")) else ""
        data = {
            "id": obj.identifier,
            "url": link,
            "manifest": manifest,
            "thumbnail": None,
            "institution": None,
            "collection": None,
            "source": {"id": obj.partner_id, "name": pick(obj.partner_name, request)},
        }
    return {
        "key": hit.key,
        "kind": hit.kind,
        "title": title,
        "title_html": highlight(title, terms),
        "snippet_html": snippet(_first_matching(metadata, terms), terms),
        "date": [v["value"] for v in metadata.get("date", ())],
        "type": [v["value"] for v in metadata.get("type", ())],
        "score": round(hit.score, 4) if hit.score is not None else None,
        **data,
    }


def facet_label(request: Any, facet: str, value: str) -> str:
    """Return how a facet value reads, in the request's language where we know it."""
    root = request.root
    translate = request.localizer.translate
    if facet == "institution":
        institution = root.institutions.get(value)
        return pick(institution.name, request) if institution is not None else value
    if facet == "collection":
        collection = root.collections.get(value)
        return pick(collection.title, request) if collection is not None else value
    if facet == "language":
        return language_name(value, request.locale_name)
    if facet in CHRONOLOGICAL:
        return dates.label(facet, value)
    if facet == "digital":
        return translate(DIGITAL_TITLES[value]) if value in DIGITAL_TITLES else value
    if facet == "source":
        if value == OURS:
            return translate(OURS_TITLE)
        return pick(root.catalog.label("source", value) or {}, request) or value
    return root.catalog.label(facet, value) or value


def present_facets(request: Any, result: SearchResult) -> list[dict[str, Any]]:
    out = []
    for facet, values in result.facets.items():
        shown = [
            {
                "value": fv.value,
                "label": facet_label(request, facet, fv.value),
                "count": fv.count,
                "selected": fv.selected,
            }
            for fv in values
        ]
        if facet in CHRONOLOGICAL:
            shown.sort(key=lambda v: int(v["value"]))
        out.append(
            {
                "name": facet,
                "title": request.localizer.translate(FACET_TITLES[facet]),
                "values": shown,
            }
        )
    return out


def page_url(request: Any, route: str, **changes: Any) -> str:
    """Return this search's URL with some parameters changed (``None`` drops one)."""
    pairs = [(k, v) for k in KEPT for v in request.params.getall(k) if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        pairs.extend((key, v) for v in (value if isinstance(value, list | tuple) else [value]))
    query = urlencode([(k, v) for k, v in pairs if v != ""])
    return request.route_url(route) + (f"?{query}" if query else "")


def toggle_url(request: Any, route: str, facet: str, value: str) -> str:
    """Return the URL that adds ``value`` to the facet's filter, or removes it (page 1)."""
    current = request.params.getall(facet)
    values = [v for v in current if v != value] if value in current else [*current, value]
    return page_url(request, route, **{facet: values})


# -- views ---------------------------------------------------------------------------------


def _keep_out_of_shared_caches(request: Any) -> None:
    """A signed-in search shows restricted items: never let a shared cache keep it."""
    response = request.response
    response.vary = ("Authorization", "Cookie")
    if request.authenticated_userid is not None:
        response.cache_control = "private, no-store"


@view_config(route_name="search", renderer="heritage:templates/search.jinja2")
def search_page(request: Any) -> dict[str, Any]:
    result = run_search(request)
    _keep_out_of_shared_caches(request)
    terms = result.query.terms
    hits = [h for h in (present_hit(hit, request, terms) for hit in result.hits) if h]
    filters = [
        {"facet": facet, "value": value, "label": facet_label(request, facet, value)}
        for facet, values in result.filters.items()
        for value in values
    ]
    return {
        "result": result,
        "hits": hits,
        "facets": [f for f in present_facets(request, result) if f["values"]],
        "filters": filters,
        "q": request.params.get("q", ""),
        "sorts": [(s, request.localizer.translate(SORT_TITLES[s])) for s in SORTS],
        "facet_titles": FACET_TITLES,
        "page_url": lambda **changes: page_url(request, "search", **changes),
        "toggle_url": lambda facet, value: toggle_url(request, "search", facet, value),
    }


@view_config(route_name="api_search", renderer="json", request_method="GET")
def search_json(request: Any) -> dict[str, Any]:
    result = run_search(request)
    terms = result.query.terms
    hits = [h for h in (present_hit(hit, request, terms) for hit in result.hits) if h]
    request.response.headers["Access-Control-Allow-Origin"] = "*"
    _keep_out_of_shared_caches(request)
    last = result.page >= result.pages
    return {
        "query": {
            "q": request.params.get("q", ""),
            "filters": {k: list(v) for k, v in result.filters.items()},
            "from": result.date_from,
            "to": result.date_to,
            "sort": result.sort,
        },
        "total": result.total,
        "page": result.page,
        "size": result.size,
        "pages": result.pages,
        "next": None if last else page_url(request, "api_search", page=result.page + 1),
        "prev": page_url(request, "api_search", page=result.page - 1) if result.page > 1 else None,
        "hits": hits,
        "facets": {f["name"]: f["values"] for f in present_facets(request, result)},
    }


def includeme(config: Configurator) -> None:  # pragma: no cover - wiring
    config.add_route("search", "/search")
    config.add_route("api_search", "/api/search")
