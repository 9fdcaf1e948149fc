"""What remains of a deaccessioned item: a tombstone, kept for good in ``root.tombstones``.

A deaccession is never a silent delete. The tombstone names the item and every master it
held (identifiers, size, checksums, format), says who removed it, when and why, and keeps
the item's whole event log, ending with the deaccession event. It is written once and never
changed, and lives in its own database record, so a long event log does not weigh on the
BTree bucket it is filed in.
"""

from __future__ import annotations

from typing import Any

from persistent import Persistent


class Tombstone(Persistent):
    __name__: str | None = None
    __parent__: Any = None

    def __init__(
        self,
        item_id: str,
        *,
        title: dict[str, list[str]],
        institution: str,
        collection: str,
        state: str,
        access: str,
        public: bool,
        reason: str,
        by: str,
        date: str,
        files: tuple[dict[str, Any], ...],
        events: tuple[dict[str, Any], ...],
        metadata: dict[str, tuple[dict[str, Any], ...]],
    ) -> None:
        self.item_id = item_id
        self.title = dict(title)  # language map of lists, as in manifests
        self.institution = institution
        self.collection = collection
        self.state = state  # its workflow state when it was removed
        self.access = access
        self.public = public  # the public once saw it: its URLs answer 410, not 404
        self.reason = reason
        self.by = by
        self.date = date
        self.files = tuple(dict(f) for f in files)
        self.events = tuple(dict(e) for e in events)
        self.metadata = {k: tuple(dict(v) for v in vs) for k, vs in metadata.items()}

    def public_json(self) -> dict[str, Any]:
        """Return what anyone may know of it: its id, title and when it was withdrawn."""
        return {"id": self.item_id, "title": self.title, "withdrawn": self.date}

    def as_dict(self) -> dict[str, Any]:
        """Return the whole tombstone (for admins and the holding institution's staff)."""
        return {
            **self.public_json(),
            "institution": self.institution,
            "collection": self.collection,
            "state": self.state,
            "access": self.access,
            "public": self.public,
            "reason": self.reason,
            "by": self.by,
            "files": [dict(f) for f in self.files],
            "events": len(self.events),
            "metadata": {k: [dict(v) for v in vs] for k, vs in self.metadata.items()},
        }
