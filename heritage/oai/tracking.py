"""Keep ``root.oai`` in step with items, in the same transaction as each change.

A record exists for an item while the public may ``view`` it: published with access
``public`` or ``metadata-only``. An item that was public and is withdrawn, restricted or
removed becomes a deleted record with a new datestamp; one that becomes public again is
live again. Saving an item without changing its public record keeps the datestamp.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pyramid.traversal import find_root

from heritage.changes import on_item_changed, on_item_removed
from heritage.oai.records import OAIRecords
from heritage.oai.sets import item_set_specs
from heritage.security import publicly_listed


def record_fingerprint(item: Any) -> str:
    """Return a digest of everything the item's OAI-PMH records say.

    Metadata, rights, access level (it decides whether the manifest is linked) and the
    number of files (MODS gives the extent).
    """
    public = {
        "metadata": {k: list(v) for k, v in sorted(item.metadata.items())},
        "rights": item.rights,
        "access": item.access,
        "files": len(item.files),
    }
    text = json.dumps(public, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def track(records: OAIRecords, item: Any, *, when: str | None = None) -> bool:
    """Bring the record of ``item`` up to date; return whether it changed."""
    if item.__parent__ is not None and publicly_listed(item):
        return records.publish(
            item.item_id,
            sets=item_set_specs(item),
            fingerprint=record_fingerprint(item),
            when=when,
        )
    return records.withdraw(item.item_id, when=when)


def _records_of(item: Any) -> OAIRecords | None:
    if item.__parent__ is None:
        return None
    return getattr(find_root(item), "oai", None)  # None: before evolve step 0008


@on_item_changed
def item_changed(item: Any) -> None:
    records = _records_of(item)
    if records is not None:
        track(records, item)


@on_item_removed
def item_removed(item: Any) -> None:
    records = _records_of(item)
    if records is not None:
        records.withdraw(item.item_id)
