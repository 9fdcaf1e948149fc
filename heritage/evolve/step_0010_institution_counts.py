"""Count what the public may see of each institution, for its partner page.

Gives every published item its first publication date (from its publish transition event,
else its last change), then counts every item afresh into its institution's counters
(``heritage.partner_view``). Later changes keep the counts by difference.
"""

from __future__ import annotations

from typing import Any

from heritage.partner_view import recount_item
from workflows.states import PUBLIC_STATES, PUBLISHED

#: Items between savepoints, so that the object cache can let go of those done.
BATCH = 1000


def first_published(item: Any) -> str:
    """Return when the item was first published: its first publish transition, if recorded."""
    for event in item.events:  # oldest first
        if event.get("workflow", {}).get("target") == PUBLISHED:
            return event["workflow"].get("when") or event["date"]
    return item.modified


def evolve(root: Any) -> None:
    for institution in root.institutions.values():
        institution.reset_public_counts()
    jar = root._p_jar
    for n, item in enumerate(root.items.values(), 1):
        if item.state in PUBLIC_STATES and item.published_on is None:
            item.published_on = first_published(item)
        if getattr(item, "partner_counted", ()):  # counted before: count again from zero
            item.partner_counted = ()
        recount_item(item)
        if jar is not None and n % BATCH == 0:
            jar.transaction_manager.savepoint(True)
            jar.cacheGC()
