"""Error views: 404 pages, hidden resources as 404, 400 with messages, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken, URLDecodeError
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from heritage.validation import ValidationFailed

log = logging.getLogger(__name__)


def wants_json(request: Any) -> bool:
    return request.path.startswith("/api/")


def error_response(request: Any, status: int, message: str, **extra: Any) -> Any:
    """Return an error as JSON for the API, or as a page for everyone else."""
    if wants_json(request):
        response = request.response
        response.status_int = status
        response.content_type = "application/json"
        response.json_body = {"error": message, **extra}
        return response
    response = render_to_response(
        "heritage:templates/error.jinja2",
        {"status": status, "message": message, "errors": extra.get("errors", {})},
        request=request,
    )
    response.status_int = status
    return response


@notfound_view_config()
def not_found(exc: HTTPNotFound, request: Any) -> Any:
    return error_response(request, 404, "Not found: there is nothing at this address.")


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Any) -> Any:
    """Hide what the user may not see (404); ask anonymous staff to log in; else 403."""
    context = request.context
    if not request.has_permission("view", context):
        if request.authenticated_userid is None and request.path.startswith("/staff/"):
            return HTTPFound(request.route_url("login", _query={"came_from": request.path}))
        return not_found(exc, request)
    if request.authenticated_userid is None and not wants_json(request):
        return HTTPFound(request.route_url("login", _query={"came_from": request.path}))
    return error_response(request, 403, "Forbidden: your roles do not allow this here.")


@exception_view_config(ValidationFailed)
def validation_failed(exc: ValidationFailed, request: Any) -> Any:
    return error_response(request, 400, exc.message, errors=exc.errors)


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def bad_csrf(exc: Exception, request: Any) -> Any:
    get_csrf_token(request)
    return error_response(
        request,
        400,
        "The form or request is missing its security (CSRF) token, or it has expired. "
        "Reload the page and try again.",
    )


@exception_view_config(URLDecodeError)
def bad_url(exc: Exception, request: Any) -> Any:
    response = request.response
    response.status_int = 400
    response.content_type = "text/plain"
    response.text = "Bad request: the address is not valid UTF-8.\n"
    return response


@exception_view_config(HTTPBadRequest)
def bad_request(exc: HTTPBadRequest, request: Any) -> Any:
    return error_response(request, 400, exc.detail or "Bad request.")


@exception_view_config(Exception)
def server_error(exc: Exception, request: Any) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(request, 500, "Something went wrong on our side; it has been logged.")
