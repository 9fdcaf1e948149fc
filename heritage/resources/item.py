"""An item: one work being digitized (a manuscript, a photograph, an oral recording)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.authorization import ALL_PERMISSIONS, Allow, Deny, Everyone
from pyramid.location import lineage
from pyramid.traversal import find_interface

from heritage.metadata import first_value
from heritage.resources.collection import Collection
from heritage.resources.events import EventLog
from heritage.resources.filelist import FileList
from heritage.resources.files import File
from heritage.resources.institution import Institution
from heritage.security import (
    ACCESS_LEVELS,
    ADMIN_PRINCIPAL,
    community_principal,
    staff_principal,
)
from workflows.states import NOMINATED, PUBLIC_STATES, STATES

ITEM_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ITEM_ID_MAX = 64
VIEWING_DIRECTIONS = ("left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top")


def validate_item_id(item_id: Any) -> str:
    """Return ``item_id`` if it is a valid stable id; raise ValueError with the rule."""
    if (
        not isinstance(item_id, str)
        or not 3 <= len(item_id) <= ITEM_ID_MAX
        or not ITEM_ID_RE.match(item_id)
    ):
        raise ValueError(
            f"an item id is 3-{ITEM_ID_MAX} lowercase letters and digits in words joined by "
            "single hyphens, e.g. unimas-ms-0007"
        )
    return item_id


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Item(Persistent):
    __name__: str | None = None
    __parent__: Any = None
    community = ""
    viewing_direction = "left-to-right"
    in_feed = False  # listed in the public Change Discovery feed (heritage.discovery)
    sections: tuple[dict, ...] = ()  # [{"label": {lang: text}, "files": (names…)}]
    nomination: dict | None = None  # workflows.selection.nominate(); replaced whole, never mutated
    published_on: str | None = None  # ISO time of its first publication (kept if withdrawn)

    def __init__(
        self,
        item_id: str,
        metadata: dict[str, tuple[dict, ...]],
        *,
        access: str = "staff",
        rights: str = "",
        state: str = NOMINATED,
        community: str = "",
        viewing_direction: str = "left-to-right",
    ) -> None:
        if state not in STATES:
            raise ValueError(f"unknown workflow state {state!r}")
        if viewing_direction not in VIEWING_DIRECTIONS:
            raise ValueError(f"viewing_direction must be one of {', '.join(VIEWING_DIRECTIONS)}")
        self.item_id = validate_item_id(item_id)
        self.metadata = PersistentMapping(metadata)
        self.files = FileList()
        self.files.__parent__ = self
        self.events = EventLog()
        self.events.__parent__ = self
        self.created = self.modified = now()
        self.state = state
        if state in PUBLIC_STATES:  # born published (sample data, imports)
            self.published_on = self.created
        self.set_access(access, community)
        self.rights = rights
        self.viewing_direction = viewing_direction

    # -- what it is --------------------------------------------------------------------------

    @property
    def institution(self) -> Institution:
        return find_interface(self, Institution)

    @property
    def collection(self) -> Any:
        return find_interface(self, Collection)

    def title(self, languages: tuple[str, ...] = ()) -> str:
        return first_value(self.metadata.get("title", ()), languages) or self.item_id

    @property
    def published(self) -> bool:
        return self.state in PUBLIC_STATES

    # -- changes -----------------------------------------------------------------------------

    def add_file(self, path: Path, filename: str, **kw: Any) -> File:
        """Add the staged file at ``path`` as the item's next file (its blob takes it over)."""
        jar = next((o._p_jar for o in lineage(self) if getattr(o, "_p_jar", None)), None)
        f = File.from_staged(path, filename, jar=jar, **kw)
        self.files.append(f)
        self.touch()
        return f

    def image_id(self, f: File) -> str:
        """Return the IIIF image id of one of its files (``_`` never occurs in item ids)."""
        return f"{self.item_id}_{f.__name__}"

    def touch(self) -> None:
        from heritage.changes import item_changed  # listeners read the ACL of items

        self.modified = now()
        item_changed(self)

    def set_access(self, access: str, community: str = "") -> None:
        if access not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
        if access == "community" and not community:
            raise ValueError("community access needs the name of the community protocol")
        self.access = access
        self.community = community if access == "community" else ""

    def set_state(self, state: str) -> None:
        """Move to ``state``, keeping the institution's per-state counts right.

        The workflow decides whether a move is allowed; this only records it.
        """
        if state not in STATES:
            raise ValueError(f"unknown workflow state {state!r}")
        institution = self.institution
        if institution is not None and state != self.state:
            institution.count_state(self.state, -1)
            institution.count_state(state, 1)
        self.state = state
        if state in PUBLIC_STATES and self.published_on is None:
            # to the microsecond, so that lists can put the newest publication first
            self.published_on = datetime.now(UTC).isoformat()
        self.touch()

    # -- who may see it ----------------------------------------------------------------------

    def __acl__(self) -> list[tuple[str, str, Any]]:
        """Return the ACL for the item's state and access level (state-derived, so a method).

        Its own institution's staff always see it; others only once it is published, and
        then as its access level says. The final Deny stops ``view`` being inherited from
        the public institution and collection pages.
        """
        institution_id = self.institution.__name__ if self.institution is not None else None
        acl: list[tuple[str, str, Any]] = [
            (Allow, ADMIN_PRINCIPAL, ALL_PERMISSIONS),
            (Allow, staff_principal(institution_id), ("view", "view-media")),
        ]
        if self.published:
            if self.access == "public":
                acl.append((Allow, Everyone, ("view", "view-media")))
            elif self.access == "metadata-only":
                acl.append((Allow, Everyone, "view"))
            elif self.access == "community":
                acl.append((Allow, community_principal(self.community), ("view", "view-media")))
        acl.append((Deny, Everyone, ("view", "view-media")))
        return acl
