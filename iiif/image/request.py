"""IIIF Image API 3.0 request parsing: URL segments in, a plain description of the work out.

Pure functions, no image code (zimeon/iiif keeps the parser apart the same way). Every
error carries the HTTP status the spec asks for and the parameter at fault.
https://iiif.io/api/image/3.0/#4-image-requests
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

FORMATS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "tif": "image/tiff"}
#: Formats the spec names that we do not produce: a valid request we cannot answer.
SPEC_FORMATS = {"gif", "jp2", "pdf"}
QUALITIES = ("default", "color", "gray", "bitonal")
# ASCII digits only (§4.7), and few enough of them that no arithmetic can overflow:
# nine integer digits is more pixels than any image has.
_INT = r"[0-9]{1,9}"
_NUMBER = r"(?:[0-9]{1,9}(?:\.[0-9]{1,9})?|\.[0-9]{1,9})"
_INT4 = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_PCT4 = re.compile(rf"pct:({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER})")
_SIZE_WH = re.compile(rf"({_INT})?,({_INT})?")
_PCT = re.compile(rf"pct:({_NUMBER})")
_ROTATION = re.compile(rf"(!?)({_NUMBER})")


class IIIFError(Exception):
    """A request the server refuses: ``status`` (400/404/501), the ``parameter``, a reason."""

    def __init__(self, status: int, parameter: str, text: str) -> None:
        self.status = status
        self.parameter = parameter
        self.text = text
        super().__init__(f"{parameter}: {text}")


@dataclass(frozen=True)
class Limits:
    max_width: int
    max_height: int
    max_area: int


@dataclass(frozen=True)
class ImageRequest:
    """A parsed image request, resolved against the image's size."""

    x: int
    y: int
    w: int  # region, in full-image pixels, clipped at the edges
    h: int
    width: int  # output size before rotation
    height: int
    upscaled: bool
    size_is_max: bool
    mirror: bool
    rotation: float
    quality: str
    format: str
    full_region: bool

    @property
    def mimetype(self) -> str:
        return FORMATS[self.format]

    @property
    def canonical(self) -> str:
        """Return ``region/size/rotation/quality.format`` in the canonical form (§4.8)."""
        region = "full" if self.full_region else f"{self.x},{self.y},{self.w},{self.h}"
        if self.size_is_max:
            size = "^max" if self.upscaled else "max"
        else:
            size = f"{'^' if self.upscaled else ''}{self.width},{self.height}"
        rotation = f"{'!' if self.mirror else ''}{format_number(self.rotation)}"
        quality = "default" if self.quality in ("default", "color") else self.quality
        return f"{region}/{size}/{rotation}/{quality}.{self.format}"


