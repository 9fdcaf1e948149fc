"""Interface language: ``?lang=``, then the ``lang`` cookie, then Accept-Language."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.events import NewResponse
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("heritage")


def _asked_language(request: Any) -> str | None:
    """Return ``?lang=``, or None (also when the query string is not UTF-8: the request
    then gets its 400 from the tween, and this must not turn it into a 500)."""
    try:
        return request.GET.get("lang")
    except UnicodeDecodeError:
        return None


def negotiate_locale(request: Any) -> str:
    languages = request.registry.heritage.languages
    for candidate in (_asked_language(request), request.cookies.get("lang")):
        if candidate in languages:
            return candidate
    return request.accept_language.lookup(languages, default=languages[0])


def remember_language(event: NewResponse) -> None:
    """Keep a language chosen with ``?lang=`` for the next pages (a cookie, a year)."""
    request = event.request
    lang = _asked_language(request) if request.method == "GET" else None
    if lang in request.registry.heritage.languages and request.cookies.get("lang") != lang:
        event.response.set_cookie(
            "lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )


def includeme(config: Configurator) -> None:
    config.set_locale_negotiator(negotiate_locale)
    config.add_subscriber(remember_language, NewResponse)
    config.add_translation_dirs("heritage:locale/")
