"""A collection of an institution, holding its items."""

from __future__ import annotations

from typing import Any

from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.traversal import find_interface, find_root

from heritage.changes import item_changed
from heritage.resources.folder import Folder, FolderError
from heritage.resources.institution import Institution


class Collection(Persistent):
    __name__: str | None = None
    __parent__: Any = None

    def __init__(self, title: dict[str, str], *, description: dict[str, str] | None = None) -> None:
        self.title = PersistentMapping(title)  # language map
        self.description = PersistentMapping(description or {})
        self.items = Folder()
        self.items.__name__ = "items"
        self.items.__parent__ = self

    @property
    def institution(self) -> Institution:
        return find_interface(self, Institution)

    def add_item(self, item: Any) -> Any:
        """Add ``item`` here and to the consortium-wide index (ids are unique across members)."""
        root = find_root(self)
        if item.item_id in root.items:
            raise FolderError(f"{item.item_id!r} is already used in the consortium")
        if item.item_id in getattr(root, "tombstones", ()):  # deaccessioned: never reused
            raise FolderError(f"{item.item_id!r} was deaccessioned; its id is not reused")
        self.items.add(item.item_id, item)
        root.items.register(item.item_id, item)
        self.institution.count_state(item.state, 1)
        item_changed(item)
        return item
