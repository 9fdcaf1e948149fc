"""Add the Change Discovery log, and the derivative counter that keys cached manifests."""

from __future__ import annotations

from typing import Any

from BTrees.Length import Length

from heritage.discovery import item_changed
from heritage.resources.activities import Activities


def evolve(root: Any) -> None:
    root._p_activate()
    if "activities" not in root.__dict__:
        root.activities = Activities()
        root.activities.__parent__ = root
    for item in root.items.values():
        item.files._p_activate()
        if "derived" not in item.files.__dict__:
            item.files.derived = Length()
        item_changed(item)  # what is public now is Created in the feed
