"""The IIIF Change Discovery log: Create/Update/Delete activities, oldest first.

Keys are consecutive integers so that pages are fixed ranges of keys: an aggregator that
read page 7 yesterday reads page 7 and on today. Activities are rare (publishing, editing,
withdrawing), so the counter is no hot spot; a clash is a ConflictError and a retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.Length import Length
from persistent import Persistent

PAGE_SIZE = 100


class Activities(Persistent):
    __name__ = "activities"
    __parent__: Any = None

    def __init__(self) -> None:
        self.data = IOBTree()
        self._count = Length()

    def add(self, kind: str, object_id: str, object_type: str = "Manifest") -> dict[str, Any]:
        """Append a ``Create``, ``Update`` or ``Delete`` of the object at ``object_id``.

        ``object_id`` is a path (``/iiif/manifests/x``): the host is added when served.
        """
        if kind not in ("Create", "Update", "Delete"):
            raise ValueError(f"unknown activity {kind!r}")
        number = len(self)
        activity = {
            "type": kind,
            "object": object_id,
            "object_type": object_type,
            "endTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.data[number] = activity
        self._count.change(1)
        return activity

    def __len__(self) -> int:
        return self._count()

    def page(self, n: int) -> list[dict[str, Any]]:
        return list(self.data.values(min=n * PAGE_SIZE, max=(n + 1) * PAGE_SIZE - 1))

    def pages(self) -> int:
        return max(1, -(-len(self) // PAGE_SIZE))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.data.values())
