"""What happened to an item and its files: an append-only log, one BTree per item.

Each event follows PREMIS (type from the Library of Congress event-type vocabulary, date,
outcome, detail, linked agents and objects), so the preservation export can be written from
it directly. Keys are time + random, so concurrent writers never collide on a key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


def _own_version() -> str:
    try:
        return version("borneo-heritage")
    except PackageNotFoundError:  # pragma: no cover - run from a tree that is not installed
        return "0.1"


#: This application as a PREMIS software agent, with its version (an agent per release).
APP_AGENT = {"type": "software", "name": f"Borneo Heritage {_own_version()}"}


def organization_agent(institution: Any) -> dict[str, str]:
    """Return the holding institution as a PREMIS organization agent (known by its id)."""
    names = dict(institution.name)
    name = names.get("en") or next(iter(names.values()), institution.__name__)
    return {"type": "organization", "name": name, "id": institution.__name__}


#: https://id.loc.gov/vocabulary/preservation/eventType — the types we record so far.
EVENT_TYPES = frozenset(
    {
        "capture",
        "ingestion",
        "message digest calculation",
        "fixity check",
        "format identification",
        "metadata extraction",
        "validation",
        "creation",
        "migration",
        "accession",
        "dissemination",
        "deaccession",
        "metadata modification",
        "rejection",
        "appraisal",
        "policy assignment",
    }
)


class EventLog(Persistent):
    __name__: str | None = None
    __parent__: Any = None

    def __init__(self) -> None:
        self.data = OOBTree()
        self._count = Length()

    def record(
        self,
        event_type: str,
        *,
        outcome: str = "success",
        detail: str = "",
        agents: Iterable[dict[str, str]] = (),
        objects: Iterable[str] = (),
        note: str = "",
        when: datetime | None = None,
        workflow: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append an event and return it."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown PREMIS event type {event_type!r}")
        when = when or datetime.now(UTC)
        key = f"{when.strftime('%Y%m%dT%H%M%S.%f')}-{secrets.token_hex(4)}"
        event = {
            "id": key,
            "type": event_type,
            "date": when.isoformat(timespec="seconds"),
            "outcome": outcome,
            "detail": detail,
            "note": note,
            "agents": tuple(dict(a) for a in agents),
            "objects": tuple(objects),
        }
        if workflow is not None:  # a transition: who, from, to, note, guard results
            event["workflow"] = dict(workflow)
        self.data[key] = event
        self._count.change(1)
        return event

    def restore(self, event: dict[str, Any]) -> None:
        """Add an event recorded elsewhere, under its own id (a bag import keeps history)."""
        if event["type"] not in EVENT_TYPES:
            raise ValueError(f"unknown PREMIS event type {event['type']!r}")
        if event["id"] not in self.data:
            self._count.change(1)
        self.data[event["id"]] = dict(event)

    def __len__(self) -> int:
        return self._count()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.data.values())

    def latest(self, n: int) -> list[dict[str, Any]]:
        """The newest ``n`` events, newest first: a slice of the BTree's items, so a long
        log (an audit adds an event per file each time) is never copied into a list."""
        return list(reversed(self.data.values()[-n:])) if n > 0 else []
