"""Automatic quality checks for scanned pages, run at ingest.

Each master file gets a list of :class:`Check` results a digitization technician can read:
capture settings (resolution, size, bit depth, colour profile) taken from the technical
metadata exiftool already extracted, falling back to what Pillow reports; whether the file
decodes to the last pixel; and two pixel checks on a small greyscale copy (a blank page, an
out-of-focus page). A 64-bit difference hash (dHash) of the page lets the caller find
near-identical pages already in the item with :func:`check_duplicate`.

The module is a plain library: paths, mappings and frozen dataclasses in, frozen dataclasses
out. It knows nothing about the repository's database; the caller passes in the fingerprints
of the item's other files.

Speed: a page is decoded once, in full (the only way to catch a truncated file); the pixel
checks then run on a copy about 1000 px on its long side, made with ``reduce()`` (or JPEG
``draft()``, which decodes a JPEG at 1/2, 1/4 or 1/8 size while still reading every byte).

References: FADGI, *Technical Guidelines for Digitizing Cultural Heritage Materials*,
https://www.digitizationguidelines.gov/guidelines/digitize-technical.html ; Metamorfoze,
*Preservation Imaging Guidelines*; dHash: N. Krawetz, "Kind of Like That" (2013),
https://www.hackerfactor.com/blog/index.php?/archives/529-Kind-of-Like-That.html
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, ImageFilter, ImageStat

__all__ = [
    "CHECK_NAMES",
    "Check",
    "ImageQA",
    "QAError",
    "Thresholds",
    "check_duplicate",
    "check_image",
    "dhash_distance",
]

#: Every check name, in the order :func:`check_image` reports them ("duplicate" comes from
#: :func:`check_duplicate`).
CHECK_NAMES = (
    "ppi",
    "dimensions",
    "bit_depth",
    "icc_profile",
    "decodes",
    "blank",
    "blur",
    "duplicate",
)

#: Long side, in pixels, of the greyscale copy the pixel checks and the dHash look at. The
#: blank and blur thresholds are calibrated at this scale.
MEASURE_SIDE = 1000

_NOT_DECODED = "not checked: the file does not decode"
_DHASH_BITS = 64
_LAPLACIAN = ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128)
_WHITE = (255, 255, 255, 255)


class QAError(ValueError):
    """Invalid QA settings (unknown threshold names, wrong types or out-of-range values)."""


@dataclass(frozen=True)
class Thresholds:
    """Pass marks for the checks; the defaults suit manuscripts and rare books.

    The capture settings follow FADGI for manuscripts and rare books at 3 stars (300 ppi at
    original size, 8 bits per channel, an embedded colour profile; 4 stars asks 400 ppi) and
    Metamorfoze (300 ppi for text originals): raise ``min_ppi`` for small scripts and fine
    detail. ``min_width``/``min_height`` compare with the image as stored (width with width),
    not with its long and short sides. A recorded resolution is rounded to a whole ppi first:
    300 ppi stored as 118.11 px/cm reads back as 299.9994.

    ``blank_stddev`` and ``blur_variance`` apply to a greyscale copy scaled to
    :data:`MEASURE_SIDE` px on its long side (never enlarged): the standard deviation of its
    grey levels, and the variance of its response to the Laplacian kernel
    ``[0 1 0; 1 -4 1; 0 1 0]`` (offset 128, the 1-px border left out). Calibrated with
    generated 1200 × 1600 and 3000 × 4000 pages, each saved as TIFF, JPEG q 90 and q 70:

    ===================================================  ===============  ================
    page                                                 grey std dev     Laplacian var.
    ===================================================  ===============  ================
    blank: paper colour + faint grain                    0.5 – 1.1        2.7 – 18
    blank: paper colour + coarse grain                   1.5 – 3.4        44 – 195
    blank: aged paper (mottling, stains, vignette)       7.2 – 10.7       34 – 153
    sparse text (4 lines of 3 words)                     10.6 – 11.4      124 – 150
    :mod:`digitization.samples` pages (Latin, Jawi)      23.0 – 25.0      949 – 1 593
    dense text (Pillow's font on plain paper)            44.9 – 48.8      2 359 – 2 714
    the text pages above, Gaussian blur radius 4 – 6     4.7 – 20.2       0.4 – 4.1
    ===================================================  ===============  ================

    The blur radius is at the measurement scale (radius 5 there is 20 px on a 4000-px page).
    Hence ``blur_variance = 30``: 7× the sharpest blurred page, a quarter of the sparsest
    sharp one. Grain, JPEG noise and the scanner's own noise all count as detail, which is
    why it is measured after shrinking (that averages noise away) and why it catches pages
    that are badly out of focus rather than slightly soft: softness in a 600-ppi master
    vanishes at 1000 px. Blank paper has no detail either, so a blank page usually fails
    "blur" as well as "blank"; both are reported.

    ``blank_stddev = 5``: above plain blank paper (≤ 3.4), below every page with text, sharp
    or blurred, except a blurred page with a few short lines (4.7 – 5.7). A blank page of
    strongly shaded or stained paper (7 – 11) is *not* caught: the tone spread of the paper
    itself is as large as that of a page with a few lines of text. Neither is a page captured
    with a dark background around it: crop before ingest.

    ``duplicate_distance = 4`` of 64 bits: the same page re-saved as JPEG q 70 or shifted by
    1 px differs by 0 – 2 bits, different pages by 9 or more (pages of one generated layout)
    and 16 or more (:mod:`digitization.samples` pages). Blank pages and pages that are mostly
    bare, even paper have no stable dHash (7 – 26 bits between copies of the same page): there
    only the sha256 finds copies.
    """

    min_ppi: float = 300
    min_width: int = 1000
    min_height: int = 1000
    min_bit_depth: int = 8
    require_icc: bool = True
    blank_stddev: float = 5.0
    blur_variance: float = 30.0
    duplicate_distance: int = 4

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            kind, low, high = _THRESHOLD_RULES[f.name]
            if kind is bool:
                if not isinstance(value, bool):
                    problems.append(f"{f.name} must be true or false, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(
                value, (int, float) if kind is float else int
            ):
                what = "a number" if kind is float else "a whole number"
                problems.append(f"{f.name} must be {what}, got {value!r}")
                continue
            if not math.isfinite(value) or value < low or (high is not None and value > high):
                span = f"between {low} and {high}" if high is not None else f"at least {low}"
                problems.append(f"{f.name} must be {span}, got {value!r}")
                continue
            if kind is float:
                object.__setattr__(self, f.name, float(value))
        if problems:
            raise QAError("; ".join(problems))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Thresholds:
        """Return thresholds from ``data``; missing names keep their defaults.

        :raises QAError: if ``data`` is not a mapping, names an unknown threshold, or holds a
            value of the wrong type or out of range (the message names every problem).
        """
        if not isinstance(data, Mapping):
            raise QAError(f"QA thresholds must be a mapping, got {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in _THRESHOLD_RULES)
        if unknown:
            known = ", ".join(_THRESHOLD_RULES)
            raise QAError(f"unknown QA threshold(s): {', '.join(unknown)} (known: {known})")
        return cls(**data)

    def to_mapping(self) -> dict[str, Any]:
        """Return the thresholds as a plain, JSON-able dict (``from_mapping`` reads it back)."""
        return asdict(self)


#: name -> (type, lowest, highest or None)
_THRESHOLD_RULES: dict[str, tuple[type, float, float | None]] = {
    "min_ppi": (float, 0, None),
    "min_width": (int, 0, None),
    "min_height": (int, 0, None),
    "min_bit_depth": (int, 1, 32),
    "require_icc": (bool, 0, None),
    "blank_stddev": (float, 0, 255),
    "blur_variance": (float, 0, None),
    "duplicate_distance": (int, 0, _DHASH_BITS),
}


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was measured, against what, and in plain words."""

    name: str
    passed: bool
    value: Any
    threshold: Any
    message: str

    def to_json(self) -> dict[str, Any]:
        """Return the check as a JSON-able dict."""
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
        }


