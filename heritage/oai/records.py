"""The OAI-PMH record list: which items the provider serves, since when, in which sets.

One entry per item that was ever public: its datestamp, its setSpecs and whether it is
deleted. Kept in the same transaction as every item change (``heritage.oai.tracking``), so
a harvester never sees a datestamp that the database does not back up, and a withdrawn or
restricted item stays listed as a deleted record for good (``deletedRecord`` persistent).

Three indexes make selective harvesting cheap without loading items:

* ``records``: item id → :class:`OAIRecord` (a small immutable value, replaced whole);
* ``by_datestamp``: a tree set of ``(datestamp, item_id)``, so ``from``/``until`` read a key
  range instead of every record;
* ``by_set``: setSpec → :class:`SetMembers` (item ids and a ``Length``), so a set's list and
  its size never walk the others.

Plain persistent data: no Pyramid, no requests (STYLE.md, "Resources").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

#: The highest string an item id can be compared against (ids are ASCII).
_TOP = "\uffff"


def datestamp(moment: datetime | None = None) -> str:
    """Return ``moment`` (default: now) as an OAI-PMH datestamp: UTC, whole seconds."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OAIRecord(NamedTuple):
    """What the provider knows about one item's record between requests."""

    datestamp: str  # YYYY-MM-DDThh:mm:ssZ, when the public record last changed
    sets: tuple[str, ...]  # setSpecs, broadest first: ("pns", "pns:pns-manuscripts")
    deleted: bool  # was public, is not any more
    fingerprint: str  # digest of what the public record says; equal → datestamp kept


class SetMembers(Persistent):
    """The item ids of one set, with a conflict-free counter (never ``len()`` a tree)."""

    def __init__(self) -> None:
        self.ids = OOTreeSet()
        self.count = Length()

    def add(self, item_id: str) -> None:
        if self.ids.insert(item_id):
            self.count.change(1)

    def remove(self, item_id: str) -> None:
        if item_id in self.ids:
            self.ids.remove(item_id)
            self.count.change(-1)


class OAIRecords(Persistent):
    """All records the OAI-PMH provider serves, live and deleted, with their indexes."""

    __name__ = "oai"
    __parent__: Any = None

    def __init__(self) -> None:
        self.records = OOBTree()
        self.by_datestamp = OOTreeSet()
        self.by_set = OOBTree()
        self._count = Length()
        self.created = datestamp()

    # -- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count()

    def get(self, item_id: str) -> OAIRecord | None:
        return self.records.get(item_id)

    def earliest_datestamp(self) -> str:
        """Return a lower bound of every datestamp (Identify's ``earliestDatestamp``)."""
        try:
            oldest = self.by_datestamp.minKey()[0]
        except ValueError:  # no records yet
            return self.created
        return min(self.created, oldest)

    def set_size(self, spec: str) -> int:
        members = self.by_set.get(spec)
        return members.count() if members is not None else 0

    def in_set(self, spec: str, item_id: str) -> bool:
        members = self.by_set.get(spec)
        return members is not None and item_id in members.ids

    def ids(self, *, after: str | None = None, spec: str | None = None) -> Iterator[str]:
        """Yield item ids in order, after ``after``, of the set ``spec`` when given."""
        if spec is None:
            source = self.records
        else:
            members = self.by_set.get(spec)
            if members is None:
                return
            source = members.ids
        if after is None:
            yield from source.keys()
        else:
            yield from source.keys(min=after, excludemin=True)

    def stamped(self, start: str | None, end: str | None) -> Iterator[tuple[str, str]]:
        """Yield ``(datestamp, item_id)`` with ``start <= datestamp <= end``, oldest first."""
        bounds: dict[str, Any] = {}
        if start is not None:
            bounds["min"] = (start, "")
        if end is not None:
            bounds["max"] = (end, _TOP)
        yield from self.by_datestamp.keys(**bounds)

    # -- changes -----------------------------------------------------------------------------

    def put(self, item_id: str, record: OAIRecord) -> None:
        """Store ``record`` for ``item_id``, moving it in the indexes."""
        old = self.records.get(item_id)
        if old is None:
            self._count.change(1)
        else:
            self.by_datestamp.remove((old.datestamp, item_id))
            for spec in set(old.sets) - set(record.sets):
                self.by_set[spec].remove(item_id)
        self.records[item_id] = record
        self.by_datestamp.insert((record.datestamp, item_id))
        for spec in record.sets:
            members = self.by_set.get(spec)
            if members is None:
                members = self.by_set[spec] = SetMembers()
            members.add(item_id)

    def publish(
        self, item_id: str, *, sets: Iterable[str], fingerprint: str, when: str | None = None
    ) -> bool:
        """Record that the public record of ``item_id`` is as ``fingerprint`` says.

        A new datestamp only when the record is new, was deleted, or says something else
        than before: re-saving an item unchanged must not make harvesters fetch it again.
        Return whether anything changed.
        """
        sets = tuple(sets)
        old = self.records.get(item_id)
        if (
            old is not None
            and not old.deleted
            and old.fingerprint == fingerprint
            and old.sets == sets
        ):
            return False
        self.put(item_id, OAIRecord(when or datestamp(), sets, False, fingerprint))
        return True

    def withdraw(self, item_id: str, *, when: str | None = None) -> bool:
        """Mark the record of ``item_id`` deleted (if it was ever public); return whether it
        changed. Its sets stay, so that a harvester of a set learns of the deletion."""
        old = self.records.get(item_id)
        if old is None or old.deleted:
            return False
        self.put(item_id, OAIRecord(when or datestamp(), old.sets, True, ""))
        return True
