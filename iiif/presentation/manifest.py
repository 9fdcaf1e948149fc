"""Presentation API 3.0 manifests from plain data.

Built as plain dicts and serialized once per change: iiif-prezi3's models take ~0.3 s for
1 000 canvases, dicts ~15 ms (PERFORMANCE.md). The tests validate what this builds against
iiif-prezi3's models and the official JSON Schema, so the speed costs no correctness.
https://iiif.io/api/presentation/3.0/
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'
LanguageMap = dict[str, list[str]]


@dataclass(frozen=True)
class ImageService:
    """The IIIF Image API service of an image: what a canvas and a thumbnail need."""

    id: str  # base URI
    width: int
    height: int
    sizes: tuple[tuple[int, int], ...] = ()

    def url(self, size: str = "max", region: str = "full") -> str:
        return f"{self.id}/{region}/{size}/0/default.jpg"

    def thumbnail_size(self, at_least: int = 200) -> tuple[int, int]:
        """Return the smallest stored size at least ``at_least`` wide (else the largest)."""
        for w, h in self.sizes:
            if w >= at_least:
                return w, h
        return self.sizes[-1] if self.sizes else (self.width, self.height)

    def as_service(self) -> list[dict[str, Any]]:
        return [{"id": self.id, "type": "ImageService3", "profile": "level2"}]


@dataclass(frozen=True)
class CanvasData:
    """One page, photograph or recording of an item."""

    label: LanguageMap
    kind: str  # "image" or "audio"
    body_id: str  # the image's full-size URL, or the audio file's URL
    format: str  # MIME type of the body
    image: ImageService | None = None
    duration: float | None = None  # seconds, for audio


@dataclass(frozen=True)
class RangeData:
    """A section of a manuscript (a chapter, a letter), for the table of contents."""

    label: LanguageMap
    canvases: tuple[int, ...]  # indexes into the manifest's canvases


@dataclass
class ManifestData:
    id: str
    label: LanguageMap
    canvases: Sequence[CanvasData]
    summary: LanguageMap = field(default_factory=dict)
    metadata: list[tuple[LanguageMap, LanguageMap]] = field(default_factory=list)
    rights: str = ""
    attribution: LanguageMap = field(default_factory=dict)
    provider: dict[str, Any] | None = None  # {"id", "label", "homepage", "logo"}
    homepage: dict[str, Any] | None = None  # {"id", "label"}
    see_also: list[dict[str, Any]] = field(default_factory=list)
    part_of: list[dict[str, Any]] = field(default_factory=list)
    renderings: list[dict[str, Any]] = field(default_factory=list)
    viewing_direction: str = "left-to-right"
    behavior: str = "individuals"
    ranges: Sequence[RangeData] = ()
    start: int | None = None
    nav_date: str = ""


def _text(id_: str, label: LanguageMap, fmt: str = "text/html") -> dict[str, Any]:
    return {"id": id_, "type": "Text", "label": label, "format": fmt}


def _canvas(manifest_id: str, n: int, c: CanvasData) -> dict[str, Any]:
    canvas_id = f"{manifest_id}/canvas/{n}"
    body: dict[str, Any] = {"id": c.body_id, "format": c.format}
    canvas: dict[str, Any] = {"id": canvas_id, "type": "Canvas", "label": c.label}
    if c.kind == "image" and c.image is not None:
        body.update(
            type="Image", width=c.image.width, height=c.image.height, service=c.image.as_service()
        )
        canvas.update(width=c.image.width, height=c.image.height)
        w, h = c.image.thumbnail_size()
        canvas["thumbnail"] = [
            {
                "id": c.image.url(f"{w},{h}"),
                "type": "Image",
                "format": "image/jpeg",
                "width": w,
                "height": h,
                "service": c.image.as_service(),
            }
        ]
    else:
        body.update(type="Sound", duration=c.duration or 0.0)
        canvas["duration"] = c.duration or 0.0
    canvas["items"] = [
        {
            "id": f"{manifest_id}/page/{n}",
            "type": "AnnotationPage",
            "items": [
                {
                    "id": f"{manifest_id}/annotation/{n}",
                    "type": "Annotation",
                    "motivation": "painting",
                    "body": body,
                    "target": canvas_id,
                }
            ],
        }
    ]
    return canvas


def build_manifest(data: ManifestData) -> dict[str, Any]:
    """Return the manifest as a JSON-ready dict."""
    mid = data.id
    canvases = [_canvas(mid, n, c) for n, c in enumerate(data.canvases, start=1)]
    manifest: dict[str, Any] = {
        "@context": CONTEXT,
        "id": mid,
        "type": "Manifest",
        "label": data.label,
    }
    if data.summary:
        manifest["summary"] = data.summary
    if data.metadata:
        manifest["metadata"] = [{"label": k, "value": v} for k, v in data.metadata]
    if data.rights:
        manifest["rights"] = data.rights
    if data.attribution:
        manifest["requiredStatement"] = {
            "label": {"en": ["Attribution"], "ms": ["Atribusi"], "id": ["Atribusi"]},
            "value": data.attribution,
        }
    if data.provider:
        p = data.provider
        agent: dict[str, Any] = {"id": p["id"], "type": "Agent", "label": p["label"]}
        if p.get("homepage"):
            agent["homepage"] = [_text(p["homepage"], p["label"])]
        if p.get("logo"):
            agent["logo"] = [
                {"id": p["logo"], "type": "Image", "format": p.get("logo_format", "image/png")}
            ]
        manifest["provider"] = [agent]
    if data.homepage:
        manifest["homepage"] = [_text(data.homepage["id"], data.homepage["label"])]
    thumb = next((c for c in canvases if "thumbnail" in c), None)
    if thumb is not None:
        manifest["thumbnail"] = thumb["thumbnail"]
    if data.see_also:
        manifest["seeAlso"] = data.see_also
    if data.part_of:
        manifest["partOf"] = data.part_of
    if data.renderings:
        manifest["rendering"] = data.renderings
    manifest["viewingDirection"] = data.viewing_direction
    manifest["behavior"] = [data.behavior]
    if data.nav_date:
        manifest["navDate"] = data.nav_date
    if data.start is not None and 0 <= data.start < len(canvases):
        manifest["start"] = {"id": canvases[data.start]["id"], "type": "Canvas"}
    manifest["items"] = canvases
    ranges = [r for r in data.ranges if r.canvases]
    if ranges:
        manifest["structures"] = [
            {
                "id": f"{mid}/range/toc",
                "type": "Range",
                "label": {"en": ["Table of contents"], "ms": ["Kandungan"], "id": ["Daftar isi"]},
                "items": [
                    {
                        "id": f"{mid}/range/{n}",
                        "type": "Range",
                        "label": r.label,
                        "items": [
                            {"id": canvases[i]["id"], "type": "Canvas"}
                            for i in r.canvases
                            if 0 <= i < len(canvases)
                        ],
                    }
                    for n, r in enumerate(ranges, start=1)
                ],
            }
        ]
    return manifest
