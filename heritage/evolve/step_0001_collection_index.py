"""Add the consortium-wide collection index behind ``/collections/{id}``.

Databases of the first generation kept collections only inside their institutions.
"""

from __future__ import annotations

from typing import Any

from heritage.resources.folder import Index


def evolve(root: Any) -> None:
    root._p_activate()  # a ghost has an empty __dict__
    if "collections" in root.__dict__:
        return
    index = Index()
    index.__name__, index.__parent__ = "collections", root
    for institution in root.institutions.values():
        for name, collection in institution.collections.items():
            index.register(name, collection)
    root.collections = index
