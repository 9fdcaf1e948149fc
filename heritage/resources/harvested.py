"""``root.harvested``: records harvested from partners, the other half of the union catalogue.

Records are kept per partner, then by OAI identifier, so a harvest that sees a record again
updates it in place (never a duplicate) and dropping a partner drops its records. A record
the partner reports deleted stays as a tombstone (``deleted``, no metadata) so that a later
harvest knows it; it leaves the search catalog. Harvested records are public: they describe
what partners publish.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.authorization import Allow, Everyone

from heritage.resources.partners import now_iso


def record_key(partner_id: str, identifier: str) -> str:
    """Return the union-catalogue key of a harvested record: ``{partner_id}:{identifier}``."""
    return f"{partner_id}:{identifier}"


class HarvestedRecord(Persistent):
    """One partner record: Dublin Core metadata (same shape as ``Item.metadata``) and links.

    ``metadata`` is a plain dict of tuples, replaced whole on every change, never mutated.
    """

    __name__: str | None = None
    __parent__: Any = None
    __acl__ = [(Allow, Everyone, "view")]

    def __init__(self, partner_id: str, partner_name: Mapping[str, str], identifier: str) -> None:
        self.partner_id = partner_id
        self.partner_name = dict(partner_name)  # language map, replaced whole
        self.identifier = identifier
        self.key = record_key(partner_id, identifier)
        self.datestamp = ""
        self.deleted = False
        self.metadata: dict[str, tuple[dict, ...]] = {}
        self.sets: tuple[str, ...] = ()
        self.link = ""  # the record's page at the partner (http/https), or ""
        self.manifest = ""  # its IIIF manifest URL, or ""
        self.harvested = ""  # when we last stored a change to it (ISO, UTC)

    def fields(self) -> dict[str, Any]:
        """Return what a harvest may change, for comparing with what a partner sends."""
        return {
            "datestamp": self.datestamp,
            "deleted": self.deleted,
            "metadata": self.metadata,
            "sets": self.sets,
            "link": self.link,
            "manifest": self.manifest,
            "partner_name": self.partner_name,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "partner": self.partner_id,
            "identifier": self.identifier,
            "datestamp": self.datestamp,
            "deleted": self.deleted,
            "metadata": {k: list(v) for k, v in self.metadata.items()},
            "sets": list(self.sets),
            "link": self.link,
            "manifest": self.manifest,
            "harvested": self.harvested,
        }


class PartnerRecords(Persistent):
    """One partner's records: OAI identifier → record, with a ``Length`` of the live ones."""

    __name__: str | None = None
    __parent__: Any = None

    def __init__(self) -> None:
        self.data = OOBTree()
        self._live = Length()

    def __len__(self) -> int:
        return self._live()

    def get(self, identifier: str, default: Any = None) -> Any:
        return self.data.get(identifier, default)

    def __iter__(self) -> Iterator[HarvestedRecord]:
        return iter(self.data.values())

    def identifiers(self, *, after: str | None = None) -> Any:
        return self.data.keys(min=after, excludemin=True) if after else self.data.keys()


class Harvested(Persistent):
    """``root.harvested``: partner id → :class:`PartnerRecords`."""

    __name__ = "harvested"
    __parent__: Any = None
    __acl__ = [(Allow, Everyone, "view")]

    def __init__(self) -> None:
        self.partners = OOBTree()
        self._live = Length()

    def __len__(self) -> int:
        """The number of live (not deleted) records of all partners."""
        return self._live()

    def records_of(self, partner_id: str, *, create: bool = False) -> PartnerRecords | None:
        records = self.partners.get(partner_id)
        if records is None and create:
            records = PartnerRecords()
            records.__name__, records.__parent__ = partner_id, self
            self.partners[partner_id] = records
        return records

    def get(self, key: str, default: Any = None) -> HarvestedRecord | None:
        """Return the record with key ``{partner_id}:{identifier}``."""
        partner_id, sep, identifier = key.partition(":")
        records = self.partners.get(partner_id) if sep else None
        return default if records is None else records.get(identifier, default)

    def store(
        self, partner_id: str, partner_name: Mapping[str, str], fields: Mapping[str, Any]
    ) -> tuple[str, HarvestedRecord | None]:
        """Add or update the record ``fields["identifier"]`` of a partner.

        Return ``(what, record)``: ``added`` (new, or live again), ``updated``, ``deleted``
        (a live record the partner now reports deleted) or ``unchanged`` (nothing to
        write: a harvest that sees a record again changes nothing). A deleted record we never
        held is ``unchanged`` and stores nothing (record None).
        """
        records = self.records_of(partner_id, create=True)
        identifier = fields["identifier"]
        record = records.get(identifier)
        deleted = bool(fields.get("deleted"))
        new = {
            "datestamp": fields.get("datestamp", ""),
            "deleted": deleted,
            "metadata": {} if deleted else dict(fields.get("metadata", {})),
            "sets": tuple(fields.get("sets", ())),
            "link": "" if deleted else fields.get("link", ""),
            "manifest": "" if deleted else fields.get("manifest", ""),
            "partner_name": dict(partner_name),
        }
        if record is None:
            if deleted:
                return "unchanged", None
            record = HarvestedRecord(partner_id, partner_name, identifier)
            record.__name__, record.__parent__ = identifier, records
            records.data[identifier] = record
            was_live, what = False, "added"
        else:
            if record.fields() == new:
                return "unchanged", record
            was_live = not record.deleted
            if deleted:
                what = "deleted" if was_live else "unchanged"
            else:
                what = "updated" if was_live else "added"
        for name, value in new.items():
            setattr(record, name, value)
        record.harvested = now_iso()
        if was_live and deleted:
            self._count(records, -1)
        elif not was_live and not deleted:
            self._count(records, 1)
        return what, record

    def _count(self, records: PartnerRecords, delta: int) -> None:
        records._live.change(delta)
        self._live.change(delta)

    def drop(self, partner_id: str, identifiers: list[str]) -> list[HarvestedRecord]:
        """Remove these records of a partner (and the partner's folder once it is empty)."""
        records = self.partners.get(partner_id)
        dropped = []
        if records is None:
            return dropped
        for identifier in identifiers:
            record = records.data.pop(identifier, None)
            if record is None:
                continue
            if not record.deleted:
                self._count(records, -1)
            record.__parent__ = None
            dropped.append(record)
        try:
            records.data.minKey()
        except ValueError:  # empty
            del self.partners[partner_id]
        return dropped
