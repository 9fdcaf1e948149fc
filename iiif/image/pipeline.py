"""Computing an image response from the pyramid: region → size → rotation → quality → format.

Requests that match a stored file are served without decoding (see :func:`stored_file`).
Everything else starts from the smallest pyramid level that is large enough — never the
master — decoding only the tiles under the region (PERFORMANCE.md: about 4 ms of CPU per
512-px tile, most of it the JPEG encode).
"""

from __future__ import annotations

import functools
import io
import math
from pathlib import Path

from PIL import Image, ImageOps

from digitization.derivatives import Pyramid, tile_path
from iiif.image.request import IIIFError, ImageRequest

JPEG_QUALITY = 85
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "tif": "TIFF"}


def stored_file(req: ImageRequest, pyramid: Pyramid, image_dir: Path) -> Path | None:
    """Return the pyramid file that is exactly this request's answer, if there is one."""
    if req.format != "jpg" or req.quality not in ("default", "color") or req.mirror:
        return None
    if req.rotation != 0 or req.upscaled:
        return None
    region = "full" if req.full_region else f"{req.x},{req.y},{req.w},{req.h}"
    size = f"{req.width},{req.height}"
    stored = _stored(pyramid)
    for candidate in ((region, size), (region, "max") if req.size_is_max else None):
        if candidate and candidate in stored:
            path = tile_path(image_dir, *candidate)
            if path.is_file():
                return path
    return None


@functools.lru_cache(maxsize=1024)
def _stored(pyramid: Pyramid) -> frozenset[tuple[str, str]]:
    """Return the pyramid's stored requests, computed once per pyramid (the hot path)."""
    return pyramid.stored_requests()


def _level_size(pyramid: Pyramid, s: int) -> tuple[int, int]:
    return -(-pyramid.width // s), -(-pyramid.height // s)


def _choose_level(req: ImageRequest, pyramid: Pyramid) -> int:
    """Return the largest scale factor whose level still has at least the output's pixels."""
    scale = min(req.w / req.width, req.h / req.height)
    chosen = 1
    for s in pyramid.scale_factors:
        if s <= scale + 1e-9:
            chosen = s
    return chosen


def _tile_file(pyramid: Pyramid, image_dir: Path, s: int, col: int, row: int) -> Path:
    t = pyramid.tile_size
    level_w, level_h = _level_size(pyramid, s)
    x, y = col * t * s, row * t * s
    w, h = min(t * s, pyramid.width - x), min(t * s, pyramid.height - y)
    sw, sh = min(t, level_w - col * t), min(t, level_h - row * t)
    region = "full" if (w, h) == (pyramid.width, pyramid.height) else f"{x},{y},{w},{h}"
    return tile_path(image_dir, region, f"{sw},{sh}")


def _source(
    req: ImageRequest, pyramid: Pyramid, image_dir: Path, s: int
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """Return the tiles of level ``s`` under the region, stitched, and the region's box in it."""
    t = pyramid.tile_size
    left, top = req.x / s, req.y / s
    right, bottom = (req.x + req.w) / s, (req.y + req.h) / s
    col0, row0 = int(left) // t, int(top) // t
    col1, row1 = (math.ceil(right) - 1) // t, (math.ceil(bottom) - 1) // t
    level_w, level_h = _level_size(pyramid, s)
    width = min(level_w, (col1 + 1) * t) - col0 * t
    height = min(level_h, (row1 + 1) * t) - row0 * t
    canvas: Image.Image | None = None
    for row in range(row0, row1 + 1):
        for col in range(col0, col1 + 1):
            path = _tile_file(pyramid, image_dir, s, col, row)
            try:
                with Image.open(path) as tile:
                    tile.load()
                    if canvas is None:
                        canvas = Image.new(tile.mode, (width, height), "white")
                    canvas.paste(tile, ((col - col0) * t, (row - row0) * t))
            except OSError as exc:
                raise IIIFError(
                    503, "identifier", "the image's tiles are being rebuilt; try again shortly"
                ) from exc
    assert canvas is not None
    ox, oy = col0 * t, row0 * t
    return canvas, (left - ox, top - oy, right - ox, bottom - oy)


def render(req: ImageRequest, pyramid: Pyramid, image_dir: Path) -> bytes:
    """Return the encoded image answering ``req``."""
    s = _choose_level(req, pyramid)
    source, box = _source(req, pyramid, image_dir, s)
    size = (req.width, req.height)
    if (round(box[2] - box[0]), round(box[3] - box[1])) == size and box[:2] == (0, 0):
        im = source.crop((0, 0, *size))
    else:
        # The source level is at most twice the output: BICUBIC is as good as LANCZOS here.
        im = source.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
    if req.mirror:
        im = ImageOps.mirror(im)
    im = _rotate(im, req.rotation, req.format)
    im = _quality(im, req.quality)
    return _encode(im, req.format)


def _rotate(im: Image.Image, degrees: float, fmt: str) -> Image.Image:
    quarter = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if degrees == 0:
        return im
    if degrees in quarter:
        return im.transpose(quarter[degrees])
    if fmt in ("png", "webp"):  # a transparent background, as the spec recommends
        im = im.convert("RGBA" if im.mode != "LA" else "LA")
        fill = (0, 0, 0, 0) if im.mode == "RGBA" else (0, 0)
    else:
        fill = "white"
    return im.rotate(-degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def _quality(im: Image.Image, quality: str) -> Image.Image:
    if quality == "gray":
        return im.convert("LA") if im.mode in ("RGBA", "LA") else im.convert("L")
    if quality == "bitonal":
        if im.mode in ("RGBA", "LA"):  # no transparency in 1 bit: paper-white corners
            im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
        grey = im.convert("L")
        return grey.point(lambda p: 255 if p >= 128 else 0, mode="1")
    return im


def _encode(im: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpg":
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=JPEG_QUALITY)
    elif fmt == "webp":
        im.save(out, "WEBP", quality=JPEG_QUALITY)
    elif fmt == "tif":
        im.save(out, "TIFF", compression="tiff_deflate")
    else:
        im.save(out, "PNG", compress_level=1)  # a third of the CPU of the default level
    return out.getvalue()
