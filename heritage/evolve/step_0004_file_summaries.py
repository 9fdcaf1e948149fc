"""Record each file's summary in its item's file list, so that manifests load no files."""

from __future__ import annotations

from typing import Any

from BTrees.IOBTree import IOBTree


def evolve(root: Any) -> None:
    for item in root.items.values():
        files = item.files
        files._p_activate()
        if "summary" not in files.__dict__:
            files.summary = IOBTree()
            for f in files:
                files.refresh(f)
