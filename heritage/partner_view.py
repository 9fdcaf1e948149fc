"""The partner view of a member institution: what the public may see of it, and where
partners take it from (OAI-PMH, IIIF, Change Discovery, search).

The counts are kept as items change, never by walking them: a listener on every item change
works out what the item now adds to its institution's public counts — one item, its image
files, its year of publication, its place in the newest-first list — and applies only the
difference from what it added last time, which it remembers on the item
(``partner_counted``). So a page over 100 000 items reads a few ``Length`` counters and the
first keys of one BTree.

What counts (README, "Public pages"):

- *items*: items the public may see (published, access ``public`` or ``metadata-only``);
  community and staff-only items are never counted, whatever the reader's rights, so the page
  says the same to everyone and reveals nothing of what is restricted;
- *pages digitized*: image files of the items whose images the public may see (published,
  access ``public``). A description-only item counts as an item but not by its pages: the
  public page of such an item shows no files, so neither does this count;
- *published this year*: those public items first published in the current year (UTC); an
  item withdrawn and published again keeps its first date (``Item.published_on``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from BTrees.Length import Length
from pyramid.traversal import find_root

from heritage.changes import on_item_changed, on_item_removed
from heritage.metadata import values_by_language
from heritage.security import publicly_listed, publicly_visible
from iiif.presentation.manifest import ImageService

#: How many of its newest public items an institution's page lists.
LATEST = 6
#: Thumbnails are the smallest stored size at least this wide (the pyramid's sizes).
THUMB_WIDTH = 200

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

#: What an item adds to its institution's counts: ``(institution id, newest-first key,
#: year first published, image files counted, files seen when counting them, or -1)``;
#: ``()`` when the public may not see it.
Contribution = tuple


def _newest_first_key(published_on: str, item_id: str) -> tuple[int, str]:
    """Return a key that sorts the newest publication first (BTrees only iterate upwards):
    minus its microseconds since 1970."""
    return (-((datetime.fromisoformat(published_on) - EPOCH) // MICROSECOND), item_id)


def contribution(item: Any, before: Contribution = ()) -> Contribution:
    """Return what ``item`` adds to its institution's public counts now.

    ``before`` is what it added last time: its image count is reused while the number of
    files is unchanged, so edits to a public item of 1 000 pages do not recount them.
    """
    institution = item.institution
    if institution is None or item.__parent__ is None or not publicly_listed(item):
        return ()
    published_on = item.published_on or item.created
    pages, seen = 0, -1
    if publicly_visible(item):
        seen = len(item.files)
        if before and before[0] == institution.__name__ and before[4] == seen:
            pages = before[3]
        else:
            pages = sum(1 for f in item.files.summaries() if f["mimetype"].startswith("image/"))
    return (
        institution.__name__,
        _newest_first_key(published_on, item.item_id),
        published_on[:4],
        pages,
        seen,
    )


def _counting(root: Any, inst_id: str) -> Any:
    """Return the institution whose counts to change, or None: gone, or a database not yet
    evolved (``step_0010_institution_counts`` then counts everything)."""
    institution = root.institutions.get(inst_id)
    if institution is None or getattr(institution, "public_items", None) is None:
        return None
    return institution


def _apply(root: Any, counted: Contribution, sign: int, item_id: str) -> None:
    institution = _counting(root, counted[0])
    if institution is None:
        return
    _, key, year, pages, _ = counted
    institution.public_items.change(sign)
    if pages:
        institution.public_pages.change(sign * pages)
    by_year = institution.public_by_year
    if year not in by_year:
        by_year[year] = Length()
    by_year[year].change(sign)
    if sign > 0:
        institution.latest_public[key] = item_id
    else:
        institution.latest_public.pop(key, None)


def recount_item(item: Any, *, removed: bool = False) -> None:
    """Bring the item's institution's public counts up to date with the item.

    Registered for every item change and removal (``heritage.changes``), so the counts
    change in the same transaction as the item.
    """
    root = find_root(item)
    if getattr(root, "institutions", None) is None:
        return
    before: Contribution = getattr(item, "partner_counted", ())
    now = () if removed else contribution(item, before)
    if now == before:
        return
    if before and now and before[:3] == now[:3]:  # same place in every count but pages
        institution = _counting(root, now[0])
        if institution is not None and now[3] != before[3]:
            institution.public_pages.change(now[3] - before[3])
    else:
        if before:
            _apply(root, before, -1, item.item_id)
        if now:
            _apply(root, now, 1, item.item_id)
    item.partner_counted = now


@on_item_changed
def item_changed(item: Any) -> None:
    recount_item(item)


@on_item_removed
def item_removed(item: Any) -> None:
    recount_item(item, removed=True)


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicCounts:
    """What an institution's page says of it: everything here is public."""

    items: int
    pages: int
    published_this_year: int
    year: int

    def as_dict(self) -> dict[str, int]:
        return {
            "items": self.items,
            "pages": self.pages,
            "published_this_year": self.published_this_year,
            "year": self.year,
        }


