"""The root of the resource tree (the consortium) and the one place that bootstraps it."""

from __future__ import annotations

from typing import Any

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.authorization import ALL_PERMISSIONS, Allow, Everyone

from heritage.catalog import Catalog
from heritage.oai.records import OAIRecords
from heritage.resources.activities import Activities
from heritage.resources.audits import Audits
from heritage.resources.folder import Folder, FolderError, Index
from heritage.resources.harvested import Harvested
from heritage.resources.jobs import Jobs
from heritage.resources.partners import Partners
from heritage.resources.users import Users
from heritage.security import ADMIN_PRINCIPAL

#: Key of the application root in the ZODB root mapping.
APP_ROOT = "heritage"


class Root(Persistent):
    __name__ = ""
    __parent__ = None
    __acl__ = [(Allow, ADMIN_PRINCIPAL, ALL_PERMISSIONS), (Allow, Everyone, "view")]

    def __init__(self) -> None:
        self.title = PersistentMapping(
            {"en": "Borneo Heritage", "ms": "Warisan Borneo", "id": "Warisan Borneo"}
        )
        self.institutions = self._child("institutions", Folder())
        self.items = self._child("items", Index())
        self.collections = self._child("collections", Index())
        self.users = self._child("users", Users())
        self.jobs = self._child("jobs", Jobs())
        self.activities = self._child("activities", Activities())
        self.oai = self._child("oai", OAIRecords())
        self.audits = self._child("audits", Audits())
        self.partners = self._child("partners", Partners())
        self.harvested = self._child("harvested", Harvested())
        self.catalog = self._child("catalog", Catalog())
        self.tombstones = OOBTree()  # item id → Tombstone of each deaccessioned item

    def _child(self, name: str, obj: Any) -> Any:
        obj.__name__ = name
        obj.__parent__ = self
        return obj

    def __getitem__(self, name: str) -> Any:
        if name in {"institutions", "items", "collections", "users"}:
            return getattr(self, name)
        raise KeyError(name)

    def add_collection(self, institution: Any, collection_id: str, collection: Any) -> Any:
        """Add a collection to an institution; collection ids are unique consortium-wide."""
        if collection_id in self.collections:
            raise FolderError(f"{collection_id!r} is already used in the consortium")
        institution.collections.add(collection_id, collection)
        self.collections.register(collection_id, collection)
        return collection
