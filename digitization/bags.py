"""BagIt 1.0 packages (RFC 8493), written and checked with the ``bagit`` library.

A bag here is a folder: ``data/`` holds the payload (the masters), tag directories beside it
hold metadata, ``manifest-sha256.txt`` and ``manifest-sha512.txt`` list every payload file,
and ``tagmanifest-sha256.txt`` / ``tagmanifest-sha512.txt`` every tag file, metadata included
— so a changed byte anywhere in the bag is found. ``bag-info.txt`` says where it comes from.

bagit 1.9 writes ``BagIt-Version: 0.97``; :func:`write_bag` declares 1.0 (the same layout
with stricter rules, which the library applies when it validates a 1.0 bag) and rebuilds
the tag manifests over the final tag files.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import bagit

CHECKSUMS = ("sha256", "sha512")
BAGIT_VERSION = bagit.VERSION
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
#: How many failures a reason names before it says "and N more".
SHOWN = 3


class BagInvalid(Exception):
    """The bag is not complete or not intact; ``str()`` says what is wrong."""


@contextlib.contextmanager
def _kept_cwd() -> Iterator[None]:
    """Run bagit: it changes the working directory (and on some errors leaves it changed),
    and logs a warning per bad file, which :class:`BagInvalid` says again in one line."""
    cwd = os.getcwd()
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        os.chdir(cwd)
        logger.setLevel(level)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def write_bag(
    folder: Path,
    *,
    bag_info: Mapping[str, str],
    tag_files: Mapping[str, bytes] | None = None,
    processes: int = 1,
) -> Path:
    """Turn ``folder`` (its content becomes the payload) into a BagIt 1.0 bag; return it.

    :param bag_info: ``bag-info.txt`` fields (``Source-Organization``,
        ``External-Identifier``…); ``Bagging-Date`` defaults to today, ``Payload-Oxum`` is
        computed. Values are written on one line each.
    :param tag_files: extra tag files, ``{"metadata/dc.xml": bytes}``: relative paths
        outside ``data/``, covered by the tag manifests.
    :raises BagInvalid: a tag file path that would leave the bag or enter the payload.
    """
    folder = Path(folder).resolve()
    info = {k: _one_line(v) for k, v in bag_info.items() if v not in (None, "")}
    info.setdefault("Bagging-Date", date.today().isoformat())
    with _kept_cwd():
        bagit.make_bag(str(folder), bag_info=info, processes=processes, checksums=list(CHECKSUMS))
    (folder / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    for relative, content in (tag_files or {}).items():
        target = (folder / relative).resolve()
        parts = Path(relative).parts
        if not target.is_relative_to(folder) or not parts or parts[0] in ("data", ".."):
            raise BagInvalid(f"{relative}: a tag file must be inside the bag, outside data/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    with _kept_cwd():
        bag = bagit.Bag(str(folder))
        bag.save(processes=processes)  # the tag manifests, over bagit.txt and the new files
    return folder


def _describe(exc: bagit.BagError, bag: bagit.Bag | None) -> str:
    details = list(getattr(exc, "details", None) or ())
    reason = str(exc.message if hasattr(exc, "message") else exc).rstrip(".")
    if not details and bag is not None and "Oxum" in reason:
        # the quick size/count check failed first: name the files, not only the totals
        with contextlib.suppress(bagit.BagError, OSError):
            missing, extra = bag.compare_manifests_with_fs()
            details = [f"{p} is missing" for p in missing] + [
                f"{p} is not in the manifest" for p in extra
            ]
    if details and all(isinstance(d, bagit.ChecksumMismatch) for d in details):
        # one per file (its sha256), not one per manifest
        first = {}
        for d in sorted(details, key=lambda d: d.algorithm != "sha256"):
            first.setdefault(d.path, d)
        details = list(first.values())
    if details:
        shown = "; ".join(_one_line(d) for d in details[:SHOWN])
        more = f" (and {len(details) - SHOWN} more)" if len(details) > SHOWN else ""
        reason = f"{reason}: {shown}{more}"
    return reason


def validate_bag(
    path: Path, *, required_tag_files: Sequence[str] = (), processes: int = 1
) -> bagit.Bag:
    """Return the bag at ``path`` after bagit's full validation; raise :class:`BagInvalid`.

    Full validation: the structure, the payload's size and count (``Payload-Oxum``), that
    the manifests and the files match both ways, and every checksum of every manifest and
    tag manifest. ``required_tag_files`` must also be present and listed in every tag
    manifest (a bag whose metadata was removed along with its manifest lines is refused).
    """
    path = Path(path)
    if not path.is_dir():
        raise BagInvalid(f"{path} is not a folder")
    bag = None
    try:
        with _kept_cwd():
            bag = bagit.Bag(str(path))
            bag.validate(processes=processes)
    except bagit.BagError as exc:
        raise BagInvalid(f"invalid bag {path}: {_describe(exc, bag)}") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise BagInvalid(f"invalid bag {path}: {exc}") from None
    tag_manifests = list(bag.tagmanifest_files())
    if not tag_manifests:
        raise BagInvalid(f"invalid bag {path}: it has no tag manifest")
    listed = bag.tagfile_entries()
    for name in required_tag_files:
        if not (path / name).is_file():
            raise BagInvalid(f"invalid bag {path}: {name} is missing")
        if set(listed.get(os.path.normpath(name), {})) < set(bag.algorithms):
            raise BagInvalid(f"invalid bag {path}: {name} is not in every tag manifest")
    return bag


def payload_checksums(bag: bagit.Bag) -> dict[str, dict[str, str]]:
    """Return ``{payload path: {algorithm: hex digest}}`` from the bag's manifests."""
    return {
        Path(name).as_posix(): {alg: digest.lower() for alg, digest in hashes.items()}
        for name, hashes in bag.payload_entries().items()
    }
