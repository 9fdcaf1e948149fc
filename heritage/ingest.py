"""Storing examined files in an item: one transaction per file, with its events and jobs.

The examination (``digitization.ingest``) happens outside any transaction; only the
storing is transactional, so a file is either fully stored — blob, metadata, QA, events and
its derivative job together — or not at all, and a re-run skips what is already there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from digitization.ingest import Examined
from digitization.premis import iso_date
from digitization.qa import Thresholds, check_duplicate
from heritage.resources.events import APP_AGENT
from heritage.resources.files import File
from heritage.resources.item import Item


def thresholds_for(item: Item) -> Thresholds:
    """Return the QA thresholds of the item's collection (its own, or the defaults)."""
    overrides = getattr(item.collection, "qa", None) or {}
    return Thresholds.from_mapping({**Thresholds().to_mapping(), **dict(overrides)})


def known_checker(item: Item) -> Callable[[Any], str]:
    """Return a ``known(fixity)`` that names the stored file with the same checksum."""

    def known(fixity: Any) -> str:
        name = item.files.name_for_sha256(fixity.sha256)
        return f"already stored as file {name}" if name else ""

    return known


def add_duplicate_check(item: Item, examined: Examined, thresholds: Thresholds) -> None:
    """Add the duplicate check against the item's files to ``examined.qa``.

    It reads the item's hash indexes (plain ints and strings), never its other files.
    """
    if examined.qa is None:
        return
    same = item.files.name_for_sha256(examined.fixity.sha256)
    check = check_duplicate(
        examined.fixity.sha256,
        examined.qa.dhash,
        same_sha=same,
        near=item.files.near_dhashes(examined.qa.dhash, thresholds.duplicate_distance)
        if examined.qa.dhash is not None
        else (),
        thresholds=thresholds,
    )
    examined.qa = examined.qa.with_check(check)


def store_examined(
    item: Item,
    examined: Examined,
    *,
    user: str,
    software: Iterable[dict[str, str]],
    enqueue: Callable[..., Any],
) -> File:
    """Add an examined, accepted file to ``item`` with its QA and events; queue derivatives.

    Runs inside the caller's transaction. The duplicate check reads the item's hash
    indexes, never its other files.
    """
    thresholds = thresholds_for(item)
    add_duplicate_check(item, examined, thresholds)
    checks = list(examined.qa.checks) if examined.qa is not None else []
    qa = examined.qa
    f = File.from_staged(
        examined.staged,
        examined.filename,
        jar=item._p_jar or item.__parent__._p_jar,
        fixity=examined.fixity,  # computed as the file was copied into staging: not read again
        mimetype=examined.identification.mimetype,
    )
    item.files.append(f)
    if qa is not None and qa.dhash is not None:
        item.files.remember_dhash(f, qa.dhash)
    f.format.update(examined.identification.to_json())
    f.techmd.update(examined.techmd)
    f.qa.update(
        {
            "passed": all(c.passed for c in checks),
            "checks": [c.to_json() for c in checks],
            "thresholds": thresholds.to_mapping(),
        }
    )
    item.files.refresh(f)  # now with its technical metadata
    item.touch()
    _record_events(item, f, examined, checks, user=user, software=list(software))
    if f.is_image:
        enqueue("derivatives", item_id=item.item_id, file=f.__name__)
    return f


def _record_events(
    item: Item,
    f: File,
    examined: Examined,
    checks: list,
    *,
    user: str,
    software: list[dict[str, str]],
) -> None:
    person = {"type": "person", "name": user}
    obj = (f"{item.item_id}/{f.__name__}",)
    exiftool, fido, pillow = software[0], software[1], software[2]
    events = item.events
    _record_capture(item, obj, examined.techmd, person)
    events.record(
        "ingestion",
        agents=[person, APP_AGENT],
        objects=obj,
        detail=f"{examined.filename} ({f.size} bytes) stored as file {f.__name__}",
    )
    events.record(
        "message digest calculation",
        agents=[APP_AGENT],
        objects=obj,
        detail=f"sha256 {f.sha256}; md5 {f.md5}",
    )
    ident = examined.identification
    events.record(
        "format identification",
        agents=[fido],
        objects=obj,
        detail=f"{ident.name} {ident.version} ({ident.puid}); {ident.signature_version}",
    )
    events.record(
        "metadata extraction", agents=[exiftool], objects=obj, detail="technical metadata extracted"
    )
    if checks:
        failed = [c for c in checks if not c.passed]
        events.record(
            "validation",
            agents=[pillow, APP_AGENT],
            objects=obj,
            outcome="failure" if failed else "success",
            detail="; ".join(c.message for c in failed) or "all image QA checks passed",
        )


def _record_capture(item: Item, obj: tuple[str, ...], md: dict[str, Any], person: dict) -> None:
    """Record the capture of a master, as its own technical metadata tells it.

    The date is the file's (EXIF DateTimeOriginal or CreateDate) when it has one, so the
    record says when the page was photographed, not when it reached us; the capture device
    (Make, Model) and the capture software (Software, CreatorTool) are its agents.
    """
    agents = [person]
    device = " ".join(str(md[k]).strip() for k in ("make", "model") if md.get(k))
    if device:
        agents.append({"type": "hardware", "name": device})
    program = str(md.get("software") or md.get("creator_tool") or "").strip()
    if program:
        agents.append({"type": "software", "name": program})
    iso = iso_date(md.get("capture_date"))
    when = datetime.fromisoformat(iso) if iso else None
    parts = [f"with {device}" if device else "", f"using {program}" if program else ""]
    how = " ".join(p for p in parts if p) or "device not recorded in the file"
    detail = f"captured {how}" + ("" if when else "; capture date not recorded in the file")
    item.events.record("capture", agents=agents, objects=obj, detail=detail, when=when)