def format_number(value: float) -> str:
    """Format a number as the spec recommends: integer if possible, no trailing zeros."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def parse_region(region: str, width: int, height: int) -> tuple[int, int, int, int, bool]:
    """Return ``(x, y, w, h, is_full)`` clipped to the image; raise IIIFError (400)."""
    if region == "full":
        return 0, 0, width, height, True
    if region == "square":
        side = min(width, height)
        x, y = (width - side) // 2, (height - side) // 2
        return x, y, side, side, side == width == height
    if match := _INT4.fullmatch(region):
        x, y, w, h = (int(v) for v in match.groups())
    elif match := _PCT4.fullmatch(region):
        px, py, pw, ph = (float(v) for v in match.groups())
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round(pw * width / 100), round(ph * height / 100)
    else:
        raise IIIFError(400, "region", f"{region!r} is not full, square, x,y,w,h or pct:x,y,w,h")
    if w <= 0 or h <= 0:
        raise IIIFError(400, "region", "the region's width and height must be above zero")
    if x >= width or y >= height:
        raise IIIFError(400, "region", "the region lies entirely outside the image")
    w, h = min(w, width - x), min(h, height - y)
    return x, y, w, h, (x, y, w, h) == (0, 0, width, height)


def _fit_max(w: int, h: int, limits: Limits) -> tuple[int, int]:
    """Return the largest (w, h) keeping the aspect ratio within maxWidth/Height/Area."""
    scale = min(limits.max_width / w, limits.max_height / h, math.sqrt(limits.max_area / (w * h)))
    return max(1, int(w * scale)), max(1, int(h * scale))


def parse_size(size: str, rw: int, rh: int, limits: Limits) -> tuple[int, int, bool, bool]:
    """Return ``(width, height, upscaled, is_max)`` for a region of ``rw``×``rh``."""
    up = size.startswith("^")
    body = size[1:] if up else size
    is_max = False
    if body == "max":
        is_max = True
        if up:
            width, height = _fit_max(rw, rh, limits)
        else:
            width, height = rw, rh
            if rw > limits.max_width or rh > limits.max_height or rw * rh > limits.max_area:
                width, height = _fit_max(rw, rh, limits)
    elif match := _PCT.fullmatch(body):
        n = float(match.group(1))
        if n <= 0:
            raise IIIFError(400, "size", "pct:n must be above 0")
        if n > 100 and not up:
            raise IIIFError(400, "size", "pct:n above 100 needs ^ to upscale")
        width, height = max(1, round(rw * n / 100)), max(1, round(rh * n / 100))
    elif body.startswith("!") and (match := _SIZE_WH.fullmatch(body[1:])) and all(match.groups()):
        bw, bh = int(match.group(1)), int(match.group(2))
        if bw == 0 or bh == 0:
            raise IIIFError(400, "size", "!w,h needs a width and height above 0")
        scale = min(bw / rw, bh / rh)
        if scale > 1 and not up:
            # The reference implementation and the IIIF validator read a box larger than
            # the region as a request to upscale, which needs ^ in 3.0.
            raise IIIFError(
                400,
                "size",
                f"!{bw},{bh} is larger than the region ({rw}×{rh}); use ^!w,h to upscale",
            )
        # As large as possible within the box and the server's limits, keeping the aspect
        # ratio; rounded like w, and ,h so the same size has the same canonical URL.
        scale = min(
            scale,
            limits.max_width / rw,
            limits.max_height / rh,
            math.sqrt(limits.max_area / (rw * rh)),
        )
        width, height = max(1, min(bw, round(rw * scale))), max(1, min(bh, round(rh * scale)))
        if width * height > limits.max_area:  # rounding up crossed maxArea: round down
            width, height = max(1, int(rw * scale)), max(1, int(rh * scale))
    elif match := _SIZE_WH.fullmatch(body):
        sw, sh = match.groups()
        if not sw and not sh:
            raise IIIFError(400, "size", "',' alone is not a size; give w, ,h or w,h")
        if sw and sh:
            width, height = int(sw), int(sh)
        elif sw:
            width = int(sw)
            height = max(1, round(rh * width / rw))
        else:
            height = int(sh)
            width = max(1, round(rw * height / rh))
    else:
        raise IIIFError(400, "size", f"{size!r} is not a IIIF size (max, w,, ,h, w,h, !w,h, pct:n)")
    if width < 1 or height < 1:
        raise IIIFError(400, "size", "the scaled image would be smaller than one pixel")
    upscaled = width > rw or height > rh
    if upscaled and not up:
        raise IIIFError(
            400,
            "size",
            f"{width}×{height} is larger than the region ({rw}×{rh}); "
            "prefix the size with ^ to upscale",
        )
    if width > limits.max_width or height > limits.max_height:
        raise IIIFError(
            400,
            "size",
            f"{width}×{height} exceeds maxWidth/maxHeight {limits.max_width}×{limits.max_height}",
        )
    if width * height > limits.max_area:
        raise IIIFError(400, "size", f"{width}×{height} exceeds maxArea {limits.max_area}")
    return width, height, upscaled, is_max


def parse_rotation(rotation: str) -> tuple[bool, float]:
    match = _ROTATION.fullmatch(rotation)
    if not match:
        raise IIIFError(400, "rotation", f"{rotation!r} is not n or !n with 0 <= n <= 360")
    value = float(match.group(2))
    if not 0 <= value <= 360:
        raise IIIFError(400, "rotation", "rotation must be between 0 and 360 degrees")
    return bool(match.group(1)), value % 360


def parse_quality_format(quality_format: str) -> tuple[str, str]:
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot or not quality:
        raise IIIFError(400, "quality", f"{quality_format!r} is not quality.format")
    if quality not in QUALITIES:
        raise IIIFError(400, "quality", f"{quality!r} is not one of {', '.join(QUALITIES)}")
    if fmt in SPEC_FORMATS:
        raise IIIFError(400, "format", f"{fmt!r} is not produced here; use {', '.join(FORMATS)}")
    if fmt not in FORMATS:
        raise IIIFError(400, "format", f"{fmt!r} is not an image format of the Image API")
    return quality, fmt


def parse_image_request(
    region: str,
    size: str,
    rotation: str,
    quality_format: str,
    *,
    width: int,
    height: int,
    limits: Limits,
) -> ImageRequest:
    """Parse the four segments against an image of ``width``×``height``."""
    x, y, w, h, full = parse_region(region, width, height)
    out_w, out_h, upscaled, is_max = parse_size(size, w, h, limits)
    mirror, degrees = parse_rotation(rotation)
    quality, fmt = parse_quality_format(quality_format)
    return ImageRequest(
        x=x,
        y=y,
        w=w,
        h=h,
        width=out_w,
        height=out_h,
        upscaled=upscaled,
        size_is_max=is_max or (out_w, out_h) == (w, h),
        mirror=mirror,
        rotation=degrees,
        quality=quality,
        format=fmt,
        full_region=full,
    )
