"""Fixity-audit throughput over synthetic masters, beside ``sha256sum`` on the same files.

    .venv/bin/python benchmarks/audit.py [--files 40] [--size-mb 25] [--photos 500]
                                         [--repeat 3] [--dir DIR]

Makes ``--files`` masters of ``--size-mb`` MB (random bytes: the audit reads bytes, whatever
their format), stores them as blobs in a FileStorage (one item), then times, over the very
blob files the audit reads:

- ``sha256sum`` (coreutils), one process for all the files: the peer;
- ``audit_file`` (``digitization.audit``: 4 MiB reads into one buffer, sha256 only);
- ``hashlib.file_digest`` (one thread, 256 KiB reads) and ``compute_fixity`` (the ingest's
  sha256 + md5), for reference;
- ``run_audit`` (``heritage.audit``): the whole audit, with its transactions, events and
  failure bookkeeping.

Each is timed cold and warm. Then ``--photos`` masters of 200 KB, one item each (a
collection of single photographs), compare ``run_audit`` with ``sha256sum`` in files per
second: what an audit's events and commits cost per file.

Cold: every file's pages are dropped from the page cache before the run with
``posix_fadvise(DONTNEED)``, which needs no root (``/proc/sys/vm/drop_caches`` does); where
util-linux ``fincore`` exists the benchmark checks that nothing stayed resident. Warm: the
files are read once first. The tools take turns, ``--repeat`` rounds per cache state, and
each one's best round counts. ``run_audit`` drops the pages it has read (an audit should
not push the tiles out of the cache), so it is timed cold only.
On a virtual machine "cold" means "not in this guest's cache": the host may still hold the
blocks, so cold figures say more about the ratios than about the disk. Nothing here asserts
a time; the machine is noisy, so compare the ratios within one run
(../shared/design/PERFORMANCE.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0]; keep it off the path so that no benchmark
# module shadows a library that heritage imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from digitization.audit import audit_file  # noqa: E402
from digitization.fixity import compute_fixity  # noqa: E402
from heritage import evolve  # noqa: E402
from heritage.audit import run_audit  # noqa: E402
from heritage.db import connection, open_db  # noqa: E402
from heritage.metadata import validate_record  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402

ITEM_ID = "bench-ms-0001"


@dataclass
class Row:
    what: str
    cache: str
    seconds: float
    nbytes: int

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / 1e6 / self.seconds


def make_masters(folder: Path, count: int, size: int) -> list[Path]:
    """Write ``count`` distinct files of ``size`` bytes (one random block, a unique head)."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(size)
    paths = []
    for n in range(count):
        path = folder / f"master-{n:04d}.tif"
        with open(path, "wb") as f:
            f.write(n.to_bytes(8, "big"))
            f.write(memoryview(block)[8:])
        paths.append(path)
    return paths


def store(
    db_dir: Path, masters: list[Path], *, one_item_each: bool = False
) -> tuple[object, list[tuple[Path, int, str]]]:
    """Store the masters as blobs of one item (or an item each, as single photographs);
    return the DB and ``(blob path, size, sha256)`` of each."""
    db_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(f"file://{db_dir}/Data.fs?blobstorage_dir={db_dir}/blobs")
    evolve.prepare(db)
    with connection(db) as (conn, tm):
        with tm:
            root = conn.root()[APP_ROOT]
            inst = root.institutions.add("bench", Institution({"en": "Bench"}, country="MY"))
            coll = root.add_collection(inst, "bench-ms", Collection({"en": "Bench"}))
            record = validate_record({"title": [{"value": "Bench", "lang": "en"}]})
            ids = [f"bench-ph-{n:05d}" for n in range(len(masters))] if one_item_each else []
            item = None
            for n, path in enumerate(masters):
                if item is None or one_item_each:
                    item = coll.add_item(Item(ids[n] if ids else ITEM_ID, record, state="capture"))
                item.add_file(path, path.name)  # a hard link into the blob directory
        with tm:
            items = conn.root()[APP_ROOT].items
            blobs = [
                (Path(f.blob.committed()), f.size, f.sha256)
                for item_id in ids or [ITEM_ID]
                for f in items[item_id].files
            ]
    return db, blobs


