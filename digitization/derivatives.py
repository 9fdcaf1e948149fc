"""Tile pyramids: the JPEG derivatives that the IIIF Image API and viewers read.

A master image becomes a folder of JPEG files laid out by their canonical IIIF Image API 3.0
URL path (``{region}/{size}/0/default.jpg``), so that a front server (nginx) can send them
as they are and the Image API can answer a matching request with a file, no decoding:

- a tile for every position at every scale factor ``s`` in ``scale_factors`` (1, 2, 4, …):
  region ``x,y,w,h`` in full-resolution pixels, clipped at the image edge (``full`` when it
  covers the whole image), size ``ceil(w/s),ceil(h/s)``. This is the implementation note of
  the spec (https://iiif.io/api/image/3.0/implementation/#3-tile-region-parameter-calculation)
  and what OpenSeadragon (so Mirador) requests for ``tiles: [{width, scaleFactors}]``;
- ``full/{w},{h}`` for every whole-image level listed in ``sizes``;
- ``full/max`` as well when the whole image fits in one tile, since that is what
  OpenSeadragon asks for then (and the canonical form of that request);
- ``pyramid.json`` last: its presence means the pyramid is complete.

Levels are successive ``Image.reduce(2)`` halvings of the previous level (box average: about
as good as LANCZOS at exactly one half, and several times faster), so level ``s`` is
``ceil(width/s) × ceil(height/s)``, the same rounding as the tile sizes. At most two decoded
levels are held at once. ``Image.draft()`` is not used: the scale-1 tiles need the full
decode anyway, and one ``reduce(2)`` of it is cheaper than a second, reduced JPEG decode.

Every file is written to a temporary name in its own folder and moved into place with
``os.replace``: a concurrent reader sees the old file or the new one, never half of one.
Files are not fsynced (the store can be rebuilt from the masters).

Output is 8-bit sRGB (or 8-bit greyscale) baseline JPEG without an ICC profile, EXIF or
comments: embedded ICC profiles are applied (CMYK and non-sRGB RGB), EXIF orientation is
applied, 16-bit samples are scaled to 8 bits (high byte), alpha is flattened onto white.
Pillow 12 itself opens 16-bit-per-sample RGB(A) TIFF and PNG as 8-bit RGB(A), keeping the
high byte of each sample.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

PYRAMID_JSON = "pyramid.json"
#: Whole-image levels go down at least to this longer side (thumbnails, manifest previews).
THUMBNAIL_SIDE = 256
_FORMAT_VERSION = 1
_WHITE = 255
#: 16-bit greyscale modes → byte order of their samples in ``tobytes()``.
_GREY16_ORDER = {"I;16": "little", "I;16L": "little", "I;16B": "big", "I;16N": sys.byteorder}
#: Temporary files older than this, left by a crashed build, are removed on the next build.
_STALE_TEMP_SECONDS = 3600
_REGION_RE = re.compile(r"full|\d+,\d+,\d+,\d+")
_SIZE_RE = re.compile(r"max|\d+,\d+")
_TEMP_RE = re.compile(r"\.(default\.jpg|pyramid\.json)\.[\w-]+\.tmp")


class DerivativeError(Exception):
    """A master could not be turned into derivatives (unreadable, over the pixel limit…)."""


@dataclass(frozen=True)
class Tile:
    """One tile file: its canonical IIIF parameters and where it is cut from its level."""

    scale_factor: int
    region: str  #: canonical region parameter: ``full`` or ``x,y,w,h`` (full-resolution)
    size: str  #: canonical size parameter ``w,h``
    box: tuple[int, int, int, int]  #: (left, upper, right, lower) in the level's pixels


@dataclass(frozen=True)
class Pyramid:
    """What was built for one image: enough to write its info.json and find its files."""

    width: int  #: of the image as displayed (after EXIF orientation)
    height: int
    tile_size: int
    scale_factors: tuple[int, ...]  #: 1, 2, 4, … up to the level that one tile covers
    sizes: tuple[tuple[int, int], ...]  #: (w, h) of the whole-image files, smallest first
    quality: int

    def tiles(self) -> Iterator[Tile]:
        """Yield every tile, scale factor by scale factor, in rows from the top left.

        Region and size follow the Image API 3.0 implementation notes: region
        ``x,y,w,h`` with ``x = col·tile·s`` and ``w = min(tile·s, width − x)``, size
        ``ceil(w/s),ceil(h/s)``; the region is ``full`` when it is the whole image.
        """
        for s in self.scale_factors:
            level_w, level_h = _level_size(self.width, self.height, s)
            for row in range(math.ceil(level_h / self.tile_size)):
                top = row * self.tile_size
                sh = min(self.tile_size, level_h - top)
                y, h = top * s, min(self.tile_size * s, self.height - top * s)
                for col in range(math.ceil(level_w / self.tile_size)):
                    left = col * self.tile_size
                    sw = min(self.tile_size, level_w - left)
                    x, w = left * s, min(self.tile_size * s, self.width - left * s)
                    whole = (w, h) == (self.width, self.height)
                    yield Tile(
                        scale_factor=s,
                        region="full" if whole else f"{x},{y},{w},{h}",
                        size=f"{sw},{sh}",
                        box=(left, top, left + sw, top + sh),
                    )

    def stored_requests(self) -> frozenset[tuple[str, str]]:
        """Return the ``(region, size)`` pairs that have a file (rotation 0, default.jpg)."""
        stored = {(tile.region, tile.size) for tile in self.tiles()}
        stored.update(("full", f"{w},{h}") for w, h in self.sizes)
        if self.scale_factors == (1,):
            stored.add(("full", "max"))
        return frozenset(stored)

    def to_json(self) -> dict:
        """Return a JSON-ready dict; :meth:`from_json` reads it back."""
        return {
            "version": _FORMAT_VERSION,
            "width": self.width,
            "height": self.height,
            "tile_size": self.tile_size,
            "scale_factors": list(self.scale_factors),
            "sizes": [[w, h] for w, h in self.sizes],
            "quality": self.quality,
        }

    @classmethod
    def from_json(cls, d: dict) -> Pyramid:
        """Return the pyramid described by ``d`` (from :meth:`to_json`).

        :raises ValueError: if ``d`` is not such a description.
        """
        try:
            if d.get("version", _FORMAT_VERSION) != _FORMAT_VERSION:
                raise ValueError(f"unknown pyramid.json version {d['version']!r}")
            pyramid = cls(
                width=_int(d["width"]),
                height=_int(d["height"]),
                tile_size=_int(d["tile_size"]),
                scale_factors=tuple(_int(s) for s in d["scale_factors"]),
                sizes=tuple((_int(w), _int(h)) for w, h in d["sizes"]),
                quality=_int(d["quality"]),
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a pyramid description: {exc!r}") from exc
        if not pyramid.scale_factors or min(pyramid.width, pyramid.height, pyramid.tile_size) < 1:
            raise ValueError(f"not a pyramid description: {d!r}")
        return pyramid


def plan_pyramid(width: int, height: int, *, tile_size: int = 512, quality: int = 85) -> Pyramid:
    """Return the pyramid that :func:`build_pyramid` makes for an image of this size.

    Scale factors double until one tile covers the level. ``sizes`` lists the halvings
    from the first one down to the first level whose longer side is at most ``tile_size``
    and also at most :data:`THUMBNAIL_SIDE`; it starts at the full size only when the whole
    image fits in one tile (a full-size file of a large image would cost an encode of every
    pixel and is not a size viewers ask for).
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, not {width}x{height}")
    scale_factors = [1]
    while max(_level_size(width, height, scale_factors[-1])) > tile_size:
        scale_factors.append(scale_factors[-1] * 2)
    first = 1 if len(scale_factors) == 1 else 2
    levels = [_level_size(width, height, first)]
    s = first
    while max(levels[-1]) > min(tile_size, THUMBNAIL_SIDE):
        s *= 2
        levels.append(_level_size(width, height, s))
    return Pyramid(
        width=width,
        height=height,
        tile_size=tile_size,
        scale_factors=tuple(scale_factors),
        sizes=tuple(reversed(levels)),
        quality=quality,
    )


