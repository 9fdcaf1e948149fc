"""Add the search catalog (``root.catalog``) and index every item, and any harvested record.

One transaction (so ``--dry-run`` can abort it all); a savepoint every ``BATCH`` documents
keeps memory flat on a large database.
"""

from __future__ import annotations

from typing import Any

from heritage.catalog import Catalog, index_harvested, reindex_all

BATCH = 1000


def evolve(root: Any) -> None:
    root._p_activate()
    if "catalog" not in root.__dict__:
        root.catalog = Catalog()
        root.catalog.__parent__ = root
    tm = root._p_jar.transaction_manager if root._p_jar is not None else None

    def savepoint(n: int) -> None:
        if tm is not None and n % BATCH == 0:
            tm.savepoint(optimistic=True)
            root._p_jar.cacheGC()

    reindex_all(root, progress=savepoint)
    harvested = root.__dict__.get("harvested")
    if harvested is not None:
        n = 0
        for records in harvested.partners.values():
            for record in records:
                if not record.deleted:
                    index_harvested(root, record)
                    n += 1
                    savepoint(n)
