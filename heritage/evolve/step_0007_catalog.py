"""Add the search catalog (``root.catalog``) and index every item, and any harvested record."""

from __future__ import annotations

from typing import Any

from heritage.catalog import Catalog, index_harvested, reindex_all


def evolve(root: Any) -> None:
    root._p_activate()
    if "catalog" not in root.__dict__:
        root.catalog = Catalog()
        root.catalog.__parent__ = root
    reindex_all(root)
    harvested = root.__dict__.get("harvested")
    if harvested is not None:
        for records in harvested.partners.values():
            for record in records:
                if not record.deleted:
                    index_harvested(root, record)
