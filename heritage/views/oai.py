"""``/oai``: the OAI-PMH 2.0 endpoint (GET, and POST with a form body).

Parse → call ``heritage.oai.provider`` → send ``text/xml``. Protocol errors are OAI-PMH
``<error>`` documents with status 200, as the protocol says. Every answer is the same for
everyone (only what the public may see is ever served, whoever asks), so no CSRF, no
identity, and short public caching only for the answers that are not record lists.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.view import view_config

from heritage.oai.provider import Links, Provider, ProviderConfig
from heritage.oai.tokens import derive_key
from heritage.settings import session_secret

#: Answers that change rarely and hold no record may be cached for a minute.
CACHEABLE_VERBS = {"Identify", "ListMetadataFormats", "ListSets"}


def repository_id(request: Any) -> str:
    """Return the repository id of identifiers: the setting, else the public host name."""
    hs = request.registry.heritage
    return hs.oai_repository_id or urlsplit(request.host_url).hostname or "localhost"


def admin_emails(request: Any, repo_id: str) -> tuple[str, ...]:
    configured = request.registry.heritage.oai_admin_email
    if configured:
        return tuple(configured)
    return (f"admin@{repo_id}" if "." in repo_id else "admin@localhost.localdomain",)


def provider_config(request: Any) -> ProviderConfig:
    hs = request.registry.heritage
    repo_id = repository_id(request)
    title = request.root.title
    return ProviderConfig(
        repository_name=next((title[lang] for lang in hs.languages if title.get(lang)), "")
        or "Borneo Heritage",
        repository_id=repo_id,
        admin_emails=admin_emails(request, repo_id),
        page_size=hs.oai_page_size,
        token_seconds=hs.oai_token_seconds,
        token_key=request.registry.oai_token_key,
        languages=tuple(hs.languages),
    )


def links(request: Any) -> Links:
    return Links(
        base_url=request.route_url("oai"),
        item=lambda item_id: request.route_url("item", item_id=item_id),
        manifest=lambda item_id: request.route_url("iiif_manifest", item_id=item_id),
        institution=lambda inst_id: request.route_url("institution", inst_id=inst_id),
        collection=lambda coll_id: request.route_url("collection", coll_id=coll_id),
    )


def _arguments(request: Any) -> list[tuple[str, str]]:
    """Return the request's arguments: the query string, and a POST's form body.

    Bytes that are not UTF-8 become U+FFFD, so that they make a badArgument, not a 500.
    """
    query = request.environ.get("QUERY_STRING", "")
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    if request.method == "POST":
        pairs.extend(
            (str(k), v if isinstance(v, str) else "")  # a file upload is no OAI argument
            for k, v in request.POST.items()
        )
    return pairs


@view_config(route_name="oai", request_method=("GET", "POST"), require_csrf=False)
def oai_pmh(request: Any) -> Response:
    """Answer one OAI-PMH request."""
    pairs = _arguments(request)
    provider = Provider(request.root, provider_config(request), links(request))
    verb, body = provider.respond(pairs)
    response = Response(body=body, content_type="text/xml", charset="UTF-8")
    if verb in CACHEABLE_VERBS:
        response.cache_control = "public, max-age=60"
    else:
        response.cache_control = "no-cache"
    return response


def includeme(config: Configurator) -> None:
    """Derive the resumption-token key once (from ``heritage.secret``) for every request."""
    config.registry.oai_token_key = derive_key(session_secret(config.registry.heritage))
