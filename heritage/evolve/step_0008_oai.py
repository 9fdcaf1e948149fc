"""Add the OAI-PMH record list (``root.oai``) and fill it from the items public now.

Each public item gets a live record dated by its last change (``Item.modified``): no
harvester has seen this repository's OAI-PMH yet, so no date can be earlier than one it
holds. Items that are not public get no record (there is nothing to report deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from heritage.oai.records import OAIRecords, datestamp
from heritage.oai.tracking import track


def evolve(root: Any) -> None:
    root._p_activate()
    if "oai" not in root.__dict__:
        root.oai = OAIRecords()
        root.oai.__parent__ = root
    for item in root.items.values():
        track(root.oai, item, when=datestamp(datetime.fromisoformat(item.modified)))
