"""IIIF Image API 3.0 routes: access check, then a stored file or a computed (cached) image.

The hot path — a viewer's tile requests — is an access check and a file response: no
template, no session write, no database write.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pyramid.events import NewResponse, subscriber
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import FileResponse, Response
from pyramid.view import exception_view_config, view_config

from digitization.derivatives import PYRAMID_JSON, read_pyramid
from heritage.security import publicly_visible
from heritage.worker import derivatives_root, image_dir
from iiif.image.cache import DiskCache
from iiif.image.info import MEDIA_TYPE, build_info
from iiif.image.pipeline import render, stored_file
from iiif.image.request import IIIFError, Limits, parse_image_request

FILE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
PROFILE = "http://iiif.io/api/image/3/level2.json"
PUBLIC_CACHE = "public, max-age=604800"  # a week: a rebuild changes ETag, not URL
PRIVATE_CACHE = "private, max-age=3600"


def _image(request: Any) -> tuple[Any, Any, str]:
    """Return ``(item, file, image_id)``; 404 for unknown ids and what the user may not see."""
    image_id = request.matchdict["image_id"]
    item_id, _, name = image_id.rpartition("_")
    if not FILE_NUMBER.fullmatch(name):  # one spelling per image: "1", never "01" or "١"
        raise IIIFError(404, "identifier", f"no image {image_id!r}")
    item = request.root.items.get(item_id) if item_id else None
    f = item.files.get(name) if item is not None else None
    if f is None or not f.is_image or not request.has_permission("view-media", item):
        raise IIIFError(404, "identifier", f"no image {image_id!r}")
    return item, f, image_id


@functools.cache
def _disk_cache(root: Path, max_bytes: int) -> DiskCache:
    """One cache object per process, so its write count (which paces eviction) adds up."""
    return DiskCache(root, max_bytes)


def _cache_headers(response: Any, request: Any, item: Any) -> None:
    if publicly_visible(item):
        response.cache_control = PUBLIC_CACHE
    else:  # never in a shared cache: another user may not be allowed to see it
        response.cache_control = PRIVATE_CACHE
        response.vary = ("Cookie", "Authorization")
    response.conditional_response = True


def _pyramid(request: Any, image_id: str) -> tuple[Any, Any]:
    folder = image_dir(request.registry.heritage, image_id)
    try:
        mtime = (folder / PYRAMID_JSON).stat().st_mtime_ns
    except OSError:
        mtime = None
    pyramid = _read_pyramid(folder, mtime) if mtime is not None else None
    if pyramid is None:
        raise IIIFError(503, "identifier", "the image is still being prepared; try again soon")
    return pyramid, folder


@functools.lru_cache(maxsize=4096)
def _read_pyramid(folder: Path, mtime_ns: int) -> Any:
    """Read pyramid.json once per build (a rebuild changes its mtime, so the key)."""
    return read_pyramid(folder)


def _limits(request: Any) -> Limits:
    hs = request.registry.heritage
    return Limits(
        max_width=hs.iiif_max_width, max_height=hs.iiif_max_width, max_area=hs.iiif_max_area
    )


@view_config(route_name="iiif_image_base")
def base(request: Any) -> Any:
    _image(request)
    return HTTPSeeOther(
        request.route_url("iiif_image_info", image_id=request.matchdict["image_id"])
    )


@view_config(route_name="iiif_image_info")
def info(request: Any) -> Any:
    item, _f, image_id = _image(request)
    pyramid, folder = _pyramid(request, image_id)
    base_id = request.route_url("iiif_image_base", image_id=image_id)
    body = json.dumps(build_info(base_id, pyramid, _limits(request), rights=item.rights))
    accept = request.headers.get("Accept", "")
    wants_plain = "application/json" in accept and "application/ld+json" not in accept
    response = Response(
        body=body.encode(),
        charset=None,
        content_type="application/json" if wants_plain else MEDIA_TYPE,
    )
    stat = (folder / PYRAMID_JSON).stat()
    response.etag = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()
    response.last_modified = stat.st_mtime
    _cache_headers(response, request, item)
    return response


@view_config(route_name="iiif_image")
def image(request: Any) -> Any:
    item, _f, image_id = _image(request)
    pyramid, folder = _pyramid(request, image_id)
    m = request.matchdict
    req = parse_image_request(
        m["region"],
        m["size"],
        m["rotation"],
        m["quality"],
        width=pyramid.width,
        height=pyramid.height,
        limits=_limits(request),
    )
    hs = request.registry.heritage
    path = stored_file(req, pyramid, folder)
    if path is not None:
        try:
            stat = path.stat()
        except OSError:  # a rebuild is replacing the tiles right now
            raise IIIFError(503, "identifier", "the image's tiles are being rebuilt") from None
        etag, modified = f"{stat.st_mtime_ns:x}-{stat.st_size:x}", stat.st_mtime
    else:
        # A computed image is a function of the pyramid and the request: its validators
        # come from those, not from the cache file (whose mtime records its last use).
        source = (folder / PYRAMID_JSON).stat()
        etag = hashlib.sha1(
            f"{source.st_mtime_ns}/{req.canonical}".encode(), usedforsecurity=False
        ).hexdigest()
        modified = source.st_mtime
        cache = _disk_cache(derivatives_root(hs) / "cache", hs.image_cache_bytes)
        key = f"{image_id}/{source.st_mtime_ns:x}"  # a rebuilt pyramid starts afresh
        path = cache.get(key, req.canonical)
        if path is None:
            path = cache.put(key, req.canonical, render(req, pyramid, folder))
    if hs.x_accel_prefix:  # nginx sends the file; Python only decided who may have it
        response = Response(content_type=req.mimetype)
        response.headers["X-Accel-Redirect"] = (
            f"{hs.x_accel_prefix}/{path.relative_to(derivatives_root(hs))}"
        )
    else:
        response = FileResponse(str(path), request=request, content_type=req.mimetype)
    response.etag = etag
    response.last_modified = modified
    base_id = request.route_url("iiif_image_base", image_id=image_id)
    response.headers["Link"] = (
        f'<{base_id}/{req.canonical}>;rel="canonical", <{PROFILE}>;rel="profile"'
    )
    _cache_headers(response, request, item)
    return response


@exception_view_config(IIIFError)
def iiif_error(exc: IIIFError, request: Any) -> Any:
    response = Response(
        f"{exc.parameter}: {exc.text}\n",
        status=exc.status,
        content_type="text/plain",
        charset="utf-8",
    )
    if exc.status == 503:
        response.headers["Retry-After"] = "30"
    return response


@subscriber(NewResponse)
def cors(event: NewResponse) -> None:
    """Everything public under /iiif/ may be used by any site (ARCHITECTURE.md)."""
    if event.request.environ.get("PATH_INFO", "").startswith("/iiif/"):
        event.response.headers["Access-Control-Allow-Origin"] = "*"
