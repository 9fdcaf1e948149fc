"""Synthetic page images and photographs for demos and tests.

Real holdings cannot ship with the code (rights, size), yet the viewer, IIIF and QA need
images that look like the real thing: aged paper, a ruled text block, script running the
right way. Everything is drawn from a seed, so the same seed gives the same bytes, and every
image carries a visible label so a sample can never pass for a real holding.

Speed matters (sample data makes dozens of pages): all texture is made at C speed from seeded
random bytes scaled and blended by Pillow; only the pen strokes are drawn one by one.
``Image.effect_noise`` is not used: it draws from C ``rand()``, so it is not reproducible.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageOps

LABEL = "SAMPLE - synthetic page, not a real holding"
SCRIPTS = ("latin", "jawi")
FORMATS = ("JPEG", "TIFF")
DPI = 300

_LABEL_RGB = (170, 25, 20)
_LABEL_BOX = (250, 244, 228)
#: (ink, mid tone, light paper): the mid tone sets how warm the paper looks.
_PAPER_PALETTES = (
    ((48, 32, 22), (176, 146, 98), (247, 238, 212)),  # aged rag paper
    ((40, 28, 24), (168, 132, 86), (240, 226, 192)),  # parchment-like
    ((30, 30, 40), (160, 148, 118), (244, 240, 224)),  # paper with iron-gall ink
)
_SEPIA = ((28, 18, 10), (150, 112, 72), (246, 232, 204))


def make_sample_page(
    path: Path,
    *,
    seed: int,
    page_no: int,
    width: int = 1200,
    height: int = 1600,
    script: str = "latin",
    fmt: str = "JPEG",
) -> Path:
    """Write a synthetic manuscript-like page to ``path`` and return ``path``.

    ``script="jawi"`` lays lines out right to left in a right-aligned block, as Jawi
    (Malay in Arabic script) manuscripts are written.
    """
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {', '.join(SCRIPTS)}")
    fmt = _check_format(fmt)
    rng = random.Random(f"page:{seed}:{page_no}")  # noqa: S311 - seeded on purpose
    ink, mid, light = rng.choice(_PAPER_PALETTES)

    page = _paper(rng, width, height)
    draw = ImageDraw.Draw(page)
    # Outer and inner margins swap between recto (odd) and verso (even) pages.
    outer, inner = round(width * rng.uniform(0.11, 0.14)), round(width * rng.uniform(0.08, 0.1))
    left, right = (inner, width - outer) if page_no % 2 else (outer, width - inner)
    top, bottom = round(height * rng.uniform(0.09, 0.11)), round(height * 0.85)
    pitch = max(8, round(height * rng.uniform(0.032, 0.038)))
    _rule(draw, rng, left, top, right, bottom, pitch)
    pen = max(1, round(width / 500))
    lines = range(top + pitch, bottom, pitch)
    last = len(lines) - 1 - rng.randrange(0, 4)  # the text may end before the block does
    for n, baseline in enumerate(lines):
        if n > last:
            break
        shade = rng.randint(20, 70)  # ink thins as the pen runs dry, line by line
        stop = rng.uniform(0.25, 0.7) if n == last else 1.0
        if script == "jawi":
            _jawi_line(draw, rng, left, right, baseline, pitch, pen, shade, stop)
        else:
            _latin_line(draw, rng, left, right, baseline, pitch, pen, shade, stop)

    image = ImageOps.colorize(page, black=ink, white=light, mid=mid)
    draw = ImageDraw.Draw(image)
    number_font = _font(max(10, round(height / 60)))
    number = str(page_no)
    y = round(top * 0.45)
    # The folio number sits in the outer top corner: left on a Jawi recto, right on a Latin one.
    at_right = (page_no % 2 == 1) != (script == "jawi")
    x = right - draw.textlength(number, font=number_font) if at_right else left
    draw.text((x, y), number, fill=ink, font=number_font)
    _label(image, (bottom + height) // 2)
    return _save(image, path, fmt)


def make_sample_photo(
    path: Path, *, seed: int, width: int = 1600, height: int = 1200, fmt: str = "JPEG"
) -> Path:
    """Write a synthetic sepia photograph (hills and a longhouse) to ``path``; return it."""
    fmt = _check_format(fmt)
    rng = random.Random(f"photo:{seed}")  # noqa: S311 - seeded on purpose
    horizon = round(height * rng.uniform(0.45, 0.55))

    sky = Image.linear_gradient("L").resize((width, horizon), Image.Resampling.BILINEAR)
    sky = sky.point(lambda v: 205 + v * 40 // 255)  # bright, a little burnt out near the hills
    clouds = _noise(rng, width, horizon, cell=max(2, width // 12))
    sky = Image.blend(sky, clouds.point(lambda v: 170 + v // 3), 0.35)
    photo = Image.new("L", (width, height), 90)
    photo.paste(sky, (0, 0))
    draw = ImageDraw.Draw(photo)

    for depth, (shade, rise) in enumerate(((165, 0.28), (130, 0.18), (100, 0.08))):
        _ridge(draw, rng, width, height, horizon + round(height * depth * 0.04), rise, shade)
    ground = horizon + round(height * 0.12)
    draw.rectangle((0, ground, width, height), fill=85)
    _river(draw, rng, width, height, ground)
    for _ in range(rng.randint(3, 6)):  # palms behind the house, on the bank
        _palm(
            draw,
            rng,
            rng.uniform(0.03, 0.97) * width,
            ground + rng.uniform(0.0, 0.04) * height,
            height,
        )
    _longhouse(draw, rng, width, height, ground)

    grain = _noise(rng, width, height, cell=1)
    photo = Image.blend(photo, grain, 0.08).filter(ImageFilter.GaussianBlur(max(1, width / 1200)))
    photo = ImageChops.subtract(photo, _vignette(width, height, 70))
    image = ImageOps.colorize(photo, black=_SEPIA[0], white=_SEPIA[2], mid=_SEPIA[1])
    # An old print's pale border, with the label in its lower edge.
    border = max(4, round(min(width, height) * 0.035))
    frame = Image.new("RGB", (width, height), _LABEL_BOX)
    inner = image.crop((border, border, width - border, height - border * 2))
    frame.paste(inner, (border, border))
    _label(frame, height - border)
    return _save(frame, path, fmt)


# -- texture -----------------------------------------------------------------------------------


def _noise(rng: random.Random, width: int, height: int, *, cell: int) -> Image.Image:
    """Seeded noise: random bytes on a grid of ``cell``-pixel squares, smoothly scaled up."""
    w, h = max(2, -(-width // cell)), max(2, -(-height // cell))
    small = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    if (w, h) == (width, height):
        return small
    return small.resize((width, height), Image.Resampling.BICUBIC)


def _vignette(width: int, height: int, strength: int) -> Image.Image:
    """How much to darken each pixel: nothing in the middle, ``strength`` in the corners."""
    ramp = Image.radial_gradient("L").point(lambda v: max(0, v - 100) * strength // 155)
    return ramp.resize((width, height), Image.Resampling.BILINEAR)


def _paper(rng: random.Random, width: int, height: int) -> Image.Image:
    """Grey paper tone (light = paper, dark = ink) with mottling, grain, stains and wear."""
    mottle = _noise(rng, width, height, cell=max(2, width // 30)).point(lambda v: 196 + v // 7)
    grain = _noise(rng, width, height, cell=1)
    paper = Image.blend(mottle, grain, 0.1)

    # Foxing and water stains, drawn small, blurred and scaled up (cheap soft edges).
    sw, sh = max(2, width // 8), max(2, height // 8)
    stains = Image.new("L", (sw, sh), 0)
    spots = ImageDraw.Draw(stains)
    for _ in range(rng.randint(2, 7)):
        r = rng.uniform(0.5, 2.5) if rng.random() < 0.7 else rng.uniform(4, sw / 5)
        x, y = rng.uniform(0, sw), rng.uniform(0, sh)
        spots.ellipse((x - r, y - r * rng.uniform(0.6, 1.4), x + r, y + r), fill=rng.randint(8, 30))
    stains = stains.filter(ImageFilter.GaussianBlur(1.2))
    paper = ImageChops.subtract(paper, stains.resize((width, height), Image.Resampling.BICUBIC))
    return ImageChops.subtract(paper, _vignette(width, height, rng.randint(25, 45)))


# -- pseudo-script -----------------------------------------------------------------------------


def _rule(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    left: int,
    top: int,
    right: int,
    bottom: int,
    pitch: int,
) -> None:
    """Faint dry-point ruling: the frame of the text block and one line per baseline."""
    shade = rng.randint(165, 180)
    for x in (left, right):
        draw.line((x, top, x, bottom), fill=shade, width=1)
    for y in range(top + pitch, bottom + 1, pitch):
        draw.line((left, y, right, y), fill=shade + 8, width=1)


def _latin_line(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    left: int,
    right: int,
    base: int,
    pitch: int,
    pen: int,
    shade: int,
    stop: float,
) -> None:
    """Minims, ascenders, descenders and i-dots, written left to right."""
    xh = pitch * 0.3
    step = xh * 0.55
    x, end = left + rng.uniform(0, pitch * 0.4), left + (right - left) * stop - step
    while x < end:
        for _ in range(rng.randint(2, 8)):
            if x >= end:
                break
            kind = rng.random()
            top_y = base - xh * (2.0 if kind < 0.15 else 1.0)
            low_y = base + xh * (0.9 if 0.15 <= kind < 0.25 else 0.0)
            slant = xh * 0.2
            draw.line((x, low_y, x + slant, top_y), fill=shade, width=pen)
            draw.line((x, base, x + step, base - xh * 0.6), fill=shade, width=max(1, pen // 2))
            if 0.25 <= kind < 0.32:
                r = pen
                draw.ellipse(
                    (x + slant - r, top_y - xh * 0.6 - r, x + slant + r, top_y - xh * 0.6 + r),
                    fill=shade,
                )
            x += step
        x += step * rng.uniform(1.2, 2.0)  # a space between words


def _jawi_line(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    left: int,
    right: int,
    base: int,
    pitch: int,
    pen: int,
    shade: int,
    stop: float,
) -> None:
    """Connected strokes on the baseline with bowls, alifs and dots, written right to left."""
    xh = pitch * 0.28
    x, end = right - rng.uniform(0, pitch * 0.2), right - (right - left) * stop + xh
    while x > end:
        for i in range(rng.randint(1, 5)):
            if x <= end:
                break
            gw = xh * rng.uniform(0.6, 1.3)
            draw.line((x, base, x - gw, base), fill=shade, width=pen + 1)  # the joining stroke
            kind = rng.random()
            if kind < 0.22 and i == 0:  # alif or lam: a tall upright at the start of a word
                draw.line((x, base, x - xh * 0.15, base - xh * 2.4), fill=shade, width=pen + 1)
            elif kind < 0.45:  # a tooth (as of ba, ta, nun, sin)
                draw.line(
                    (x - gw * 0.5, base, x - gw * 0.45, base - xh * 0.7), fill=shade, width=pen
                )
            elif kind < 0.6:  # a loop (as of fa, qaf, mim)
                draw.ellipse(
                    (x - gw * 0.8, base - xh * 0.8, x - gw * 0.2, base), outline=shade, width=pen
                )
            if rng.random() < 0.45:  # one to three dots, above or below the stroke
                dots, above = rng.choice((1, 1, 2, 3)), rng.random() < 0.65
                y = base - xh * 1.3 if above else base + xh * 0.8
                r = pen + 0.5
                for d in range(dots):
                    cx = x - gw * 0.5 + (d - (dots - 1) / 2) * r * 3
                    cy = y - (r * 2.5 if dots == 3 and d == 1 else 0)
                    draw.regular_polygon((cx, cy, r * 1.3), 4, fill=shade)  # a pen's rhomb
            x -= gw
        # The last letter of a word often sweeps below the line (as ya, nun, ra, wau).
        if rng.random() < 0.6:
            r = xh * rng.uniform(0.5, 0.9)
            draw.arc((x - r * 2, base - r, x, base + r), 0, 180, fill=shade, width=pen + 1)
            x -= r * 2
        x -= xh * rng.uniform(0.7, 1.4)  # a space between words


# -- photograph ---------------------------------------------------------------------------------


def _ridge(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    width: int,
    height: int,
    base: int,
    rise: float,
    shade: int,
) -> None:
    """A line of hills: a random walk of peaks, filled down to the bottom of the picture."""
    points, x, y = [(0.0, float(height))], 0.0, base - rng.uniform(0, rise) * height * 0.5
    while x < width:
        points.append((x, y))
        x += rng.uniform(0.04, 0.12) * width
        y = min(base, max(base - rise * height, y + rng.uniform(-0.06, 0.06) * height))
    points += [(float(width), y), (float(width), float(height))]
    draw.polygon(points, fill=shade)


def _river(
    draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int, ground: int
) -> None:
    """A bright band of water across the foreground, where longhouses stand."""
    top = ground + round((height - ground) * rng.uniform(0.45, 0.6))
    bank = round(height * 0.02)
    draw.polygon([(0, top), (width, top - bank), (width, height), (0, height)], fill=190)
    for _ in range(30):  # ripples
        x, y = rng.uniform(0, width), rng.uniform(top + bank, height)
        draw.line((x, y, x + rng.uniform(0.02, 0.08) * width, y), fill=215, width=1)


def _longhouse(
    draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int, ground: int
) -> None:
    """A longhouse on stilts: one long roof over a row of doors, a veranda and a ladder."""
    long = width * rng.uniform(0.45, 0.6)
    x0 = rng.uniform(0.05, 0.95) * (width - long)
    x1 = x0 + long
    floor = ground + (height - ground) * 0.25
    wall = height * 0.07
    stilt = height * 0.05
    pen = max(1, round(width / 400))
    for i in range(int(long // (width * 0.03)) + 1):  # stilts
        x = x0 + i * width * 0.03
        draw.line((x, floor, x, floor + stilt), fill=40, width=pen * 2)
    draw.rectangle((x0, floor - wall, x1, floor), fill=120)  # wall
    doors = rng.randint(6, 12)
    for i in range(doors):  # one door per family apartment (bilik)
        cx = x0 + (i + 0.5) * long / doors
        draw.rectangle((cx - wall * 0.15, floor - wall * 0.8, cx + wall * 0.15, floor), fill=45)
    eave = wall * 0.35
    draw.polygon(  # the long pitched roof
        [
            (x0 - eave, floor - wall),
            (x0 + eave, floor - wall * 2.1),
            (x1 - eave, floor - wall * 2.1),
            (x1 + eave, floor - wall),
        ],
        fill=55,
    )
    draw.rectangle((x0, floor, x1, floor + pen * 3), fill=160)  # open veranda (tanju)
    lx = x0 + long * rng.uniform(0.3, 0.7)  # a notched-log ladder down to the ground
    draw.line((lx, floor, lx + stilt * 0.8, floor + stilt * 1.6), fill=35, width=pen * 2)


def _palm(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, height: int) -> None:
    """A coconut palm: a leaning trunk and drooping fronds."""
    tall = height * rng.uniform(0.15, 0.3)
    lean = tall * rng.uniform(-0.2, 0.2)
    tx, ty = x + lean, y - tall
    pen = max(1, round(height / 300))
    draw.line((x, y, tx, ty), fill=50, width=pen * 2)
    for _ in range(rng.randint(6, 9)):
        dx, dy = rng.uniform(-1, 1) * tall * 0.35, rng.uniform(-0.05, 0.1) * tall
        tip = (tx + dx * 1.2, ty + dy + abs(dx) * 0.6)  # fronds droop at the tips
        draw.line(
            (tx, ty, tx + dx, ty + dy - abs(dx) * 0.1, *tip), fill=45, width=pen * 2, joint="curve"
        )


# -- label and output ---------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font, so that no system font is needed."""
    return ImageFont.load_default(size=size)


