"""Add the union catalogue's partners (``root.partners``) and harvested records
(``root.harvested``)."""

from __future__ import annotations

from typing import Any

from heritage.resources.harvested import Harvested
from heritage.resources.partners import Partners


def evolve(root: Any) -> None:
    root._p_activate()
    for name, factory in (("partners", Partners), ("harvested", Harvested)):
        if name not in root.__dict__:
            child = factory()
            child.__name__, child.__parent__ = name, root
            setattr(root, name, child)
