"""Deaccession: taking a master, or a whole item, out of the repository — never silently.

Only admins may do it (the views and the command line check). What goes leaves a tombstone:

- a file: its identifiers (item id, file number, original name, IIIF image id), size,
  SHA-256 and MD5, format, the reason, who and when, kept under its number in the item's
  file list, and a PREMIS ``deaccession`` event on the item. Its number is never reused.
- an item: a :class:`~heritage.resources.tombstones.Tombstone` in ``root.tombstones`` with
  the tombstones of all its files (those removed earlier too) and its full event log, ending
  with the deaccession event. Listeners (Change Discovery, catalog, OAI-PMH, audits) hear of
  it through :func:`heritage.changes.item_removed` while it is still in the tree.

Everything happens in the caller's transaction; the derivatives on disk (tile pyramid and
cached images) are removed only once it commits, so a failed or retried transaction loses
nothing. An id of a deaccessioned item is never given to a new item.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pyramid.traversal import find_root

from heritage.changes import item_removed
from heritage.metadata import values_by_language
from heritage.resources.events import APP_AGENT, organization_agent
from heritage.resources.tombstones import Tombstone
from heritage.security import publicly_listed
from heritage.worker import derivatives_root, image_dir
from workflows.states import PUBLISHED

#: Longest reason kept (a paragraph, not a file).
MAX_REASON = 2000
_IMAGE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*_[1-9][0-9]*$")


class DeaccessionError(ValueError):
    """The request cannot be carried out as given; ``field`` names the bad input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_reason(reason: Any) -> str:
    """Return the reason stripped; raise DeaccessionError if it is missing or too long."""
    if not isinstance(reason, str) or not reason.strip():
        raise DeaccessionError("reason", "give the reason for the deaccession (required)")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise DeaccessionError("reason", f"at most {MAX_REASON} characters")
    return reason


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _agents(item: Any, user: str) -> list[dict[str, str]]:
    agents = [{"type": "person", "name": user}, APP_AGENT]
    if item.institution is not None:
        agents.append(organization_agent(item.institution))
    return agents


def file_tombstone(item: Any, f: Any, *, reason: str, by: str, date: str) -> dict[str, Any]:
    """Return what stays known of a master once it is gone."""
    fmt = dict(f.format)
    return {
        "item_id": item.item_id,
        "file": f.__name__,
        "filename": f.filename,
        "image_id": item.image_id(f) if f.is_image else "",
        "mimetype": f.mimetype,
        "size": f.size,
        "sha256": f.sha256,
        "md5": f.md5,
        "format": {k: fmt[k] for k in ("puid", "name", "version") if fmt.get(k)},
        "reason": reason,
        "by": by,
        "date": date,
    }


def deaccession_file(
    item: Any, name: str, *, reason: str, user: str, hs: Any = None
) -> dict[str, Any]:
    """Remove master ``name`` from ``item``; return its tombstone.

    :param user: the PREMIS person agent, e.g. ``user:admin``.
    :param hs: the settings; with them the derivatives are removed after commit.
    :raises DeaccessionError: no reason, or no such file.
    """
    reason = check_reason(reason)
    f = item.files.get(name)
    if f is None:
        raise DeaccessionError("file", f"item {item.item_id} has no file {name!r}")
    date = _now()
    tomb = file_tombstone(item, f, reason=reason, by=user, date=date)
    event = item.events.record(
        "deaccession",
        agents=_agents(item, user),
        objects=(f"{item.item_id}/{f.__name__}",),
        detail=(
            f"file {f.__name__} ({f.filename}, {f.size} bytes, sha256 {f.sha256}, "
            f"md5 {f.md5}) removed from the repository; tombstone kept"
        ),
        note=reason,
    )
    tomb["event"] = event["id"]
    item.files.remove(f.__name__, tomb)
    if item.sections:
        item.sections = tuple(
            {**s, "files": tuple(n for n in s["files"] if n != f.__name__)} for s in item.sections
        )
    item.touch()
    if hs is not None and tomb["image_id"]:
        remove_derivatives_after_commit(_transaction(item), hs, [tomb["image_id"]])
    return tomb


def was_public(item: Any) -> bool:
    """Whether the public could see the item's record, now or when it was last published."""
    if publicly_listed(item):
        return True
    if item.access not in ("public", "metadata-only"):
        return False
    return bool(item.in_feed) or any(
        (e.get("workflow") or {}).get("target") == PUBLISHED for e in item.events
    )


def deaccession_item(item: Any, *, reason: str, user: str, hs: Any = None) -> Tombstone:
    """Remove ``item`` with all its files from the repository; return its tombstone.

    :raises DeaccessionError: no reason.
    """
    reason = check_reason(reason)
    root = find_root(item)
    institution, collection = item.institution, item.collection
    date = _now()
    files = [file_tombstone(item, f, reason=reason, by=user, date=date) for f in item.files]
    item.events.record(
        "deaccession",
        agents=_agents(item, user),
        objects=(item.item_id,),
        detail=(
            f"item {item.item_id} removed from the repository with its {len(files)} "
            "files; tombstone kept"
        ),
        note=reason,
    )
    tomb = Tombstone(
        item.item_id,
        title=values_by_language(item.metadata.get("title", ())) or {"none": [item.item_id]},
        institution=institution.__name__ if institution is not None else "",
        collection=collection.__name__ if collection is not None else "",
        state=item.state,
        access=item.access,
        public=was_public(item),
        reason=reason,
        by=user,
        date=date,
        files=tuple(sorted([*item.files.removed_files(), *files], key=lambda t: int(t["file"]))),
        events=tuple(item.events),
        metadata=dict(item.metadata),
    )
    item_removed(item)  # listeners read it in place: its ACL, collection and institution
    if institution is not None:
        institution.count_state(item.state, -1)
    root.items.unregister(item.item_id)
    if collection is not None:
        collection.items.remove(item.item_id)
    root.tombstones[item.item_id] = tomb
    if hs is not None:
        images = [t["image_id"] for t in files if t["image_id"]]
        remove_derivatives_after_commit(_transaction(root), hs, images)
    return tomb


def _transaction(obj: Any) -> Any:
    jar = obj._p_jar or find_root(obj)._p_jar
    return jar.transaction_manager.get()


def remove_derivatives(hs: Any, image_ids: Iterable[str]) -> None:
    """Remove the tile pyramids and cached images of these images from the disk."""
    cache = derivatives_root(hs) / "cache"
    for image_id in image_ids:
        if not _IMAGE_ID.match(image_id):  # only ever a folder named by an image id
            continue
        shutil.rmtree(image_dir(hs, image_id), ignore_errors=True)
        shutil.rmtree(cache / image_id, ignore_errors=True)


def _remove_on_commit(committed: bool, hs: Any, image_ids: tuple[str, ...]) -> None:
    if committed:
        remove_derivatives(hs, image_ids)


def remove_derivatives_after_commit(txn: Any, hs: Any, image_ids: Iterable[str]) -> None:
    """Remove the images' derivatives once ``txn`` commits (never if it aborts)."""
    ids = tuple(image_ids)
    if ids:
        txn.addAfterCommitHook(_remove_on_commit, (hs, ids))


def id_is_retired(root: Any, item_id: str) -> bool:
    """Whether ``item_id`` belonged to a deaccessioned item (ids are never reused)."""
    tombstones = getattr(root, "tombstones", None)
    return tombstones is not None and item_id in tombstones
