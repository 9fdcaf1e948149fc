"""Presentation API 3.0 collections from plain data.

Presentation 3 has no paging of collections; a large collection lists sub-collections, one
per page of members, so that no response grows without bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from iiif.presentation.manifest import CONTEXT, LanguageMap

PAGE_SIZE = 1000


def reference(
    id_: str, type_: str, label: LanguageMap, *, thumbnail: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return a member entry of a collection (a Manifest or a Collection)."""
    ref: dict[str, Any] = {"id": id_, "type": type_, "label": label}
    if thumbnail:
        ref["thumbnail"] = thumbnail
    return ref


def build_collection(
    id_: str,
    label: LanguageMap,
    items: Sequence[dict[str, Any]],
    *,
    summary: LanguageMap | None = None,
    part_of: list[dict[str, Any]] | None = None,
    provider: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    collection: dict[str, Any] = {
        "@context": CONTEXT,
        "id": id_,
        "type": "Collection",
        "label": label,
    }
    if summary:
        collection["summary"] = summary
    if provider:
        collection["provider"] = provider
    if part_of:
        collection["partOf"] = part_of
    collection["items"] = list(items)
    return collection
