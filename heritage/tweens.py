"""Tweens: cheap checks that run before any view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

#: Routes that take large bodies (uploads); they stream to disk under their own limit.
UPLOAD_PATH_SUFFIXES = ("/files", "/upload")
#: Paths whose views parse a query string themselves (OAI-PMH answers badArgument in XML).
OWN_QUERY_PARSING = ("/oai",)


def body_limit_tween_factory(handler: Callable, registry: Any) -> Callable:
    """Refuse a request body above ``heritage.max_body_bytes`` before anything reads it,
    and a query string that is not UTF-8 (any view reading ``request.params`` would fail)."""
    limit = registry.heritage.max_body_bytes
    upload_limit = registry.heritage.max_upload_bytes

    def tween(request: Any) -> Any:
        length = request.content_length or 0
        # PATH_INFO as WSGI gives it: request.path would fail on a non-UTF-8 escape (%FF)
        path = request.environ.get("PATH_INFO", "")
        cap = upload_limit if path.endswith(UPLOAD_PATH_SUFFIXES) else limit
        if length > cap:
            message = f"request body too large: {length} bytes, the limit is {cap} bytes"
            if path.startswith("/api/"):
                response = HTTPRequestEntityTooLarge(json_body={"error": message})
            else:
                response = HTTPRequestEntityTooLarge(message)
            return response
        if not path.startswith(OWN_QUERY_PARSING):
            try:
                request.GET  # noqa: B018  (decoding it is the check)
            except UnicodeDecodeError:
                message = "the query string is not valid UTF-8"
                if path.startswith("/api/"):
                    return HTTPBadRequest(json_body={"error": message})
                return HTTPBadRequest(message)
        return handler(request)

    return tween
