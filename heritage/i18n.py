"""Interface language: ``?lang=``, then the ``lang`` cookie, then Accept-Language."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("heritage")


def negotiate_locale(request: Any) -> str:
    languages = request.registry.heritage.languages
    for candidate in (request.params.get("lang"), request.cookies.get("lang")):
        if candidate in languages:
            return candidate
    best = request.accept_language.best_match(languages) if request.accept_language else None
    return best or languages[0]


def includeme(config: Configurator) -> None:
    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs("heritage:locale/")
