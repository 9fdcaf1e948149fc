"""A BTree folder with a conflict-free ``Length`` counter (the substanced shape)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class FolderError(ValueError):
    """A name cannot be used in a folder."""


def check_name(name: Any) -> str:
    """Return ``name`` if it can name a child; raise FolderError otherwise."""
    if not isinstance(name, str) or not name:
        raise FolderError("name must be a non-empty string")
    if "/" in name or name.startswith("@@") or name in {".", ".."}:
        raise FolderError(f"name {name!r} may not contain '/' or start with '@@'")
    return name


class _BTreeMapping(Persistent):
    """Read access shared by folders and indexes: an OOBTree and its Length."""

    __name__: str | None = None
    __parent__: Any = None

    def __init__(self) -> None:
        self.data = OOBTree()
        self._num_objects = Length()

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def __len__(self) -> int:
        return self._num_objects()

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.data.keys())

    def keys(self, **bounds: Any) -> Any:
        """Return keys, optionally bounded (``min=``, ``max=``, ``excludemin=``): no full scan."""
        return self.data.keys(**bounds)

    def values(self, **bounds: Any) -> Any:
        return self.data.values(**bounds)

    def items(self) -> Any:
        return self.data.items()


class Folder(_BTreeMapping):
    """Children in an OOBTree; only :meth:`add` sets their location."""

    def add(self, name: str, obj: Any) -> Any:
        check_name(name)
        if name in self.data:
            raise FolderError(f"{name!r} already exists here")
        if getattr(obj, "__parent__", None) is not None:
            raise FolderError(f"{name!r} already belongs to another folder")
        obj.__name__ = name
        obj.__parent__ = self
        self.data[name] = obj
        self._num_objects.change(1)
        return obj

    def remove(self, name: str) -> Any:
        obj = self.data.pop(name)
        self._num_objects.change(-1)
        obj.__parent__ = None
        return obj


class Index(_BTreeMapping):
    """A consortium-wide id → object map for stable URLs.

    Unlike a :class:`Folder` it does not locate what it holds: an item's ``__parent__`` stays
    its collection, so ACLs come from its real lineage, while ``/items/{id}`` finds it here.
    """

    def register(self, key: str, obj: Any) -> None:
        if key in self.data:
            raise FolderError(f"{key!r} is already used in the consortium")
        self.data[key] = obj
        self._num_objects.change(1)

    def unregister(self, key: str) -> None:
        del self.data[key]
        self._num_objects.change(-1)
