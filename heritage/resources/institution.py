"""A member institution: its collections, its staff's roles and its own policies."""

from __future__ import annotations

from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.authorization import Allow, Everyone

from heritage.resources.folder import Folder
from heritage.security import ROLE_PERMISSIONS, role_principal, staff_principal


class Institution(Persistent):
    """One member of the consortium (a library, archive or museum)."""

    __name__: str | None = None
    __parent__: Any = None
    #: {criterion: weight} (workflows.selection.validate_weights); None: DEFAULT_WEIGHTS.
    #: Replaced whole, never mutated.
    selection_weights: dict[str, int] | None = None

    def __init__(
        self,
        name: dict[str, str],
        *,
        country: str,
        homepage: str = "",
        logo: str = "",
        place: str = "",
    ) -> None:
        self.name = PersistentMapping(name)  # language map: {"en": ..., "ms": ...}
        self.country = country  # ISO 3166-1 alpha-2: MY, ID, BN
        self.homepage = homepage
        self.logo = logo
        self.place = place
        self.collections = Folder()
        self.collections.__name__ = "collections"
        self.collections.__parent__ = self
        self.state_counts = OOBTree()  # workflow state → Length; never walk items to count
        self.reset_public_counts()

    def __acl__(self) -> list[tuple[str, str, Any]]:
        acl: list[tuple[str, str, Any]] = [(Allow, Everyone, "view")]
        acl.append((Allow, staff_principal(self.__name__), ("staff", "view-unpublished")))
        for role, permissions in ROLE_PERMISSIONS.items():
            acl.append((Allow, role_principal(role, self.__name__), permissions))
        return acl

    def count_state(self, state: str, delta: int) -> None:
        counter = self.state_counts.get(state)
        if counter is None:
            counter = self.state_counts[state] = Length()
        counter.change(delta)

    def counts(self) -> dict[str, int]:
        return {state: counter() for state, counter in self.state_counts.items()}

    def reset_public_counts(self) -> None:
        """Start the partner page's counters from zero (``heritage.partner_view`` keeps them).

        What the public may see, counted as items change, so the page never walks items.
        """
        self.public_items = Length()  # items the public may see
        self.public_pages = Length()  # image files the public may see, of those items
        self.public_by_year = OOBTree()  # year first published → Length, of public items
        self.latest_public = OOBTree()  # (-published epoch s, item id) → item id: newest first
