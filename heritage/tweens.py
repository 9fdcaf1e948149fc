"""Tweens: cheap checks that run before any view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPRequestEntityTooLarge

#: Routes that take large bodies (uploads); they stream to disk under their own limit.
UPLOAD_PATH_SUFFIXES = ("/files", "/upload")


def body_limit_tween_factory(handler: Callable, registry: Any) -> Callable:
    """Refuse a request body above ``heritage.max_body_bytes`` before anything reads it."""
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
        return handler(request)

    return tween