@dataclass(frozen=True)
class ImageQA:
    """All checks of one image and its difference hash (None when it does not decode)."""

    checks: tuple[Check, ...]
    dhash: int | None

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that did not pass, in order."""
        return tuple(c for c in self.checks if not c.passed)

    def check(self, name: str) -> Check:
        """Return the check called ``name``.

        :raises KeyError: if there is no such check.
        """
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def with_check(self, check: Check) -> ImageQA:
        """Return a copy with ``check`` added, replacing any check of the same name."""
        kept = tuple(c for c in self.checks if c.name != check.name)
        return replace(self, checks=(*kept, check))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-able dict; the dHash is 16 hex digits (JSON numbers lose bits)."""
        return {
            "passed": self.passed,
            "dhash": None if self.dhash is None else format(self.dhash, "016x"),
            "checks": [c.to_json() for c in self.checks],
        }


# -- checks ------------------------------------------------------------------------------------


def check_image(path: Path, techmd: Mapping[str, Any], thresholds: Thresholds) -> ImageQA:
    """Return the QA checks of the image at ``path``, all but "duplicate".

    :param path: the master file.
    :param techmd: technical metadata from exiftool (``width``, ``height``,
        ``bits_per_sample``, ``icc_profile``, ``ppi_x``, ``ppi_y``, …); a missing or None
        value falls back to what Pillow reads from the file.
    :param thresholds: the pass marks.
    :raises FileNotFoundError, PermissionError, IsADirectoryError: if the file cannot be
        read at all (a caller's problem, not the image's). A file that is not an image, is
        damaged or is truncated is reported by a failed "decodes" check instead.
    """
    path = Path(path)
    facts: _PillowFacts | None = None
    grey: Image.Image | None = None
    grey_error = _NOT_DECODED
    decode_error = ""
    with _strict_loading():
        try:
            with Image.open(path) as im:
                facts = _PillowFacts.of(im)
                if im.format == "JPEG":
                    # Decode at 1/2 … 1/8 scale: every byte is still read and entropy-decoded,
                    # so truncation is still caught, in about half the time of a full decode.
                    im.draft("L" if im.mode == "RGB" else None, _fit(im.size, MEASURE_SIDE))
                im.load()
                try:
                    grey = _measurement_copy(im)
                except (ValueError, OSError) as exc:  # a mode Pillow cannot convert
                    grey_error = f"not checked: image mode {im.mode} cannot be measured ({exc})"
        except (FileNotFoundError, PermissionError, IsADirectoryError, MemoryError):
            raise
        except Image.DecompressionBombError as exc:  # the limit is the application's setting
            decode_error = f"the image is too large to open safely ({exc})"
        except Image.UnidentifiedImageError:
            decode_error = (
                "the file cannot be opened as an image: it is damaged, incomplete "
                "or not in an image format that can be read"
            )
        except Exception as exc:  # Pillow's decoders raise many types for damaged data
            decode_error = f"the file is damaged or incomplete ({str(exc) or type(exc).__name__})"

    checks = [
        _check_ppi(techmd, facts, thresholds),
        _check_dimensions(techmd, facts, thresholds),
        _check_bit_depth(techmd, facts, thresholds),
        _check_icc(techmd, facts, thresholds),
        Check(
            "decodes",
            not decode_error,
            not decode_error,
            True,
            decode_error or "the whole image decodes",
        ),
    ]
    dhash = None
    if grey is None:
        checks += [
            Check("blank", False, None, thresholds.blank_stddev, grey_error),
            Check("blur", False, None, thresholds.blur_variance, grey_error),
        ]
    else:
        checks += [_check_blank(grey, thresholds), _check_blur(grey, thresholds)]
        dhash = _dhash(grey)
    return ImageQA(checks=tuple(checks), dhash=dhash)


