"""OAI-PMH sets: one per institution, one per collection below it.

The hierarchy follows the resource tree: the institution ``pns`` is the set ``pns``, its
collection ``pns-manuscripts`` the set ``pns:pns-manuscripts``; a record of that collection
is in both (OAI-PMH 2.0 §2.7.2). Institution and collection ids are already
``[a-z0-9-]`` words (``heritage.validation``), legal in a setSpec as they are.

Pages that show a member's OAI-PMH entry point use :func:`oai_set_spec` and
:func:`oai_set_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.traversal import find_interface

from heritage.resources.collection import Collection
from heritage.resources.institution import Institution


def oai_set_spec(obj: Any) -> str:
    """Return the setSpec of an institution or a collection (``pns``, ``pns:pns-manuscripts``)."""
    if isinstance(obj, Institution):
        return str(obj.__name__)
    if isinstance(obj, Collection):
        return f"{obj.institution.__name__}:{obj.__name__}"
    raise TypeError(f"no OAI-PMH set for {type(obj).__name__}")


def oai_set_url(request: Any, obj: Any, metadata_prefix: str = "oai_dc") -> str:
    """Return the URL that harvests the set of ``obj`` (ListRecords), for a partner page."""
    query = urlencode(
        {"verb": "ListRecords", "metadataPrefix": metadata_prefix, "set": oai_set_spec(obj)}
    )
    return f"{request.route_url('oai')}?{query}"


def item_set_specs(item: Any) -> tuple[str, ...]:
    """Return the sets ``item`` is in, broadest first."""
    collection = find_interface(item, Collection)
    if collection is None or collection.institution is None:
        return ()
    institution = oai_set_spec(collection.institution)
    return (institution, f"{institution}:{collection.__name__}")


def all_sets(root: Any) -> list[tuple[str, Any]]:
    """Return ``(setSpec, institution or collection)`` for every set, institutions first,
    each followed by its collections. A few hundred objects at most: fine to walk."""
    found: list[tuple[str, Any]] = []
    for institution in root.institutions.values():
        found.append((oai_set_spec(institution), institution))
        for collection in institution.collections.values():
            found.append((oai_set_spec(collection), collection))
    return found
