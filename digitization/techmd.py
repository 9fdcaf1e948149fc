"""Technical metadata from exiftool, through ONE long-running exiftool process per batch.

Starting exiftool costs about 0.1 s of Perl; one process for the batch runs at hundreds of
files a second (PERFORMANCE.md). ``-n`` gives raw nonsense for some tags, so numbers are
asked for per tag with ``#`` (STACK.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import exiftool

#: Tags asked for; exiftool answers ``Group:Tag`` keys for whichever groups have them.
TAGS: tuple[str, ...] = (
    "FileType",
    "MIMEType",
    "ImageWidth#",
    "ImageHeight#",
    "BitsPerSample",
    "BitDepth",
    "BitsPerComponent",
    "SamplesPerPixel#",
    "ColorComponents#",
    "XResolution#",
    "YResolution#",
    "ResolutionUnit#",
    "PixelsPerUnitX#",
    "PixelsPerUnitY#",
    "PixelUnits#",
    "ProfileDescription",
    "ColorSpace",
    "PhotometricInterpretation",
    "ColorType",
    "Compression",
    "Make",
    "Model",
    "Software",
    "CreatorTool",
    "DateTimeOriginal",
    "CreateDate",
    "Orientation#",
    "Duration#",
    "SampleRate#",
    "NumChannels#",
    "Channels#",
    "TotalSamples#",
    "Encoding",
    "AudioLayer",
    "MPEGAudioVersion",
    "AudioBitrate",
    "ExifToolVersion",
)
INCH_PER_CM = 2.54
INCH_PER_METRE = 39.3701


class TechMDError(RuntimeError):
    """exiftool is missing or failed."""


def _first(tags: Mapping[str, Any], *names: str) -> Any:
    """Return the first present value among tag names (``Tag`` matches any ``Group:Tag``)."""
    for name in names:
        if ":" in name:
            if name in tags:
                return tags[name]
            continue
        for key, value in tags.items():
            if key.rsplit(":", 1)[-1] == name:
                return value
    return None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    numbers = re.findall(r"\d+", str(value))  # "8 8 8", "8 Bits, Unsigned"
    return max(int(n) for n in numbers) if numbers else None


def _ppi(tags: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """Return pixels per inch from whichever resolution tags the format has."""
    if _first(tags, "PNG:PixelsPerUnitX") is not None:
        if _first(tags, "PNG:PixelUnits") != 1:  # 1 = metre; 0 = aspect ratio only
            return None, None
        return (
            round(float(_first(tags, "PNG:PixelsPerUnitX")) / INCH_PER_METRE, 1),
            round(float(_first(tags, "PNG:PixelsPerUnitY")) / INCH_PER_METRE, 1),
        )
    # Resolution and its unit must come from the same group: EXIF (a scanner's own
    # record) before JFIF, whose unit codes differ (JFIF 1 = inch, EXIF 2 = inch).
    group = next((g for g in ("EXIF", "JFIF", "XMP") if f"{g}:XResolution" in tags), None)
    if group is None:
        return None, None
    x, y = tags[f"{group}:XResolution"], tags.get(f"{group}:YResolution")
    unit = tags.get(f"{group}:ResolutionUnit")
    if group == "JFIF":
        factor = {1: 1.0, 2: INCH_PER_CM}.get(unit)  # JFIF: 0 = no unit
    else:
        factor = {2: 1.0, 3: INCH_PER_CM, None: 1.0}.get(unit)  # EXIF: default inches
    if factor is None:
        return None, None
    return round(float(x) * factor, 1), round(float(y if y is not None else x) * factor, 1)


def normalize(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Return our technical metadata dict from exiftool's ``Group:Tag`` answer."""
    mime = _first(tags, "File:MIMEType") or ""
    md: dict[str, Any] = {
        "file_type": _first(tags, "File:FileType"),
        "mimetype": mime,
        "exiftool_version": _first(tags, "ExifTool:ExifToolVersion"),
    }
    if mime.startswith("audio/"):
        sample_rate = _int(_first(tags, "SampleRate"))
        duration = _first(tags, "Composite:Duration", "Duration")
        total = _first(tags, "FLAC:TotalSamples")
        if total and sample_rate:
            duration = float(total) / sample_rate  # exact for FLAC
        md.update(
            {
                "duration": round(float(duration), 3) if duration is not None else None,
                "sample_rate": sample_rate,
                "channels": _int(_first(tags, "NumChannels", "Channels")),
                "bits_per_sample": _int(_first(tags, "BitsPerSample")),
                "codec": _first(tags, "Encoding", "AudioLayer") or md["file_type"],
                "software": _first(tags, "Software"),
                "creator_tool": _first(tags, "CreatorTool"),
            }
        )
        return md
    ppi_x, ppi_y = _ppi(tags)
    md.update(
        {
            "width": _int(_first(tags, "ImageWidth")),
            "height": _int(_first(tags, "ImageHeight")),
            "bits_per_sample": _int(_first(tags, "BitsPerSample", "BitDepth", "BitsPerComponent")),
            "samples_per_pixel": _int(_first(tags, "SamplesPerPixel", "ColorComponents")),
            "colour_space": _first(tags, "PhotometricInterpretation", "ColorType", "ColorSpace")
            or {1: "Grayscale", 3: "RGB", 4: "CMYK"}.get(_int(_first(tags, "ColorComponents"))),
            "icc_profile": _first(tags, "ICC_Profile:ProfileDescription"),
            "ppi_x": ppi_x,
            "ppi_y": ppi_y,
            "compression": _first(tags, "Compression"),
            "make": _first(tags, "Make"),
            "model": _first(tags, "Model"),
            "software": _first(tags, "Software"),
            "creator_tool": _first(tags, "CreatorTool"),
            "capture_date": _first(tags, "DateTimeOriginal", "CreateDate"),
            "orientation": _int(_first(tags, "Orientation")),
        }
    )
    return {k: (str(v) if isinstance(v, bytes) else v) for k, v in md.items()}


