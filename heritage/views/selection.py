"""(being written)"""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    """Add this module's routes (its views are found by the scan)."""