def build_pyramid(
    master: Path,
    out_dir: Path,
    *,
    tile_size: int = 512,
    quality: int = 85,
    max_pixels: int = 400_000_000,
) -> Pyramid:
    """Write the tile pyramid of ``master`` into ``out_dir`` and return its description.

    ``out_dir`` is the image's folder in the derivative store, e.g.
    ``var/derivatives/iiif/3/{image_id}``; it is created if needed. Building again over a
    built folder replaces every file in place and then removes the tile files of an earlier
    build that are no longer part of the pyramid (the master changed size).

    Pillow's own ``Image.MAX_IMAGE_PIXELS`` check still runs when the file is opened: set
    it to at least ``max_pixels`` so that ``max_pixels`` is the limit that counts.

    :raises DerivativeError: if the master cannot be read or decoded, or has more than
        ``max_pixels`` pixels (checked from its header, before decoding).
    :raises ValueError: for a tile size, quality or pixel limit out of range.
    """
    if tile_size < 16:
        raise ValueError(f"tile_size must be at least 16, not {tile_size}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    master, out_dir = Path(master), Path(out_dir)
    level = _load(master, max_pixels)
    pyramid = plan_pyramid(*level.size, tile_size=tile_size, quality=quality)
    writer = _Writer(out_dir, quality)
    out_dir.mkdir(parents=True, exist_ok=True)

    tiles: dict[int, list[Tile]] = {}
    for tile in pyramid.tiles():
        tiles.setdefault(tile.scale_factor, []).append(tile)
    whole = set(pyramid.sizes)
    last = max(pyramid.scale_factors[-1], _scale_of(pyramid, pyramid.sizes[0]))
    s = 1
    while True:
        for tile in tiles.get(s, ()):
            writer.jpeg(level.crop(tile.box), tile.region, tile.size)
        if level.size in whole:
            writer.jpeg(level, "full", "{},{}".format(*level.size))
        if s == 1 and pyramid.scale_factors == (1,):
            writer.jpeg(level, "full", "max")
        if s >= last:
            break
        level = level.reduce(2)  # the previous level is freed here
        s *= 2
    del level

    payload = json.dumps(pyramid.to_json(), indent=1, sort_keys=True).encode() + b"\n"
    writer.replace(out_dir / PYRAMID_JSON, payload)
    _remove_stale(out_dir, pyramid.stored_requests(), writer.token)
    return pyramid


def read_pyramid(out_dir: Path) -> Pyramid | None:
    """Return the pyramid built in ``out_dir``, or None if it is not (completely) built."""
    try:
        data = json.loads((Path(out_dir) / PYRAMID_JSON).read_bytes())
        return Pyramid.from_json(data)
    except (OSError, ValueError):  # missing, unreadable, or not our JSON
        return None


def tile_path(out_dir: Path, region: str, size: str) -> Path:
    """Return the file of the request ``{region}/{size}/0/default.jpg`` below ``out_dir``."""
    return Path(out_dir, region, size, "0", "default.jpg")


# -- decoding -------------------------------------------------------------------------------


def _load(master: Path, max_pixels: int) -> Image.Image:
    """Return the master decoded, upright, as 8-bit sRGB ("RGB") or greyscale ("L")."""
    try:
        # Our own file object: Pillow leaves it open for multi-page TIFFs, and closing the
        # image would destroy the decoded pixels.
        with open(master, "rb") as fp:
            src = Image.open(fp)
            width, height = src.size
            if width * height > max_pixels:
                raise DerivativeError(
                    f"{master.name}: {width}×{height} is {width * height:,} pixels, "
                    f"over the limit of {max_pixels:,}"
                )
            src.load()
            icc = src.info.get("icc_profile")
            ImageOps.exif_transpose(src, in_place=True)
            image = _to_display(src, icc)
    except Image.DecompressionBombError as exc:
        raise DerivativeError(f"{master.name}: refused by Pillow's pixel limit: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise DerivativeError(
            f"{master.name}: cannot identify the image (unknown format, or damaged)"
        ) from exc
    except ImageCms.PyCMSError as exc:
        raise DerivativeError(f"{master.name}: cannot convert its colours: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        raise DerivativeError(f"{master.name}: cannot decode: {exc}") from exc
    image.info = {}  # no comment, profile or EXIF copied into the tiles
    return image


def _to_display(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Return ``im`` as 8-bit sRGB or greyscale, for JPEG."""
    mode = im.mode
    if mode in _GREY16_ORDER:
        # Scale, not clip: convert("L") clips 16-bit values at 255, so a page goes white.
        data = im.tobytes()
        high = data[1::2] if _GREY16_ORDER[mode] == "little" else data[0::2]
        return Image.frombytes("L", im.size, high)
    if mode in ("I", "F") or mode.startswith("I;"):
        return _deep_grey(im if mode in ("I", "F") else im.convert("I"))
    if mode == "1":
        return im.convert("L")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    if im.mode in ("LA", "La"):
        return _flatten(im.convert("LA"), "L")
    if im.mode in ("RGBA", "RGBa"):
        im = _flatten(im.convert("RGBA"), "RGB")
    if im.mode == "L":
        return im
    if im.mode == "CMYK":
        return _icc_to_srgb(im, icc, "CMYK") or im.convert("RGB")
    if im.mode == "LAB":
        lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
        return ImageCms.profileToProfile(im, lab, _srgb(), outputMode="RGB")
    if im.mode != "RGB":  # RGBX, YCbCr, HSV
        im = im.convert("RGB")
    return _icc_to_srgb(im, icc, "RGB") or im


def _deep_grey(im: Image.Image) -> Image.Image:
    """Return a 32-bit integer or float greyscale image scaled into 8 bits."""
    lo, hi = im.getextrema()
    if im.mode == "F" and 0 <= lo and hi <= 1:
        scale, offset = 255.0, 0.0
    elif 0 <= lo and hi <= 255:
        scale, offset = 1.0, 0.0
    elif 0 <= lo and hi <= 65535:
        scale, offset = 1 / 256, 0.0  # 16-bit data: keep the high byte, as for I;16
    else:
        scale = 255 / (hi - lo) if hi > lo else 0.0
        offset = -lo * scale
    return im.point(lambda v: v * scale + offset).convert("L")


def _flatten(im: Image.Image, mode: str) -> Image.Image:
    """Return ``im`` (LA or RGBA) composited onto white, in ``mode`` (L or RGB)."""
    background = Image.new(mode, im.size, (_WHITE,) * len(mode))
    background.paste(im.convert(mode), mask=im.getchannel("A"))
    return background


def _icc_to_srgb(im: Image.Image, icc: bytes | None, space: str) -> Image.Image | None:
    """Return ``im`` converted from its embedded profile to sRGB, or None to fall back.

    None means no usable profile: none embedded, one Little CMS cannot read, or one for
    another colour space. An RGB image whose profile already is sRGB is returned as is.
    """
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != space:
            return None
        if space == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return im  # the transform would cost ~0.2 s per 48 MP and change nothing
        return ImageCms.profileToProfile(
            im, profile, _srgb(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except (OSError, ImageCms.PyCMSError):
        return None


def _srgb() -> ImageCms.ImageCmsProfile:
    # One per call (microseconds): Little CMS profile handles are not shared between threads.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# -- writing --------------------------------------------------------------------------------


class _Writer:
    """Write files below ``out_dir`` atomically: temp file in the same folder, os.replace."""

    def __init__(self, out_dir: Path, quality: int) -> None:
        self.out_dir = out_dir
        self.quality = quality
        #: In every temp name: unique to this build, so concurrent builds never collide.
        self.token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._written: set[tuple[str, str]] = set()

    def jpeg(self, image: Image.Image, region: str, size: str) -> None:
        if (region, size) in self._written:
            return
        path = tile_path(self.out_dir, region, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._temp(path)
        try:
            image.save(tmp, "JPEG", quality=self.quality, optimize=False)
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
        self._written.add((region, size))

    def replace(self, path: Path, payload: bytes) -> None:
        tmp = self._temp(path)
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise

    def _temp(self, path: Path) -> Path:
        return path.with_name(f".{path.name}.{self.token}.tmp")


def _remove_stale(out_dir: Path, keep: frozenset[tuple[str, str]], token: str) -> None:
    """Remove tile files of earlier builds that ``keep`` does not list, and old temp files.

    Only paths this module writes are touched (``{region}/{size}/0/default.jpg`` with a
    tile-shaped region and size, and its temp files), so a wrong ``out_dir`` cannot lose
    anything else.
    """
    now = time.time()
    _remove_old_temp(out_dir, token, now)
    for region in _subdirs(out_dir, _REGION_RE):
        for size in _subdirs(region, _SIZE_RE):
            rotation = size / "0"
            if not rotation.is_dir():
                continue
            _remove_old_temp(rotation, token, now)
            if (region.name, size.name) in keep:
                continue
            _unlink(rotation / "default.jpg")
            for folder in (rotation, size):
                try:
                    folder.rmdir()  # only succeeds when empty
                except OSError:
                    break
        try:
            region.rmdir()
        except OSError:
            pass


def _subdirs(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    with os.scandir(folder) as entries:
        return [
            Path(e.path)
            for e in entries
            if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
        ]


def _remove_old_temp(folder: Path, token: str, now: float) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            if not _TEMP_RE.fullmatch(entry.name) or token in entry.name:
                continue
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime > _STALE_TEMP_SECONDS:
                    _unlink(Path(entry.path))
            except FileNotFoundError:
                pass


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# -- arithmetic -----------------------------------------------------------------------------


def _level_size(width: int, height: int, scale_factor: int) -> tuple[int, int]:
    """Return the size of the level at ``scale_factor``: what repeated reduce(2) gives."""
    return -(-width // scale_factor), -(-height // scale_factor)


def _scale_of(pyramid: Pyramid, size: tuple[int, int]) -> int:
    s = 1
    while _level_size(pyramid.width, pyramid.height, s) != size:
        s *= 2
    return s


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, not {value!r}")
    return value
