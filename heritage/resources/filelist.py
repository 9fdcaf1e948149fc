"""The files of an item, in order, in a BTree: adding one never rewrites the others.

A PersistentList of 1 000 pages would be re-pickled whole on every added page; an IOBTree
touches one bucket. The sha256 and perceptual-hash indexes make the duplicate check and the
"already stored" check at ingest independent of the item's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

BANDS = 8


def _bands(dhash: int) -> list[tuple[int, int]]:
    return [(i, (dhash >> (8 * i)) & 0xFF) for i in range(BANDS)]


def _signed(dhash: int) -> int:
    """Map an unsigned 64-bit hash to the signed range an LOBTree key takes."""
    return dhash - (1 << 64) if dhash >= 1 << 63 else dhash


def _unsigned(key: int) -> int:
    return key + (1 << 64) if key < 0 else key


class FileList(Persistent):
    __name__ = "files"
    __parent__: Any = None
    #: number → tombstone dict of each deaccessioned file (made on the first removal).
    removed: IOBTree | None = None

    def __init__(self) -> None:
        self.data = IOBTree()  # position → File
        self._count = Length()
        self._next = Length(1)
        self.by_sha256 = OOBTree()  # sha256 → file name
        self.by_dhash = LOBTree()  # signed 64-bit dHash → file name
        self.derived = Length()  # bumped whenever a file's summary changes: keys manifests
        self.summary = IOBTree()  # position → what a manifest needs of the file
        self.dhash_of = OOBTree()  # file name → dHash
        self.by_band = OOBTree()  # (band, byte of the dHash) → names: near-duplicate lookup

    def append(self, f: Any, number: int | None = None) -> Any:
        """Add ``f`` as the next file, or as file ``number`` (an item re-imported from a bag
        keeps its numbers, so image ids and the events naming files stay true)."""
        if number is None:
            number = self._next()
        elif number < self._next():
            raise ValueError(f"file number {number} is taken or was used before")
        self._next.set(number + 1)
        f.__name__, f.__parent__ = str(number), self.__parent__
        self.data[number] = f
        self._count.change(1)
        self.refresh(f)
        if f.sha256:
            self.by_sha256.setdefault(f.sha256, f.__name__)
        return f

    def remove(self, name: str, tombstone: dict[str, Any] | None = None) -> Any:
        """Take file ``name`` out of the list and its indexes; return it.

        Its number is never given to another file (the counter only grows), so an image id
        or a PREMIS identifier always means one master. ``tombstone`` (what remains known of
        it: identifiers, checksums, the reason) is kept under its number.

        :raises KeyError: there is no such file.
        """
        f = self[name]
        number = int(f.__name__)
        del self.data[number]
        self._count.change(-1)
        self.summary.pop(number, None)
        if f.sha256 and self.by_sha256.get(f.sha256) == f.__name__:
            del self.by_sha256[f.sha256]
        self._forget_dhash(f.__name__)
        if tombstone is not None:
            if self.removed is None:
                self.removed = IOBTree()
            self.removed[number] = dict(tombstone)
        self.derived.change(1)  # a new manifest (and cache key) without it
        return f

    def _forget_dhash(self, name: str) -> None:
        dhash = self.dhash_of.pop(name, None)
        if dhash is None:
            return
        bands = _bands(dhash)
        for key in bands:
            names = tuple(n for n in self.by_band.get(key, ()) if n != name)
            if names:
                self.by_band[key] = names
            else:
                self.by_band.pop(key, None)
        signed = _signed(dhash)
        if self.by_dhash.get(signed) == name:
            # Another page with the very same hash keeps the exact-hash entry.
            twins = sorted(
                {
                    n
                    for key in bands
                    for n in self.by_band.get(key, ())
                    if self.dhash_of[n] == dhash
                },
                key=int,
            )
            if twins:
                self.by_dhash[signed] = twins[-1]
            else:
                del self.by_dhash[signed]

    def removed_files(self) -> Iterator[dict[str, Any]]:
        """Yield the tombstones of deaccessioned files, by number."""
        return iter(self.removed.values()) if self.removed is not None else iter(())

    @property
    def next_number(self) -> int:
        """The number the next file will get (numbers are never reused)."""
        return self._next()

    def reserve_through(self, number: int) -> None:
        """Never hand out numbers up to ``number`` (files that existed elsewhere)."""
        self._next.set(max(number + 1, self._next()))

    def refresh(self, f: Any) -> None:
        """Record what a manifest needs of ``f``: a manifest of 1 000 pages then reads these
        buckets instead of loading 1 000 files. Call it whenever those facts change."""
        md = f.__dict__.get("techmd") or {}
        self.summary[int(f.__name__)] = {
            "name": f.__name__,
            "filename": f.filename,
            "mimetype": f.mimetype,
            "label": f.label,
            "width": md.get("width"),
            "height": md.get("height"),
            "orientation": md.get("orientation"),
            "duration": md.get("duration"),
            "pyramid": dict(f.derivatives) if f.derivatives else None,
        }
        self.derived.change(1)

    def summaries(self) -> Iterator[dict[str, Any]]:
        return iter(self.summary.values())

    def remember_dhash(self, f: Any, dhash: int) -> None:
        self.by_dhash[_signed(dhash)] = f.__name__
        self.dhash_of[f.__name__] = dhash
        for key in _bands(dhash):
            self.by_band[key] = (*self.by_band.get(key, ()), f.__name__)

    def near_dhashes(self, dhash: int, distance: int) -> Iterator[tuple[int, str]]:
        """Yield ``(dhash, name)`` of every file that may be within ``distance`` bits.

        Two hashes within 7 bits share at least one of their 8 bytes (pigeonhole), so only
        the files in those byte buckets are candidates: the cost follows the number of
        similar pages, not the size of the item. Larger distances scan every hash.
        """
        if distance >= BANDS:
            yield from self.dhashes()
            return
        names = {n for key in _bands(dhash) for n in self.by_band.get(key, ())}
        for name in sorted(names, key=int):
            yield self.dhash_of[name], name

    def dhashes(self) -> Iterator[tuple[int, str]]:
        """Yield ``(dhash, file name)``: plain ints in buckets, no File is loaded."""
        for key, name in self.by_dhash.items():
            yield _unsigned(key), name

    def name_for_sha256(self, sha256: str) -> str | None:
        return self.by_sha256.get(sha256)

    def get(self, name: str) -> Any:
        try:
            return self.data.get(int(name))
        except (TypeError, ValueError):
            return None

    def __getitem__(self, name: str) -> Any:
        f = self.get(name)
        if f is None:
            raise KeyError(name)
        return f

    def __len__(self) -> int:
        return self._count()

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data.values())

    def first(self) -> Any:
        return self.data[self.data.minKey()] if len(self) else None