def check_duplicate(
    sha256: str,
    dhash: int | None,
    *,
    same_sha: str | None,
    near: Iterable[tuple[int, str]],
    thresholds: Thresholds,
) -> Check:
    """Return the "duplicate" check of a new file against the item's existing files.

    :param sha256: the new file's checksum (reported when it is an exact copy).
    :param dhash: the new file's :attr:`ImageQA.dhash`; None if it does not decode.
    :param same_sha: the name of an existing file in the item with the same sha256, if any.
    :param near: ``(dhash, name)`` of the item's existing pages.
    :param thresholds: ``duplicate_distance`` is the most bits in which two near-identical
        pages differ.
    """
    limit = thresholds.duplicate_distance
    if same_sha is not None:
        value = {"file": same_sha, "distance": 0, "sha256": sha256}
        return Check("duplicate", False, value, limit, f"identical to file {same_sha}")
    if dhash is None:
        return Check(
            "duplicate",
            True,
            None,
            limit,
            "not compared with other pages: the file does not decode",
        )
    ranked = sorted(
        (dhash_distance(dhash, other), name) for other, name in near if other is not None
    )
    if not ranked:
        return Check("duplicate", True, None, limit, "no other pages to compare with")
    distance, name = ranked[0]
    value = {"file": name, "distance": distance}
    if distance <= limit:
        more = sum(1 for d, _ in ranked[1:] if d <= limit)
        also = f"; {more} more within {limit}" if more else ""
        message = f"nearly identical to file {name} (distance {distance}{also})"
        return Check("duplicate", False, value, limit, message)
    message = (
        f"not a duplicate: the most similar page, {name}, differs by {distance} of 64 "
        f"(at most {limit} counts as nearly identical)"
    )
    return Check("duplicate", True, value, limit, message)


