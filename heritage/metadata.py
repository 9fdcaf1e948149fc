"""Descriptive metadata: the 15 Dublin Core elements, with language-tagged values.

A record is a mapping from element name to a tuple of values; each value is a small dict:
``{"value": "Hikayat Raja Pasai", "lang": "ms-Arab"}``. Dates are EDTF strings (``1850~``,
``18XX``, ``1923/1925``); ``coverage`` values may carry ``lat``/``lon``. The same shape goes
into the database, out through the JSON API, and into the page templates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import langcodes
from edtf import parse_edtf
from edtf.parser.edtf_exceptions import EDTFParseException

#: https://www.dublincore.org/specifications/dublin-core/dces/
DC_ELEMENTS: tuple[str, ...] = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)
#: Elements whose values are codes or dates rather than text in a language.
UNTAGGED = frozenset({"date", "identifier", "language", "format"})
MAX_VALUE_LENGTH = 10_000
MAX_VALUES = 200


class MetadataError(ValueError):
    """Bad descriptive metadata; ``errors`` maps a field path to a message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def normalize_language(tag: str) -> str:
    """Return the canonical BCP 47 form of ``tag`` (``msa`` → ``ms``); raise ValueError."""
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError("a language tag is required, e.g. en, ms, id or iba")
    if not langcodes.tag_is_valid(tag.strip()):
        raise ValueError(f"{tag!r} is not a valid BCP 47 language tag (e.g. en, ms, ms-Arab, iba)")
    return langcodes.standardize_tag(tag.strip())


def language_name(tag: str, in_language: str = "en") -> str:
    """Return a readable name for ``tag`` in ``in_language`` (``iba`` → ``Iban``)."""
    try:
        return langcodes.Language.get(tag).display_name(in_language)
    except (ValueError, LookupError):
        return tag


def validate_edtf(text: str) -> str:
    """Return ``text`` if it is a valid EDTF date; raise ValueError with a readable reason."""
    try:
        parse_edtf(text)
    except (EDTFParseException, ValueError, TypeError):
        raise ValueError(
            f"{text!r} is not an EDTF date; write e.g. 1850, 1850-03, 1850~ (about), "
            "18XX (some year in the 1800s) or 1923/1925 (a range)"
        ) from None
    return text


def _validate_value(element: str, raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = {"value": raw}
    if not isinstance(raw, Mapping):
        raise ValueError("each value must be a string or an object with 'value' and 'lang'")
    unknown = set(raw) - {"value", "lang", "lat", "lon"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; allowed: value, lang, lat, lon")
    text = raw.get("value")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'value' must be non-empty text")
    text = text.strip()
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"'value' is longer than {MAX_VALUE_LENGTH} characters")
    value: dict[str, Any] = {"value": text}
    if element == "date":
        validate_edtf(text)
    elif element == "language":
        value["value"] = normalize_language(text)
    lang = raw.get("lang")
    if lang is not None:
        value["lang"] = normalize_language(lang)
    elif element not in UNTAGGED:
        raise ValueError("'lang' is required: say which language the value is in (e.g. ms)")
    if "lat" in raw or "lon" in raw:
        if element != "coverage":
            raise ValueError("coordinates belong on 'coverage' (places) only")
        value.update(_validate_coordinates(raw.get("lat"), raw.get("lon")))
    return value


def _validate_coordinates(lat: Any, lon: Any) -> dict[str, float]:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValueError("'lat' and 'lon' must both be numbers") from None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise ValueError("'lat' must be within -90..90 and 'lon' within -180..180")
    return {"lat": lat_f, "lon": lon_f}


def validate_record(record: Any, *, require_title: bool = True) -> dict[str, tuple[dict, ...]]:
    """Return a clean record (element → tuple of values) or raise MetadataError.

    Every problem is reported, each under its path (``metadata.date[0]``), so that a
    cataloguer can fix them all at once.
    """
    if not isinstance(record, Mapping):
        raise MetadataError({"metadata": "must be an object of Dublin Core elements"})
    errors: dict[str, str] = {}
    clean: dict[str, tuple[dict, ...]] = {}
    for element, values in record.items():
        path = f"metadata.{element}"
        if element not in DC_ELEMENTS:
            errors[path] = f"unknown element; use Dublin Core: {', '.join(DC_ELEMENTS)}"
            continue
        if isinstance(values, (str, Mapping)):
            values = [values]
        if not isinstance(values, (list, tuple)) or len(values) > MAX_VALUES:
            errors[path] = f"must be a list of at most {MAX_VALUES} values"
            continue
        out = []
        for i, raw in enumerate(values):
            try:
                out.append(_validate_value(element, raw))
            except ValueError as exc:
                errors[f"{path}[{i}]"] = str(exc)
        if out:
            clean[element] = tuple(out)
    if (
        require_title
        and "title" not in clean
        and not any(k.startswith("metadata.title") for k in errors)
    ):
        errors["metadata.title"] = "a title is required"
    if errors:
        raise MetadataError(errors)
    return clean


def values_by_language(values: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Group values as a language map (``{"ms": [...], "en": [...]}``; ``none`` if untagged)."""
    grouped: dict[str, list[str]] = {}
    for v in values:
        grouped.setdefault(v.get("lang") or "none", []).append(v["value"])
    return grouped


def first_value(values: Iterable[Mapping[str, Any]], languages: Iterable[str] = ()) -> str:
    """Return the value in the first preferred language that has one, else the first value."""
    values = list(values)
    for lang in languages:
        for v in values:
            tag = v.get("lang") or ""
            if tag == lang or tag.startswith(lang + "-"):
                return v["value"]
    return values[0]["value"] if values else ""
