"""Export and import of a bag, in MB/s per stage, beside the shell tools on the same files.

    .venv/bin/python benchmarks/bags.py [--files 10] [--size-mb 32] [--processes 1] [--dir DIR]

Makes ``--files`` masters of ``--size-mb`` MB (random bytes: packaging reads bytes, whatever
their format) as blobs of one item in a FileStorage, then times:

- ``export_item``: copy (each master read once, sha256 + md5 checked, written and fsynced),
  bag (bagit's sha256 + sha512 manifests: one more read), validate (bagit's full validation:
  one more read), and the whole;
- ``import_bag`` into a second FileStorage: validate, copy into staging (sha256 checked),
  store (the blobs, the item and its events in one transaction), and the whole;
- the shell's floor for the same work: ``cp`` of the masters, then ``sha256sum`` and
  ``sha512sum`` over the copies.

The page cache is warm (the files were just written), as it is on a machine with the RAM
for the item; a cold disk adds its read time to each pass. Nothing here asserts a time: the
machine is shared and noisy, so compare the ratios within one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0]; keep it off the path so that no benchmark
# module shadows a library that heritage imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from heritage import evolve  # noqa: E402
from heritage.db import connection, open_db  # noqa: E402
from heritage.metadata import validate_record  # noqa: E402
from heritage.packages import export_item, import_bag  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402

ITEM_ID = "bench-ms-0001"


def _db(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    db = open_db(f"file://{folder}/Data.fs?blobstorage_dir={folder}/blobs")
    evolve.prepare(db)
    with connection(db) as (conn, tm), tm:
        root = conn.root()[APP_ROOT]
        inst = root.institutions.add("bench", Institution({"en": "Bench"}, country="MY"))
        root.add_collection(inst, "bench-ms", Collection({"en": "Bench"}))
    return db


def make_source(folder: Path, files: int, size: int) -> object:
    db = _db(folder)
    staging = folder / "staging"
    staging.mkdir()
    with connection(db) as (conn, tm), tm:
        root = conn.root()[APP_ROOT]
        item = Item(ITEM_ID, validate_record({"title": [{"value": "Bench", "lang": "en"}]}))
        root.collections["bench-ms"].add_item(item)
        for n in range(files):
            path = staging / f"m{n:04d}.tif"
            with open(path, "wb") as out:
                for _ in range(size // (1 << 20)):
                    out.write(os.urandom(1 << 20))
            f = item.add_file(path, path.name, mimetype="application/octet-stream")
            item.events.record("ingestion", objects=(f"{ITEM_ID}/{f.__name__}",))
    return db


class Clock:
    """A progress callback that notes when each stage starts and ends."""

    def __init__(self) -> None:
        self.starts: dict[str, float] = {}
        self.ends: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.starts.setdefault(stage, now)
        self.ends[stage] = now

    def seconds(self, stage: str) -> float:
        return self.ends[stage] - self.starts[stage]


def row(what: str, seconds: float, mb: float) -> None:
    print(f"  {what:<34} {seconds:7.2f} s  {mb / seconds:8.0f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--size-mb", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1, help="bagit hashing processes")
    parser.add_argument("--dir", help="work here (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-bags-", dir=args.dir))
    mb = args.files * args.size_mb * (1 << 20) / 1e6
    try:
        source = make_source(work / "a", args.files, args.size_mb << 20)
        target = _db(work / "b")
        print(f"{args.files} masters of {args.size_mb} MiB ({mb:,.0f} MB), warm page cache")

        print("export_item")
        clock = Clock()
        t0 = time.perf_counter()
        with connection(source) as (conn, tm), tm:
            export_item(
                conn.root()[APP_ROOT],
                ITEM_ID,
                work / "bag",
                progress=clock,
                processes=args.processes,
            )
        whole = time.perf_counter() - t0
        for stage in ("copy", "bag", "validate"):
            row(stage, clock.seconds(stage), mb)
        row("whole export", whole, mb)

        print("import_bag")
        clock = Clock()
        t0 = time.perf_counter()
        import_bag(
            target,
            work / "bag",
            staging_dir=work / "b" / "staging",
            progress=clock,
            processes=args.processes,
        )
        whole = time.perf_counter() - t0
        for stage in ("validate", "copy", "store"):
            row(stage, clock.seconds(stage), mb)
        row("whole import", whole, mb)

        print("shell, same masters")
        masters = sorted((work / "bag" / "data" / "masters").iterdir())
        copies = work / "copies"
        copies.mkdir()
        for tool in (
            ["cp", *map(str, masters), str(copies)],
            ["sha256sum", *map(str, masters)],
            ["sha512sum", *map(str, masters)],
        ):
            t0 = time.perf_counter()
            subprocess.run(tool, check=True, stdout=subprocess.DEVNULL)
            row(tool[0], time.perf_counter() - t0, mb)
        source.close()
        target.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
