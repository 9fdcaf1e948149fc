"""What an item's PREMIS record is made of, read from the item: one place for the API's
record and the one a bag carries (they differ only in where each master is stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from ZODB.utils import oid_repr

from digitization.premis import build_premis
from heritage.resources.events import organization_agent

#: Where a master is kept, for PREMIS ``storage``: ``{"location_type", "location", …}``.
Storage = Callable[[Any], dict[str, str]]


def blob_storage(f: Any) -> dict[str, str]:
    """A master in our ZODB blob storage."""
    return {
        "location_type": "ZODB blob OID",
        "location": oid_repr(f.blob._p_oid) if f.blob._p_oid else "",
        "medium": "hard disk (ZODB blob storage)",
    }


def premis_files(item: Any, storage: Storage) -> list[dict[str, Any]]:
    """The item's masters as ``build_premis`` reads them, in page order."""
    return [
        {
            **f.as_dict(),
            "position": position,
            "image_id": item.image_id(f) if f.is_image else "",
            "storage": storage(f),
        }
        for position, f in enumerate(item.files, 1)
    ]


def premis_rights(item: Any) -> dict[str, Any]:
    """The rights statement, access level and cultural-protocol decision of an item."""
    return {
        "uri": item.rights,
        "access": item.access,
        "community": item.community,
        "consultation": getattr(item, "consultation", ""),
        "indigenous": bool(getattr(item, "indigenous", False)),
    }


def premis_record(
    item: Any, *, uri: str, storage: Storage = blob_storage, files: list | None = None
) -> etree._Element:
    """Return the item's ``premis:premis`` element (``files``: from :func:`premis_files`,
    when the caller has them already)."""
    return build_premis(
        {"id": item.item_id, "uri": uri},
        files if files is not None else premis_files(item, storage),
        [dict(e) for e in item.events],
        institution=organization_agent(item.institution),
        rights=premis_rights(item),
    )