def _label(image: Image.Image, centre_y: int) -> None:
    """Write the SAMPLE label on a pale box, centred at ``centre_y``, shrunk to fit."""
    draw = ImageDraw.Draw(image)
    size = max(8, round(image.width / 42))
    font = _font(size)
    while size > 8 and draw.textlength(LABEL, font=font) > image.width * 0.9:
        size -= 1
        font = _font(size)
    x0, y0, x1, y1 = draw.textbbox((image.width / 2, centre_y), LABEL, font=font, anchor="mm")
    pad = max(2, size // 3)
    draw.rectangle(
        (x0 - pad, y0 - pad, x1 + pad, y1 + pad),
        fill=_LABEL_BOX,
        outline=_LABEL_RGB,
        width=max(1, size // 12),
    )
    draw.text((image.width / 2, centre_y), LABEL, fill=_LABEL_RGB, font=font, anchor="mm")


def _check_format(fmt: str) -> str:
    fmt = fmt.upper()
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}")
    return fmt


def _save(image: Image.Image, path: Path, fmt: str) -> Path:
    """Save at 300 dpi, the resolution a capture station records for masters."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        image.save(path, "JPEG", quality=85, dpi=(DPI, DPI), icc_profile=_srgb_profile())
    else:
        image.save(
            path, "TIFF", compression="tiff_lzw", dpi=(DPI, DPI), icc_profile=_srgb_profile()
        )
    return path


@functools.cache
def _srgb_profile() -> bytes:
    """Return an sRGB ICC profile: scanner masters carry one, and so do the samples."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