def drop(paths: list[Path]) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages (a master just written) cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def resident(paths: list[Path]) -> int | None:
    """Bytes of ``paths`` in the page cache, by util-linux ``fincore`` (None without it)."""
    if not shutil.which("fincore"):
        return None
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    return sum(int(x) for x in out.stdout.split() if x.isdigit())


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="number of masters (40)")
    parser.add_argument("--size-mb", type=float, default=25, help="size of each, in MB (25)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per cache state (3)")
    parser.add_argument(
        "--photos",
        type=int,
        default=500,
        help="then: this many 200 KB masters, one item each (500; 0 skips)",
    )
    parser.add_argument("--dir", help="work folder (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    size = int(args.size_mb * 1e6)
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="audit-bench-"))
    sha256sum = shutil.which("sha256sum")
    try:
        print(f"making {args.files} masters of {size / 1e6:.0f} MB in {work} …", flush=True)
        masters = make_masters(work / "staging", args.files, size)
        db, blobs = store(work / "db", masters)
        paths = [p for p, _, _ in blobs]
        total = sum(s for _, s, _ in blobs)

        def peer() -> None:
            out = subprocess.run(
                [sha256sum, "--binary", *map(str, paths)], capture_output=True, text=True
            )
            assert out.returncode == 0, out.stderr
            assert [line.split()[0] for line in out.stdout.splitlines()] == [s for _, _, s in blobs]

        def ours(drop_cache: bool) -> Callable[[], None]:
            def run() -> None:
                for path, size_, sha in blobs:
                    assert audit_file(path, size=size_, sha256=sha, drop_cache=drop_cache).ok

            return run

        def single_thread() -> None:
            for path, _, sha in blobs:
                with open(path, "rb") as f:
                    assert hashlib.file_digest(f, "sha256").hexdigest() == sha

        def ingest_fixity() -> None:
            for path, _, sha in blobs:
                assert compute_fixity(path).sha256 == sha

        def whole_audit() -> None:
            summary = run_audit(db, None, user="benchmark")
            assert summary.files == len(blobs) and not summary.failures

        tools: list[tuple[str, Callable[[], None] | None, bool]] = [
            ("sha256sum (coreutils, one process)", peer if sha256sum else None, True),
            ("audit_file (4 MiB reads, one buffer)", ours(False), True),
            ("hashlib.file_digest (one thread)", single_thread, True),
            ("compute_fixity (ingest: + md5, reader thread)", ingest_fixity, True),
            ("run_audit (events, commits; drops pages)", whole_audit, False),
        ]
        # Rounds: every tool once per round, in turn, so that a busy moment on the shared
        # machine hurts all of them alike; each tool's best round counts.
        best: dict[tuple[str, str], float] = {}
        left: list[int | None] = []
        for cache in ("cold", "warm"):
            if cache == "warm":
                for path in paths:  # read once: every warm run finds them cached
                    with open(path, "rb") as f:
                        while f.read(8 * 1024 * 1024):
                            pass
            for _ in range(max(args.repeat, 1)):
                for name, run, warm_too in tools:
                    if run is None or (cache == "warm" and not warm_too):
                        continue
                    if cache == "cold":
                        drop(paths)
                        left.append(resident(paths))
                    seconds = timed(run)
                    best[name, cache] = min(seconds, best.get((name, cache), seconds))
        rows = [Row(name, cache, seconds, total) for (name, cache), seconds in best.items()]
        db.close()
        _print(rows, args.files, size, left)
        if args.photos and sha256sum:
            _photos(work, args.photos, sha256sum, max(args.repeat, 1))
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _photos(work: Path, count: int, sha256sum: str, repeat: int) -> None:
    """Many small masters, one item each: what the audit's bookkeeping costs per file."""
    size = 200_000
    masters = make_masters(work / "photos", count, size)
    db, blobs = store(work / "photos-db", masters, one_item_each=True)
    paths = [str(p) for p, _, _ in blobs]

    def peer() -> None:
        subprocess.run([sha256sum, "--binary", *paths], capture_output=True, check=True)

    def whole_audit() -> None:
        summary = run_audit(db, None, user="benchmark")
        assert summary.files == count and not summary.failures

    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, run in (("sha256sum", peer), ("run_audit", whole_audit)):
            drop([Path(p) for p in paths])
            seconds = timed(run)
            best[name] = min(seconds, best.get(name, seconds))
    db.close()
    print()
    print(f"{count} masters × {size / 1e3:.0f} KB, one item each, cold:")
    for name, seconds in best.items():
        print(
            f"  {name:10} {seconds:6.2f} s {count / seconds:7.0f} files/s "
            f"{count * size / 1e6 / seconds:6.0f} MB/s"
        )


def _print(rows: list[Row], files: int, size: int, left: list[int | None]) -> None:
    peer = {r.cache: r for r in rows if r.what.startswith("sha256sum")}
    print()
    print(f"{files} masters × {size / 1e6:.0f} MB = {files * size / 1e9:.2f} GB, blob files")
    if left and None not in left:
        print(f"most left in the page cache after a drop (fincore): {max(left) / 1e6:.1f} MB")
    print(f"{'what':46} {'cache':5} {'seconds':>8} {'MB/s':>8} {'vs sha256sum':>13}")
    for cache in ("cold", "warm"):
        for r in rows:
            if r.cache != cache:
                continue
            ratio = f"{r.mb_per_s / peer[cache].mb_per_s:.2f}×" if cache in peer else ""
            print(f"{r.what:46} {r.cache:5} {r.seconds:8.2f} {r.mb_per_s:8.0f} {ratio:>13}")
    print()
    print(
        "cold: pages dropped per file with posix_fadvise(DONTNEED) before each run (no root "
        "needed); warm: after one read. Best of the rounds, tools taking turns. The machine "
        "is shared and noisy: compare ratios within this run."
    )


if __name__ == "__main__":
    sys.exit(main())
