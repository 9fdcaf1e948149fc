"""Wiring: settings, root factory, security, sessions, i18n, routes, start-up upgrade."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.events import NewRequest
from pyramid.session import SignedCookieSessionFactory
from pyramid_zodbconn import get_connection

from heritage import evolve
from heritage.resources.root import APP_ROOT
from heritage.security import SecurityPolicy, csrf_applies
from heritage.settings import apply_image_limits, parse_settings, session_secret
from heritage.tweens import UPLOAD_PATH_SUFFIXES


def root_factory(request: Any) -> Any:
    """Return the application root, creating it in an empty database on first use."""
    zodb_root = get_connection(request).root()
    if APP_ROOT not in zodb_root:
        evolve.bootstrap(zodb_root)  # committed with the request's transaction
    return zodb_root[APP_ROOT]


def _apply_public_url(event: NewRequest) -> None:
    """Make generated URLs use ``heritage.public_url`` when it is set (behind a proxy)."""
    public_url = event.request.registry.heritage.public_url
    if not public_url:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    env = event.request.environ
    env["wsgi.url_scheme"] = parts.scheme
    env["HTTP_HOST"] = parts.netloc
    env["SCRIPT_NAME"] = parts.path.rstrip("/")


def retry_attempts(request: Any) -> int | None:
    """No retries for uploads: they stage files outside the database (STYLE.md)."""
    if request.method == "POST" and request.path.endswith(UPLOAD_PATH_SUFFIXES):
        return 1
    return None


def includeme(config: Configurator) -> None:
    hs = parse_settings(config.registry.settings)
    config.registry.heritage = hs
    apply_image_limits(hs.max_image_pixels)
    config.set_root_factory(root_factory)
    config.registry.settings["retry.activate_hook"] = retry_attempts
    config.set_security_policy(SecurityPolicy())
    config.set_session_factory(
        SignedCookieSessionFactory(
            session_secret(hs),
            cookie_name="heritage",
            httponly=True,
            samesite="Lax",
            secure=hs.secure_cookies,
            timeout=hs.session_max_age,
            reissue_time=300,
        )
    )
    config.set_default_csrf_options(require_csrf=True, callback=csrf_applies)
    config.include(".i18n")
    config.include(".routes")
    config.include(".views.selection")
    config.include(".views.queues")
    config.include(".views.reports")
    config.include(".views.deaccession")
    config.include(".views.partners")
    config.include(".views.oai")
    config.include(".views.search")
    config.add_subscriber(_apply_public_url, NewRequest)
    config.add_tween("heritage.tweens.body_limit_tween_factory")
    config.add_static_view("static", "heritage:static", cache_max_age=3600)
    config.add_request_method(lambda r: r.registry.heritage, "heritage", reify=True)
    databases = getattr(config.registry, "_zodb_databases", {})
    if "" in databases:
        evolve.prepare(databases[""])
