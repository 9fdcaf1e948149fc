"""One place that hears about every change to an item, and tells whoever keeps track.

Everything derived from items inside the database — the Change Discovery feed, the search
catalog, the OAI-PMH record list — is kept in the same transaction as the change by
registering here. ``Item.touch()`` and the collection index call :func:`item_changed`;
removing an item from the tree (deaccession) calls :func:`item_removed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[Any], None]

_changed: list[Listener] = []
_removed: list[Listener] = []


def on_item_changed(listener: Listener) -> Listener:
    """Register ``listener(item)``, called whenever an item changes (usable as a decorator)."""
    if listener not in _changed:
        _changed.append(listener)
    return listener


def on_item_removed(listener: Listener) -> Listener:
    """Register ``listener(item)``, called just before an item leaves the tree."""
    if listener not in _removed:
        _removed.append(listener)
    return listener


def item_changed(item: Any) -> None:
    _load_listeners()
    for listener in _changed:
        listener(item)


def item_removed(item: Any) -> None:
    _load_listeners()
    for listener in _removed:
        listener(item)


def _load_listeners() -> None:
    """Import the modules that register listeners (once; they register at import)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    # Change Discovery feed; institutions' public counts (heritage.partner_view); a removed
    # item's fixity failures (heritage.audit); the search catalog (heritage.catalog)
    from heritage import audit, catalog, discovery, partner_view  # noqa: F401
    from heritage.oai import tracking  # noqa: F401  (the OAI-PMH record list)


_loaded = False
