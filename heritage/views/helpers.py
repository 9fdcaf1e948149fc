"""Small helpers shared by views: preferred languages, visibility filters, representations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from heritage.metadata import DC_ELEMENTS, first_value, language_name, values_by_language


def preferred_languages(request: Any) -> tuple[str, ...]:
    """Return the languages to show values in: the interface language first."""
    languages = request.registry.heritage.languages
    return (request.locale_name, *[lang for lang in languages if lang != request.locale_name])


def pick(language_map: Any, request: Any) -> str:
    """Return one string of a language map (``{"en": "...", "ms": "..."}``) for this request."""
    if not language_map:
        return ""
    for lang in preferred_languages(request):
        if language_map.get(lang):
            return language_map[lang]
    return next(iter(language_map.values()))


def visible(request: Any, objects: Iterable[Any], permission: str = "view") -> Iterator[Any]:
    for obj in objects:
        if request.has_permission(permission, obj):
            yield obj


def page_after(
    request: Any, index: Any, after: str | None, limit: int, permission: str = "view"
) -> tuple[list[Any], str | None]:
    """Return up to ``limit`` visible objects with keys after ``after``, and the next cursor.

    Paging by key stays stable while items are added, unlike an offset.
    """
    keys = index.keys(min=after, excludemin=True) if after else index.keys()
    found: list[Any] = []
    last = None
    for key in keys:
        obj = index[key]
        if request.has_permission(permission, obj):
            if len(found) == limit:  # one more exists: only then is there a next page
                return found, last
            found.append(obj)
            last = key
    return found, None


def metadata_rows(item: Any, request: Any) -> list[dict[str, Any]]:
    """Return the item's metadata as rows for a page: element, then values by language."""
    rows = []
    locale = request.locale_name
    for element in DC_ELEMENTS:
        values = item.metadata.get(element)
        if not values:
            continue
        by_lang = values_by_language(values)
        rows.append(
            {
                "element": element,
                "values": [
                    {
                        "lang": lang,
                        "language": "" if lang == "none" else language_name(lang, locale),
                        "texts": texts,
                    }
                    for lang, texts in by_lang.items()
                ],
                "places": [v for v in values if "lat" in v],
            }
        )
    return rows


def item_title(item: Any, request: Any) -> str:
    return first_value(item.metadata.get("title", ()), preferred_languages(request)) or item.item_id
