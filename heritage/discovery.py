"""What the public Change Discovery feed says about items as they change.

An item is in the feed while the public may see its manifest (published, with images or
sound the public may see). Becoming visible is a Create, a change while visible an Update,
becoming invisible (withdrawn, restricted) or leaving the repository (deaccession) a Delete:
an aggregator removes it then.
"""

from __future__ import annotations

from typing import Any

from pyramid.traversal import find_root

from heritage.changes import on_item_changed, on_item_removed
from heritage.security import publicly_visible


def manifest_path(item_id: str) -> str:
    return f"/iiif/manifests/{item_id}"


@on_item_changed
def item_changed(item: Any) -> None:
    """Record the activity this change means for the public feed, if any."""
    root = find_root(item)
    activities = getattr(root, "activities", None)
    if activities is None or item.__parent__ is None:
        return
    visible = publicly_visible(item)
    listed = item.in_feed
    path = manifest_path(item.item_id)
    # Several changes in one transaction make one activity; every transaction is seen, so
    # an aggregator that read the feed between two edits never misses the second.
    txn = root._p_jar.transaction_manager.get() if root._p_jar is not None else None
    seen = txn is not None and getattr(item, "_v_feed_txn", None) is txn
    if visible and listed:
        if not seen:
            activities.add("Update", path)
    elif visible:
        activities.add("Create", path)
    elif listed:
        activities.add("Delete", path)
    item._v_feed_txn = txn
    if visible != listed:
        item.in_feed = visible


@on_item_removed
def item_removed(item: Any) -> None:
    """A listed item leaving the repository (deaccession) is a Delete: aggregators drop it."""
    root = find_root(item)
    activities = getattr(root, "activities", None)
    if activities is None or not item.in_feed:
        return
    activities.add("Delete", manifest_path(item.item_id))
    item.in_feed = False