def dhash_distance(a: int, b: int) -> int:
    """Return the Hamming distance of two 64-bit difference hashes (0 … 64).

    :raises ValueError: if either is not a 64-bit unsigned integer.
    """
    for h in (a, b):
        if isinstance(h, bool) or not isinstance(h, int) or not 0 <= h < 1 << _DHASH_BITS:
            raise ValueError(f"a dHash is a 64-bit unsigned integer, got {h!r}")
    return (a ^ b).bit_count()


# -- capture settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class _PillowFacts:
    """What Pillow says about the file, read before any draft() changes the size."""

    size: tuple[int, int]
    dpi: tuple[float, float] | None
    bits: int | None
    icc: bytes | None

    @classmethod
    def of(cls, im: Image.Image) -> _PillowFacts:
        dpi = im.info.get("dpi")
        try:
            dpi = (float(dpi[0]), float(dpi[1])) if dpi else None
        except (TypeError, ValueError, IndexError):
            dpi = None
        bits = _MODE_BITS.get(im.mode)
        tags = getattr(im, "tag_v2", None)
        if tags is not None:  # a TIFF says it exactly: Pillow reads 16-bit RGB as 8-bit
            bits = _smallest_int(tags.get(258)) or bits
        return cls(size=im.size, dpi=dpi, bits=bits, icc=im.info.get("icc_profile") or None)


_MODE_BITS = {
    "1": 1,
    "L": 8,
    "LA": 8,
    "La": 8,
    "P": 8,
    "PA": 8,
    "RGB": 8,
    "RGBA": 8,
    "RGBa": 8,
    "RGBX": 8,
    "CMYK": 8,
    "YCbCr": 8,
    "LAB": 8,
    "HSV": 8,
    "I;16": 16,
    "I;16L": 16,
    "I;16B": 16,
    "I;16N": 16,
    "I;16S": 16,
    "I": 32,
    "F": 32,
}


def _check_ppi(techmd: Mapping[str, Any], facts: _PillowFacts | None, t: Thresholds) -> Check:
    x, y = _positive(techmd.get("ppi_x")), _positive(techmd.get("ppi_y"))
    if x is None and y is None and facts is not None and facts.dpi is not None:
        x, y = _positive(facts.dpi[0]), _positive(facts.dpi[1])
    x, y = x or y, y or x  # one axis recorded: assume square pixels
    need = _num(t.min_ppi)
    if x is None or y is None:
        return Check("ppi", False, None, t.min_ppi, f"no resolution recorded; {need} ppi needed")
    # Compare whole numbers: 300 ppi stored as 118.11 px/cm comes back as 299.9994.
    low = round(min(x, y))
    found = f"{round(x)} ppi" if round(x) == round(y) else f"{round(x)} × {round(y)} ppi"
    if low >= t.min_ppi:
        return Check("ppi", True, low, t.min_ppi, f"{found} ({need} ppi needed)")
    return Check("ppi", False, low, t.min_ppi, f"{need} ppi needed, {found} found")


