"""Keep an item's files in a BTree with sha256/dHash indexes, give items an event log, and
add the job queue.

First-generation items held their files in a PersistentList, re-pickled whole on every
added page; that made ingest slower as an item grew.
"""

from __future__ import annotations

from typing import Any

from heritage.resources.events import EventLog
from heritage.resources.filelist import FileList
from heritage.resources.jobs import Jobs


def evolve(root: Any) -> None:
    root._p_activate()
    if "jobs" not in root.__dict__:
        root.jobs = Jobs()
        root.jobs.__parent__ = root
    for item in root.items.values():
        item._p_activate()
        if not isinstance(item.__dict__.get("files"), FileList):
            files = FileList()
            files.__parent__ = item
            for f in item.__dict__.get("files", ()):
                f.__parent__ = None
                files.append(f)
            item.files = files
        if "events" not in item.__dict__:
            item.events = EventLog()
            item.events.__parent__ = item