def public_counts(institution: Any, today: datetime | None = None) -> PublicCounts:
    """Return the institution's public counts (reads counters only)."""
    year = (today or datetime.now(UTC)).year
    counter = institution.public_by_year.get(str(year))
    return PublicCounts(
        items=institution.public_items(),
        pages=institution.public_pages(),
        published_this_year=counter() if counter is not None else 0,
        year=year,
    )


def latest_public_items(institution: Any, limit: int = LATEST) -> list[Any]:
    """Return up to ``limit`` of its public items, the most recently published first."""
    items = find_root(institution).items
    found = []
    for item_id in institution.latest_public.values():
        item = items.get(item_id)
        if item is not None and publicly_listed(item):
            found.append(item)
            if len(found) == limit:
                break
    return found


def latest_public_everywhere(root: Any, limit: int) -> list[Any]:
    """Return the consortium's ``limit`` most recently published public items: a merge of
    the institutions' newest-first lists, so the home page never walks every item."""
    lists = [
        inst.latest_public.items()
        for inst in root.institutions.values()
        if getattr(inst, "latest_public", None) is not None
    ]
    found = []
    for _, item_id in heapq.merge(*lists):
        item = root.items.get(item_id)
        if item is not None and publicly_listed(item):
            found.append(item)
            if len(found) == limit:
                break
    return found


def thumbnail_url(item: Any, request: Any) -> str | None:
    """Return the Image API URL of a small image of the item's first page, if it has one
    and the public may see it (the page is the same for every reader).

    A size the tile pyramid holds is served from its file; before the pyramid is built,
    a width no larger than the image (the Image API refuses to upscale without ``^``).
    """
    if not publicly_visible(item):
        return None
    for f in item.files.summaries():
        if not f["mimetype"].startswith("image/"):
            continue
        base = request.route_url("iiif_image_base", image_id=f"{item.item_id}_{f['name']}")
        sizes = tuple(tuple(s) for s in (f["pyramid"] or {}).get("sizes", ()))
        if sizes:
            w, h = ImageService(base, 1, 1, sizes).thumbnail_size(THUMB_WIDTH)
            return f"{base}/full/{w},{h}/0/default.jpg"
        width = f["height"] if f["orientation"] in (5, 6, 7, 8) else f["width"]
        return f"{base}/full/{min(THUMB_WIDTH, width)},/0/default.jpg" if width else None
    return None


def entry_points(institution: Any, request: Any) -> dict[str, str]:
    """Return the URLs partners take the institution's records and images from.

    OAI-PMH and search are fixed public URLs (ARCHITECTURE.md), built from the site's base
    URL: the OAI-PMH set of an institution is its id (``inst:coll`` for a collection).
    """
    inst_id = institution.__name__
    base = request.application_url
    oai = f"{base}/oai"
    records = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": inst_id}
    return {
        "page": request.route_url("institution", inst_id=inst_id),
        "oai_pmh": oai,
        "oai_pmh_set": inst_id,
        "oai_pmh_records": f"{oai}?{urlencode(records)}",
        "iiif_collection": request.route_url("iiif_institution", inst_id=inst_id),
        "change_discovery": request.route_url("iiif_changes"),
        "search": f"{base}/search?{urlencode({'institution': inst_id})}",
    }


def partner_json(institution: Any, request: Any) -> dict[str, Any]:
    """Return the counts and entry points, for the institution's JSON (cheap: counters)."""
    return {
        "counts": public_counts(institution).as_dict(),
        "entry_points": entry_points(institution, request),
    }


def latest_json(institution: Any, request: Any) -> list[dict]:
    """Return its newest public items as the institution's JSON lists them (titles by
    language, as in manifests)."""
    return [
        {
            "id": item.item_id,
            "title": values_by_language(item.metadata.get("title", ())),
            "url": request.route_url("item", item_id=item.item_id),
            "collection": item.collection.__name__,
            "published": item.published_on,
            "manifest": (
                request.route_url("iiif_manifest", item_id=item.item_id)
                if publicly_visible(item)
                else None
            ),
            "thumbnail": thumbnail_url(item, request),
        }
        for item in latest_public_items(institution)
    ]