def _check_dimensions(
    techmd: Mapping[str, Any], facts: _PillowFacts | None, t: Thresholds
) -> Check:
    w, h = _positive(techmd.get("width")), _positive(techmd.get("height"))
    if facts is not None:
        w, h = w or facts.size[0], h or facts.size[1]
    need = [t.min_width, t.min_height]
    wanted = f"at least {t.min_width} × {t.min_height} px needed"
    if w is None or h is None:
        return Check("dimensions", False, None, need, f"image size not recorded; {wanted}")
    w, h = int(w), int(h)
    if w >= t.min_width and h >= t.min_height:
        return Check("dimensions", True, [w, h], need, f"{w} × {h} px ({wanted})")
    return Check("dimensions", False, [w, h], need, f"{wanted}, {w} × {h} px found")


def _check_bit_depth(techmd: Mapping[str, Any], facts: _PillowFacts | None, t: Thresholds) -> Check:
    bits = _smallest_int(techmd.get("bits_per_sample"))
    if bits is None and facts is not None:
        bits = facts.bits
    need = t.min_bit_depth
    if bits is None:
        return Check(
            "bit_depth",
            False,
            None,
            need,
            f"bit depth not recorded; {need} bits per channel needed",
        )
    if bits >= need:
        return Check("bit_depth", True, bits, need, f"{bits} bits per channel ({need} needed)")
    return Check("bit_depth", False, bits, need, f"{need} bits per channel needed, {bits} found")


def _check_icc(techmd: Mapping[str, Any], facts: _PillowFacts | None, t: Thresholds) -> Check:
    description = techmd.get("icc_profile")
    broken = False
    if not description and facts is not None and facts.icc:
        description = _icc_description(facts.icc)
        broken = description is None
    if description:
        text = str(description)
        return Check("icc_profile", True, text, t.require_icc, f"ICC colour profile: {text}")
    if broken:
        message = "an ICC colour profile is embedded but cannot be read"
    else:
        message = "no ICC colour profile embedded"
    if not t.require_icc:
        return Check("icc_profile", True, None, False, f"{message} (not required)")
    return Check("icc_profile", False, None, True, message)


def _icc_description(data: bytes) -> str | None:
    """Return the description of an embedded ICC profile, or None if it does not parse."""
    try:
        from PIL import ImageCms  # needs LittleCMS, which a Pillow build may leave out
    except ImportError:  # pragma: no cover - platform branch
        return "embedded profile"
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data)).profile
    except (OSError, TypeError, ValueError):
        return None
    return (profile.profile_description or "").strip() or "embedded profile (no description)"


