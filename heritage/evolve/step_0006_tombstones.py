"""Add ``root.tombstones``: what remains of deaccessioned items (heritage.deaccession)."""

from __future__ import annotations

from typing import Any

from BTrees.OOBTree import OOBTree


def evolve(root: Any) -> None:
    root._p_activate()
    if "tombstones" not in root.__dict__:
        root.tombstones = OOBTree()