class ExifTool:
    """One exiftool process for a whole batch; use as a context manager."""

    def __init__(self, executable: str = "exiftool") -> None:
        self._error: Exception | None = None
        self._helper: Any = None
        try:  # pyexiftool looks the executable up here: report it when the batch starts
            self._helper = exiftool.ExifToolHelper(executable=executable, common_args=["-G"])
        except (OSError, exiftool.exceptions.ExifToolException) as exc:
            self._error = exc

    def __enter__(self) -> ExifTool:
        try:
            if self._error is not None:
                raise self._error
            self._helper.run()
        except (OSError, RuntimeError, exiftool.exceptions.ExifToolException) as exc:
            raise TechMDError(
                f"cannot start exiftool ({exc}); install Debian's libimage-exiftool-perl"
            ) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self._helper is not None and self._helper.running:
            self._helper.terminate()

    @property
    def version(self) -> str:
        return str(self._helper.version)

    def extract(self, path: Path) -> dict[str, Any]:
        return self.extract_many([path])[0]

    def extract_many(self, paths: Iterable[Path]) -> list[dict[str, Any]]:
        paths = [str(p) for p in paths]
        try:
            answers = self._helper.get_tags(paths, list(TAGS))
        except exiftool.exceptions.ExifToolException as exc:
            raise TechMDError(f"exiftool failed: {exc}") from exc
        return [normalize(a) for a in answers]


def wav_duration(path: Path) -> float | None:
    """Return a WAV file's duration from its ``data`` chunk and byte rate.

    exiftool divides the whole file size by the byte rate, so recorders' extra chunks
    (JUNK, bext, iXML) count as sound; a canvas's duration must be the sound's.
    """
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"RIFF":
                return None
            f.read(4)
            if f.read(4) != b"WAVE":
                return None
            byte_rate = None
            while header := f.read(8):
                if len(header) < 8:
                    return None
                kind, size = header[:4], int.from_bytes(header[4:], "little")
                if kind == b"fmt ":
                    fmt = f.read(size)
                    byte_rate = int.from_bytes(fmt[8:12], "little")
                    if size % 2:
                        f.read(1)
                elif kind == b"data":
                    return size / byte_rate if byte_rate else None
                else:
                    f.seek(size + (size % 2), 1)  # chunks are padded to even sizes
    except OSError:
        return None
    return None
