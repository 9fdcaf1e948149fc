"""Borneo Heritage: the Pyramid application (WSGI factory only; no logic here)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """Return the WSGI application."""
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("retry.attempts", "3")
    settings.setdefault("jinja2.directories", "heritage:templates")
    settings.setdefault("jinja2.i18n.domain", "heritage")
    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        config.include("pyramid_retry")
        config.include("pyramid_zodbconn")
        config.include("pyramid_jinja2")
        config.include(".app")
        config.scan(".views")
    return config.make_wsgi_app()
