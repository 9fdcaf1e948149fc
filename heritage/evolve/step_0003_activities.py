"""Add the Change Discovery log, the derivative counter that keys cached manifests, and
the byte-band index that makes the near-duplicate check independent of an item's size."""

from __future__ import annotations

from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree

from heritage.discovery import item_changed
from heritage.resources.activities import Activities


def evolve(root: Any) -> None:
    root._p_activate()
    if "activities" not in root.__dict__:
        root.activities = Activities()
        root.activities.__parent__ = root
    for item in root.items.values():
        item.files._p_activate()
        files = item.files
        if "derived" not in files.__dict__:
            files.derived = Length()
        if "by_band" not in files.__dict__:  # the near-duplicate index
            files.dhash_of, files.by_band = OOBTree(), OOBTree()
            for key, name in list(files.by_dhash.items()):
                files.remember_dhash(files[name], key + (1 << 64) if key < 0 else key)
        item_changed(item)  # what is public now is Created in the feed
