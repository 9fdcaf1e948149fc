"""Add ``root.audits``: fixity-audit failures, when each file was last checked, audit runs."""

from __future__ import annotations

from typing import Any

from heritage.resources.audits import Audits


def evolve(root: Any) -> None:
    root._p_activate()
    if "audits" not in root.__dict__:
        root.audits = Audits()
        root.audits.__parent__ = root