def _positive(value: Any) -> float | None:
    """Return ``value`` as a positive finite number, or None (missing, 0 or not a number)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.split()[0] if value.split() else ""
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def _smallest_int(value: Any) -> int | None:
    """Return the smallest of ``8``, ``"8 8 8"`` or ``(8, 8, 8)`` as an int, or None."""
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, (list, tuple)):
        numbers = [_positive(v) for v in value]
        value = min((n for n in numbers if n is not None), default=None)
    number = _positive(value)
    return int(number) if number is not None else None


def _num(value: float) -> str:
    """Format a threshold without a needless ".0"."""
    return f"{value:g}"


# -- pixels -------------------------------------------------------------------------------------


_strict_lock = threading.Lock()
_strict_depth = 0
_strict_saved = False


@contextmanager
def _strict_loading() -> Iterator[None]:
    """Make Pillow raise on truncated files for the duration, then restore the setting.

    ``LOAD_TRUNCATED_IMAGES`` is a module global; a depth count keeps overlapping checks in
    several threads from restoring it too early or leaving it changed.
    """
    global _strict_depth, _strict_saved
    with _strict_lock:
        if _strict_depth == 0:
            _strict_saved = ImageFile.LOAD_TRUNCATED_IMAGES
        _strict_depth += 1
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _strict_lock:
            _strict_depth -= 1
            if _strict_depth == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _strict_saved


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """Return ``size`` scaled so its long side is ``side`` (never enlarged)."""
    w, h = size
    long = max(w, h)
    if long <= side:
        return w, h
    return max(1, round(w * side / long)), max(1, round(h * side / long))


def _measurement_copy(im: Image.Image) -> Image.Image:
    """Return a greyscale ('L') copy of ``im`` about :data:`MEASURE_SIDE` px on its long side.

    Averages whole blocks of pixels with ``reduce()`` (a box filter, and the fastest way
    Pillow has to shrink), then LANCZOS for the rest (less than 2×) when the size is not a
    multiple of the target. No aliasing, which would add false detail to the blur measure.
    """
    original = im
    sixteen = im.mode.startswith("I;16")
    if im.mode in ("1", "P", "PA"):  # reduce() cannot average bits or palette indexes
        alpha = im.mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if alpha else "L")
    elif sixteen:  # nor 16-bit: widen to 32-bit, which it can
        im = im.convert("I")
    target = _fit(im.size, MEASURE_SIDE)
    factor = max(im.size) // MEASURE_SIDE
    if factor > 1:
        im = im.reduce(factor)
    grey = _to_grey(im, sixteen=sixteen)
    if grey.size != target:
        grey = grey.resize(target, Image.Resampling.LANCZOS)
    # A small 'L' page comes back as the opened image itself, which may be a memory map of the
    # file; the copy outlives the file.
    return grey.copy() if grey is original else grey


def _to_grey(im: Image.Image, *, sixteen: bool) -> Image.Image:
    """Return ``im`` as 8-bit greyscale, keeping its tones (16-bit is scaled, not clipped)."""
    mode = im.mode
    if mode == "L":
        return im
    if mode in ("LA", "La", "RGBA", "RGBa"):  # as it looks on a white page
        rgba = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", im.size, _WHITE), rgba).convert("L")
    if mode == "LAB":
        return im.getchannel("L")
    if mode in ("I", "F"):
        high = im.getextrema()[1]
        if mode == "F" and high <= 1.0:
            scale = 255.0
        elif sixteen or high > 255:
            scale = 1 / 257  # 65535 -> 255
        else:
            scale = 1.0
        scaled: Image.Image = im.point(_scale(scale))
        return scaled.convert("L")
    return im.convert("L")


def _scale(factor: float) -> Callable[[float], float]:
    return lambda v: v * factor


def _check_blank(grey: Image.Image, t: Thresholds) -> Check:
    stddev = round(ImageStat.Stat(grey).stddev[0], 2)
    need = _num(t.blank_stddev)
    if stddev < t.blank_stddev:
        message = (
            f"the page looks blank: its tones hardly vary (spread {stddev:.1f}, "
            f"at least {need} expected for a page with content)"
        )
        return Check("blank", False, stddev, t.blank_stddev, message)
    message = f"the page has content (tone spread {stddev:.1f}, at least {need} expected)"
    return Check("blank", True, stddev, t.blank_stddev, message)


def _check_blur(grey: Image.Image, t: Thresholds) -> Check:
    response = grey.filter(_LAPLACIAN)
    if min(grey.size) > 2:  # Pillow copies the 1-px border unfiltered: leave it out
        response = response.crop((1, 1, grey.width - 1, grey.height - 1))
    variance = round(ImageStat.Stat(response).var[0], 2)
    need = _num(t.blur_variance)
    if variance < t.blur_variance:
        message = (
            f"the page looks out of focus or has no sharp detail "
            f"(sharpness {variance:.1f}, at least {need} expected)"
        )
        return Check("blur", False, variance, t.blur_variance, message)
    message = f"the page is sharp (sharpness {variance:.1f}, at least {need} expected)"
    return Check("blur", True, variance, t.blur_variance, message)


def _dhash(grey: Image.Image) -> int:
    """Return the 64-bit difference hash: 9 × 8 greys, a 1 bit where left > right, row by row.

    Shrunk in floating point with LANCZOS (as Krawetz's ANTIALIAS): rounded to whole grey
    levels, neighbouring cells of an even text block tie, and any re-encoding breaks the tie;
    LANCZOS's overlapping windows also make a 1-px shift count for less than box averages do.
    """
    small = grey.convert("F").resize((9, 8), Image.Resampling.LANCZOS)
    px = small.getdata()
    bits = 0
    for row in range(8):
        for col in range(8):
            i = row * 9 + col
            bits = (bits << 1) | (px[i] > px[i + 1])
    return bits
