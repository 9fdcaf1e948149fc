"""A batch of masters from a scanner station: which files, in what order, and what each is.

This module decides nothing about the database. :func:`plan_batch` lists the files of a
batch in page order; :class:`Examiner` copies each into staging while checksumming it, then
identifies, describes and checks it, and says whether it may be kept.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from digitization.fixity import Fixity, compute_fixity
from digitization.formats import FormatError, Identification, Identifier
from digitization.qa import ImageQA, Thresholds, check_image
from digitization.techmd import ExifTool, TechMDError, wav_duration

#: A file in a batch folder that gives the page order, one filename a line ('#' comments).
MANIFEST_NAMES = ("manifest.txt", "order.txt")
#: Pillow's names for the formats fido identifies by MIME type.
PILLOW_FORMATS = {
    "image/tiff": "TIFF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/jp2": "JPEG2000",
}


class BatchError(ValueError):
    """The batch cannot be read as given (missing path, bad manifest)."""


def natural_key(name: str) -> list[Any]:
    """Sort key for natural order: ``page2`` before ``page10``."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def _folder_files(folder: Path) -> list[Path]:
    for manifest_name in MANIFEST_NAMES:
        manifest = folder / manifest_name
        if manifest.is_file():
            names = [line.split("#", 1)[0].strip() for line in manifest.read_text().splitlines()]
            names = [n for n in names if n]
            files = []
            for name in names:
                path = folder / name
                if "/" in name or name.startswith(".") or not path.is_file():
                    raise BatchError(f"{manifest}: {name!r} is not a file in {folder}")
                files.append(path)
            return files
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: natural_key(p.name),
    )


def plan_batch(paths: Sequence[Path]) -> list[Path]:
    """Return the files of a batch in order: each folder by its manifest or natural order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(_folder_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise BatchError(f"{path}: no such file or folder")
    seen: set[Path] = set()
    ordered = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            ordered.append(f)
    return ordered


@dataclass
class Examined:
    """What the examination of one file found; ``rejection`` set means: do not keep it."""

    source: Path
    filename: str
    staged: Path | None = None
    fixity: Fixity | None = None
    identification: Identification | None = None
    techmd: dict[str, Any] = field(default_factory=dict)
    qa: ImageQA | None = None
    rejection: str = ""
    skipped: str = ""  # e.g. "already stored as file 3"
    timings: dict[str, float] = field(default_factory=dict)

    def discard(self) -> None:
        if self.staged is not None and self.staged.exists():
            self.staged.unlink()


class Examiner:
    """Examine the files of one batch with one fido and one exiftool process."""

    def __init__(self, staging_dir: Path, *, max_pixels: int) -> None:
        self.staging_dir = Path(staging_dir)
        self.max_pixels = max_pixels
        self._exiftool = ExifTool()
        self.identifier: Identifier | None = None

    def __enter__(self) -> Examiner:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(self.staging_dir)
        self._exiftool.__enter__()
        self.identifier = Identifier()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exiftool.__exit__(*exc)

    @property
    def software(self) -> list[dict[str, str]]:
        """The software agents of this batch, with versions (for PREMIS)."""
        return [
            {"type": "software", "name": f"exiftool {self._exiftool.version}"},
            {"type": "software", "name": self.identifier.tool if self.identifier else "fido"},
            {"type": "software", "name": f"Pillow {Image.__version__}"},
        ]

    def examine(
        self,
        source: Path,
        thresholds: Thresholds,
        *,
        known: Callable[[Fixity], str] = lambda _: "",
        filename: str = "",
        adopt: bool = False,
    ) -> Examined:
        """Copy ``source`` into staging while hashing it, then identify, describe and check it.

        ``known`` returns a reason to skip a file already stored (matched by checksum).
        ``adopt`` takes over a file already in staging (an upload) instead of copying it.
        A rejected or skipped file leaves nothing in staging.
        """
        clock = time.perf_counter
        result = Examined(source=source, filename=filename or source.name)
        t0 = clock()
        if source.stat().st_size == 0:
            result.rejection = "the file is empty (0 bytes)"
            if adopt:
                source.unlink()
            return result
        if adopt:
            result.staged = source
            result.fixity = compute_fixity(source)
        else:
            result.staged = self.staging_dir / f"{secrets.token_hex(8)}-{safe_name(source.name)}"
            result.fixity = compute_fixity(source, copy_to=result.staged)
        result.timings["checksum"] = clock() - t0
        skip = known(result.fixity)
        if skip:
            result.skipped = skip
            result.discard()
            return result
        staged = result.staged
        t1 = clock()
        try:
            result.techmd = self._exiftool.extract(staged)
            if result.techmd.get("mimetype") in ("audio/x-wav", "audio/wav"):
                exact = wav_duration(staged)
                if exact is not None:
                    result.techmd["duration"] = round(exact, 3)
            result.timings["metadata"] = clock() - t1
            result.identification = self.identifier.identify(
                staged, exiftool_mime=result.techmd.get("mimetype")
            )
            if result.identification.kind == "image":
                self._check_pixels(staged, result)
        except (FormatError, TechMDError) as exc:
            result.rejection = str(exc)
        if result.rejection:
            result.discard()
            return result
        t2 = clock()
        if result.identification.kind == "image":
            result.qa = check_image(staged, result.techmd, thresholds)
        result.timings["qa"] = clock() - t2
        return result

    def _check_pixels(self, staged: Path, result: Examined) -> None:
        """Refuse decompression bombs, and files Pillow reads as another format."""
        width, height = result.techmd.get("width"), result.techmd.get("height")
        try:
            with Image.open(staged) as im:
                width, height = im.size
                expected = PILLOW_FORMATS.get(result.identification.mimetype)
                if expected and im.format != expected:
                    raise FormatError(
                        f"identification disagrees: fido says {result.identification.name}, "
                        f"Pillow reads {im.format}"
                    )
        except Image.DecompressionBombError:
            pass  # measured below from the header
        except (OSError, SyntaxError) as exc:
            # Pillow's message names the staged path: a server detail the sender need not see
            reason = str(exc).replace(str(staged), result.filename)
            raise FormatError(f"the image header cannot be read: {reason}") from None
        if width and height and width * height > self.max_pixels:
            raise FormatError(
                f"{width}×{height} pixels ({width * height:,}) is over the limit of "
                f"{self.max_pixels:,}: refused as a possible decompression bomb"
            )


#: A staged copy older than this belongs to an ingest that was killed: no batch file
#: takes a day between its copy and its commit.
ABANDONED_SECONDS = 24 * 3600


def _remove_abandoned(staging_dir: Path) -> None:
    limit = time.time() - ABANDONED_SECONDS
    for entry in staging_dir.iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                entry.unlink()
        except OSError:
            continue


def safe_name(name: str) -> str:
    """Return a harmless file name from one a user sent (never a path)."""
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[-80:] or "file"


def summarize(results: Iterable[Examined]) -> dict[str, int]:
    counts = {"stored": 0, "flagged": 0, "rejected": 0, "skipped": 0}
    for r in results:
        if r.rejection:
            counts["rejected"] += 1
        elif r.skipped:
            counts["skipped"] += 1
        else:
            counts["stored"] += 1
            if r.qa is not None and not r.qa.passed:
                counts["flagged"] += 1
    return counts
