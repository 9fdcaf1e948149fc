"""From an item to the plain data of its IIIF manifest, and a cache of the built bytes.

Manifests are built once per change: the cache key is the item's and its file list's
database serials plus the count of pyramids built, so any edit, new file or finished
derivative makes a new manifest, and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from edtf import parse_edtf

from digitization.derivatives import Pyramid
from heritage.metadata import DC_ELEMENTS, values_by_language
from iiif.presentation.manifest import (
    CanvasData,
    ImageService,
    ManifestData,
    RangeData,
    build_manifest,
)

#: Dublin Core element names in the interface languages, for manifest metadata labels.
DC_LABELS: dict[str, dict[str, list[str]]] = {
    "creator": {"en": ["Creator"], "ms": ["Pencipta"], "id": ["Pencipta"]},
    "subject": {"en": ["Subject"], "ms": ["Subjek"], "id": ["Subjek"]},
    "publisher": {"en": ["Publisher"], "ms": ["Penerbit"], "id": ["Penerbit"]},
    "contributor": {"en": ["Contributor"], "ms": ["Penyumbang"], "id": ["Kontributor"]},
    "date": {"en": ["Date"], "ms": ["Tarikh"], "id": ["Tanggal"]},
    "type": {"en": ["Type"], "ms": ["Jenis"], "id": ["Jenis"]},
    "format": {"en": ["Format"], "ms": ["Format"], "id": ["Format"]},
    "identifier": {"en": ["Identifier"], "ms": ["Pengecam"], "id": ["Pengenal"]},
    "source": {"en": ["Source"], "ms": ["Sumber"], "id": ["Sumber"]},
    "language": {"en": ["Language"], "ms": ["Bahasa"], "id": ["Bahasa"]},
    "relation": {"en": ["Relation"], "ms": ["Hubungan"], "id": ["Relasi"]},
    "coverage": {"en": ["Place"], "ms": ["Tempat"], "id": ["Tempat"]},
    "rights": {"en": ["Rights"], "ms": ["Hak"], "id": ["Hak"]},
}
PAGED_TYPES = {"manuscript", "text", "book", "manuskrip", "naskah"}
CACHE_ENTRIES = 256


def _lang_map(values: Any) -> dict[str, list[str]]:
    return values_by_language(values) if values else {}


def _plain_map(language_map: Any) -> dict[str, list[str]]:
    return {lang: [text] for lang, text in dict(language_map).items()}


def _nav_date(item: Any) -> str:
    for v in item.metadata.get("date", ()):
        try:
            lower = parse_edtf(v["value"]).lower_strict()
        except Exception:  # noqa: S112 - edtf raises several kinds; skip odd dates
            continue
        if lower.tm_year > 0:
            return f"{lower.tm_year:04d}-{lower.tm_mon:02d}-{lower.tm_mday:02d}T00:00:00Z"
    return ""


def _image_service(request: Any, item: Any, f: dict[str, Any]) -> ImageService:
    base = request.route_url("iiif_image_base", image_id=f"{item.item_id}_{f['name']}")
    if f["pyramid"]:
        p = Pyramid.from_json(f["pyramid"])
        return ImageService(base, p.width, p.height, tuple(p.sizes))
    w, h = f["width"] or 1, f["height"] or 1
    if f["orientation"] in (5, 6, 7, 8):
        w, h = h, w
    return ImageService(base, w, h)


def _canvases(request: Any, item: Any) -> tuple[list[CanvasData], dict[str, int]]:
    """Return the canvases from the file summaries: no File object is loaded."""
    canvases: list[CanvasData] = []
    index: dict[str, int] = {}
    for f in item.files.summaries():
        label = _plain_map(f["label"]) or {"none": [f["filename"]]}
        mimetype = f["mimetype"]
        if mimetype.startswith("image/"):
            service = _image_service(request, item, f)
            largest = service.sizes[-1] if service.sizes else None
            body = service.url(f"{largest[0]},{largest[1]}") if largest else service.url()
            canvases.append(
                CanvasData(
                    label=label, kind="image", body_id=body, format="image/jpeg", image=service
                )
            )
        elif mimetype == "application/pdf":
            continue  # a transcript or translation: a rendering, not a canvas
        elif mimetype.startswith("audio/") and (f["duration"] or 0) > 0:
            canvases.append(
                CanvasData(
                    label=label,
                    kind="audio",
                    format=mimetype,
                    body_id=request.route_url("iiif_media", item_id=item.item_id, file=f["name"]),
                    duration=float(f["duration"]),
                )
            )
        else:
            continue  # a canvas needs dimensions or a duration
        index[f["name"]] = len(canvases) - 1
    return canvases, index


def manifest_data(item: Any, request: Any) -> ManifestData:
    md = item.metadata
    institution = item.institution
    collection = item.collection
    inst_name = _plain_map(institution.name)
    canvases, index = _canvases(request, item)
    types = {v["value"].casefold() for v in md.get("type", ())}
    metadata = [
        (DC_LABELS[e], _lang_map(md[e])) for e in DC_ELEMENTS if e in DC_LABELS and md.get(e)
    ]
    inst_url = request.route_url("institution", inst_id=institution.__name__)
    return ManifestData(
        id=request.route_url("iiif_manifest", item_id=item.item_id),
        label=_lang_map(md.get("title")) or {"none": [item.item_id]},
        summary=_lang_map(md.get("description")),
        metadata=metadata,
        canvases=canvases,
        rights=item.rights,
        attribution={lang: [f"{names[0]}"] for lang, names in inst_name.items()},
        provider={
            "id": inst_url,
            "label": inst_name,
            "homepage": institution.homepage or inst_url,
            "logo": institution.logo,
        },
        homepage={
            "id": request.route_url("item", item_id=item.item_id),
            "label": _lang_map(md.get("title")) or {"none": [item.item_id]},
        },
        see_also=[
            {
                "id": request.route_url("api_item_dc", item_id=item.item_id),
                "type": "Dataset",
                "format": "application/xml",
                "profile": "http://www.openarchives.org/OAI/2.0/oai_dc/",
                "label": {"en": ["Dublin Core record"]},
            },
            {
                "id": request.route_url("api_item", item_id=item.item_id),
                "type": "Dataset",
                "format": "application/json",
                "label": {"en": ["Dublin Core record (JSON)"]},
            },
        ],
        part_of=[
            {
                "id": request.route_url("iiif_collection", coll_id=collection.__name__),
                "type": "Collection",
                "label": _plain_map(collection.title),
            }
        ],
        viewing_direction=item.viewing_direction,
        behavior="paged" if types & PAGED_TYPES and len(canvases) > 1 else "individuals",
        ranges=[
            RangeData(
                label=_plain_map(s["label"]),
                canvases=tuple(index[n] for n in s["files"] if n in index),
            )
            for s in item.sections
        ],
        renderings=[
            {
                "id": request.route_url("iiif_media", item_id=item.item_id, file=f["name"]),
                "type": "Text",
                "format": f["mimetype"],
                "label": _plain_map(f["label"]) or {"none": [f["filename"]]},
            }
            for f in item.files.summaries()
            if f["mimetype"] == "application/pdf"
        ],
        start=0 if canvases else None,
        nav_date=_nav_date(item),
    )


class ManifestCache:
    """Built manifests as bytes, per process, keyed by what they were built from."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._data: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._entries = entries
        self._lock = threading.Lock()

    @staticmethod
    def key(item: Any, request: Any) -> tuple:
        files = item.files
        collection = item.collection  # its title and its institution's name are in it too
        return (
            item.item_id,
            item._p_serial,
            files._p_serial,
            files.derived(),
            collection._p_serial,
            collection.title._p_serial,
            collection.institution._p_serial,
            collection.institution.name._p_serial,
            request.application_url,
        )

    def get(self, item: Any, request: Any) -> tuple[bytes, str]:
        """Return ``(body, etag)`` of the item's manifest, building it if needed."""
        key = self.key(item, request)
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit
        body = json.dumps(
            build_manifest(manifest_data(item, request)), ensure_ascii=False, separators=(",", ":")
        ).encode()
        entry = (body, hashlib.sha1(body, usedforsecurity=False).hexdigest())
        with self._lock:
            self._data[key] = entry
            while len(self._data) > self._entries:
                self._data.popitem(last=False)
        return entry


manifests = ManifestCache()
