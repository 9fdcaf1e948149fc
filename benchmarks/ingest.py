"""Time each stage of ingest on synthetic masters, beside its peer, and check it stays flat.

    .venv/bin/python benchmarks/ingest.py [--pages 20] [--big-item 1000] [--meta-files 100]

Stages, on ``--pages`` uncompressed 3000×4000 RGB TIFFs (300 dpi, sRGB ICC, 36 MB each):
checksums (``compute_fixity``, with and without ``copy_to``) vs coreutils ``sha256sum``, cold
page cache (dropped when we may) and warm; technical metadata through one exiftool process vs
one process per file; fido; QA (``check_image``); derivatives (``build_pyramid``) serially and
with two processes. Then a ``--big-item``-page item (600×800 JPEGs) goes through the real
path, examine + ``store_examined`` one transaction per file into a FileStorage with blobs,
and the time per file at its start and at its end are compared (``--big-item 0`` skips it).

The machine is noisy: compare ratios within one run, never absolute times across runs
(../shared/design/PERFORMANCE.md, "Ingest"). Nothing here asserts a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0], and benchmarks/pyramid.py would shadow the
# Pyramid web framework that heritage imports: take the folder off the path first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import transaction  # noqa: E402
from PIL import Image, ImageCms  # noqa: E402

from digitization.derivatives import build_pyramid  # noqa: E402
from digitization.fixity import compute_fixity  # noqa: E402
from digitization.formats import Identifier  # noqa: E402
from digitization.ingest import Examined, Examiner  # noqa: E402
from digitization.qa import Thresholds, check_duplicate, check_image  # noqa: E402
from digitization.samples import make_sample_page  # noqa: E402
from digitization.techmd import ExifTool  # noqa: E402

WIDTH, HEIGHT = 3000, 4000
SMALL_WIDTH, SMALL_HEIGHT = 600, 800
WORKERS = 2
ITEM_ID = "bench-ms-0001"
FLAT = 1.3  # end/start ratio of the time per file under which an item counts as flat


@dataclass
class Row:
    stage: str
    files: int
    seconds: float
    nbytes: int = 0
    peer: str = ""

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else math.inf

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / 1e6 / self.seconds if self.seconds else math.inf


ROWS: list[Row] = []


def record(stage: str, files: int, seconds: float, nbytes: int = 0, peer: str = "") -> Row:
    row = Row(stage, files, seconds, nbytes, peer)
    ROWS.append(row)
    mb = f", {row.mb_per_s:7.0f} MB/s" if nbytes else ""
    extra = f"   {peer}" if peer else ""
    print(f"  {stage:<46} {row.files_per_s:8.1f} files/s{mb}  ({seconds:.2f} s){extra}")
    return row


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# -- page cache ----------------------------------------------------------------------------------


def drop_caches() -> bool:
    """Empty the page cache (root only): the next read of every file comes from the disk."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        return False
    return True


def warm(paths: Sequence[Path]) -> None:
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass


# -- masters -------------------------------------------------------------------------------------


def _srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def make_master(args: tuple[Path, int]) -> Path:
    """A 3000×4000 page as a capture station saves it: uncompressed TIFF, 300 dpi, sRGB."""
    folder, n = args
    lzw = make_sample_page(
        folder / f"tmp-{n}.tif", seed=n, page_no=n, width=WIDTH, height=HEIGHT, fmt="TIFF"
    )
    path = folder / f"page-{n:03}.tif"
    with Image.open(lzw) as im:
        # Pillow would keep the LZW of the file it read: ask for no compression.
        im.save(path, "TIFF", compression="raw", dpi=(300, 300), icc_profile=_srgb())
    lzw.unlink()
    return path


def make_small(args: tuple[Path, int]) -> Path:
    folder, n = args
    path = folder / f"p{n:04}.jpg"
    return make_sample_page(
        path, seed=1000 + n, page_no=n, width=SMALL_WIDTH, height=SMALL_HEIGHT, fmt="JPEG"
    )


def make_all(make: Callable[[tuple[Path, int]], Path], folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(WORKERS) as pool:
        return list(pool.map(make, [(folder, n) for n in range(1, count + 1)], chunksize=8))


# -- stages --------------------------------------------------------------------------------------


def bench_checksums(masters: list[Path], staging: Path, cold: bool) -> None:
    total = sum(p.stat().st_size for p in masters)
    sha256sum = shutil.which("sha256sum")
    how = "cold cache" if cold else "warm cache"

    def prepare() -> None:
        if cold:
            drop_caches()
        else:
            warm(masters)

    def plain() -> None:
        for p in masters:
            compute_fixity(p)

    def copying() -> None:
        for i, p in enumerate(masters):
            compute_fixity(p, copy_to=staging / f"{i}-{p.name}")

    def peer() -> None:
        subprocess.run([sha256sum, *map(str, masters)], check=True, capture_output=True)

    def raw() -> None:
        for p in masters:
            with open(p, "rb", buffering=0) as f:
                while f.read(1 << 20):
                    pass

    print(f"checksums, {how}, {len(masters)} files, {total / 1e6:.0f} MB:")
    prepare()
    raw_row = record(f"raw read, 1 MiB reads ({how})", len(masters), timed(raw), total)
    prepare()
    ours = record(f"compute_fixity, sha256+md5 ({how})", len(masters), timed(plain), total)
    prepare()
    copy_row = record(
        f"compute_fixity + copy_to, fsync ({how})", len(masters), timed(copying), total
    )
    for f in staging.iterdir():
        f.unlink()
    if sha256sum is None:
        print("  sha256sum: skipped, not on PATH")
        return
    prepare()
    theirs = record(f"sha256sum, one process ({how})", len(masters), timed(peer), total)
    for row in (ours, copy_row):
        row.peer = f"{row.mb_per_s / theirs.mb_per_s:.0%} of sha256sum"
    if not cold:  # where compute_fixity's time goes: both digests run in one thread

        def digest(name: str) -> Callable[[], None]:
            def run() -> None:
                for p in masters:
                    h = hashlib.new(name)
                    with open(p, "rb", buffering=0) as f:
                        while chunk := f.read(1 << 20):
                            h.update(chunk)

            return run

        for name in ("sha256", "md5"):
            record(f"hashlib {name} alone ({how})", len(masters), timed(digest(name)), total)
    print(
        f"  → compute_fixity at {ours.mb_per_s / theirs.mb_per_s:.0%} of sha256sum's speed, "
        f"with copy_to {copy_row.mb_per_s / theirs.mb_per_s:.0%}; "
        f"{ours.mb_per_s / raw_row.mb_per_s:.0%} of a raw read"
    )


def bench_metadata(masters: list[Path], count: int) -> None:
    files = [masters[i % len(masters)] for i in range(max(count, len(masters)))]
    exiftool = shutil.which("exiftool")
    print(f"technical metadata, {len(files)} extractions over {len(masters)} files, warm cache:")
    warm(masters)

    with_start = 0.0
    steady = 0.0

    def one_process() -> None:
        nonlocal steady
        with ExifTool() as et:
            start = time.perf_counter()
            for p in files:  # per file in one session, as Examiner.examine does
                et.extract(p)
            steady = time.perf_counter() - start

    with_start = timed(one_process)
    ours = record("exiftool, one process, incl. start-up", len(files), with_start)
    record("exiftool, one process, steady", len(files), steady)
    many = 0.0

    def batch() -> None:
        nonlocal many
        with ExifTool() as et:
            start = time.perf_counter()
            et.extract_many(files)
            many = time.perf_counter() - start

    timed(batch)
    record("exiftool, one process, extract_many", len(files), many)
    if exiftool is None:
        print("  exiftool per file: skipped, not on PATH")
        return

    def per_file() -> None:
        for p in files:
            subprocess.run([exiftool, "-G", "-j", "-n", str(p)], check=True, capture_output=True)

    theirs = record("exiftool, one process per file", len(files), timed(per_file))
    ratio = ours.files_per_s / theirs.files_per_s
    ours.peer = f"{ratio:.1f}× one process per file"
    verdict = "meets" if ratio >= 10 else "BELOW"
    print(f"  → one process is {ratio:.1f}× one process per file ({verdict} the 10× target)")


def bench_identify(masters: list[Path]) -> None:
    print("format identification (fido):")
    start = time.perf_counter()
    identifier = Identifier()
    loaded = time.perf_counter() - start
    seconds = timed(lambda: [identifier.identify(p, exiftool_mime="image/tiff") for p in masters])
    record("fido identify", len(masters), seconds, peer=f"signatures loaded in {loaded:.2f} s")


def bench_qa(masters: list[Path]) -> None:
    print("QA (check_image: full decode + checks), warm cache:")
    with ExifTool() as et:
        techmd = et.extract_many(masters)
    thresholds = Thresholds()
    failed: set[str] = set()

    def run() -> None:
        for p, md in zip(masters, techmd, strict=True):
            failed.update(c.name for c in check_image(p, md, thresholds).failed)

    total = sum(p.stat().st_size for p in masters)
    record("check_image", len(masters), timed(run), total)
    if failed:
        print(f"  (checks failed on the synthetic pages: {', '.join(sorted(failed))})")


def _pyramid(args: tuple[Path, Path]) -> int:
    master, out = args
    build_pyramid(master, out)
    return sum(1 for _ in out.rglob("default.jpg"))


def machine_cpu() -> float:
    """Seconds of CPU all cores have spent busy since boot (user, system, irq, steal)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:  # not Linux
        return math.nan
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def our_cpu() -> float:
    """Seconds of CPU used by this process and its finished (reaped) children."""
    return sum(
        r.ru_utime + r.ru_stime
        for r in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def cores(run: Callable[[], Any]) -> tuple[float, str]:
    """Run ``run``; return its wall time and the cores it (and the whole machine) kept busy."""
    ours, machine = our_cpu(), machine_cpu()
    seconds = timed(run)
    ours, machine = our_cpu() - ours, machine_cpu() - machine
    return seconds, f"{ours / seconds:.2f} cores busy ({machine / seconds:.2f} machine-wide)"


def bench_derivatives(masters: list[Path], work: Path) -> None:
    print("derivatives (build_pyramid, 512-px JPEG tiles, q 85):")
    jobs = [(p, work / "serial" / p.stem) for p in masters]
    tiles: list[int] = []
    serial, busy = cores(lambda: tiles.extend(_pyramid(j) for j in jobs))
    record("build_pyramid, serial", len(masters), serial, peer=busy)
    print(f"    ({sum(tiles)} tile files, {sum(tiles) // len(tiles)} per page)")

    jobs = [(p, work / "pool" / p.stem) for p in masters]

    def pooled() -> None:
        with ProcessPoolExecutor(WORKERS) as pool:  # its workers are reaped at shutdown
            list(pool.map(_pyramid, jobs))

    seconds, busy = cores(pooled)
    record(
        f"build_pyramid, {WORKERS}-process pool",
        len(masters),
        seconds,
        peer=f"{serial / seconds:.2f}× serial; {busy}",
    )
    print(
        f"    (cores busy: CPU time over wall time, of {os.cpu_count()}; machine-wide above "
        "ours is other work competing for the cores)"
    )
    shutil.rmtree(work)


# -- a 1000-page item through the real path ------------------------------------------------------


def bench_big_item(count: int, work: Path) -> None:
    from heritage.db import open_db
    from heritage.evolve import bootstrap
    from heritage.ingest import known_checker, store_examined, thresholds_for
    from heritage.metadata import validate_record
    from heritage.resources.collection import Collection
    from heritage.resources.institution import Institution
    from heritage.resources.item import Item
    from heritage.resources.root import APP_ROOT

    print(f"a {count}-page item, {SMALL_WIDTH}×{SMALL_HEIGHT} JPEG pages, through the real path:")
    start = time.perf_counter()
    pages = make_all(make_small, work / "pages", count)
    print(f"  generated in {time.perf_counter() - start:.1f} s")

    db = open_db(f"file://{work}/Data.fs?blobstorage_dir={work}/blobs")
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    with tm:
        root = bootstrap(conn.root())
        institution = root.institutions.add(
            "bench", Institution({"en": "Benchmark Library"}, country="MY")
        )
        collection = root.add_collection(
            institution, "bench-manuscripts", Collection({"en": "Manuscripts"})
        )
        # The pages are small and have no ICC profile; QA should pass so that nothing is
        # special about them. Duplicates are still checked against every page.
        collection.qa = {"min_width": 500, "min_height": 500, "require_icc": False}
        metadata = validate_record({"title": [{"value": "Benchmark", "lang": "en"}]})
        collection.add_item(Item(ITEM_ID, metadata))

    def store(examined: Examined, examiner: Examiner) -> str:
        """As heritage/scripts/ingest.py ``_store``: one transaction per file."""
        for attempt in tm.attempts():
            with attempt:
                app = conn.root()[APP_ROOT]
                item = app.items[ITEM_ID]
                if item.files.name_for_sha256(examined.fixity.sha256):
                    examined.discard()
                    return "skipped"
                f = store_examined(
                    item,
                    examined,
                    user="operator:bench",
                    software=examiner.software,
                    enqueue=app.jobs.add,
                )
                tm.get().note(f"bench ingest: {examined.filename} as file {f.__name__}")
        return "flagged" if examined.qa is not None and not examined.qa.passed else "stored"

    totals: list[float] = []
    stores: list[float] = []
    duplicate_checks: list[float] = []
    outcomes: dict[str, int] = {}
    flagged: dict[str, int] = {}
    load_before = os.getloadavg()[0]
    with Examiner(work / "var" / "staging", max_pixels=400_000_000) as examiner:
        begun = time.perf_counter()
        for path in pages:
            t0 = time.perf_counter()
            tm.begin()  # as heritage ingest: see what others committed since the last file
            item = conn.root()[APP_ROOT].items[ITEM_ID]
            examined = examiner.examine(path, thresholds_for(item), known=known_checker(item))
            t1 = time.perf_counter()
            if examined.qa is not None:  # a probe, outside the timings: store_examined's
                # duplicate check alone, the one step that reads something per stored page
                check_duplicate(
                    examined.fixity.sha256,
                    examined.qa.dhash,
                    same_sha=None,
                    near=item.files.dhashes(),
                    thresholds=thresholds_for(item),
                )
                duplicate_checks.append(time.perf_counter() - t1)
            tm.abort()
            t1b = time.perf_counter()
            if examined.rejection:
                outcome = "rejected"
            elif examined.skipped:
                outcome = "skipped"
            else:
                outcome = store(examined, examiner)
            t2 = time.perf_counter()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == "flagged":
                for check in examined.qa.failed:
                    flagged[check.name] = flagged.get(check.name, 0) + 1
                    if check.name == "duplicate":
                        print(f"    {examined.filename}: {check.message}")
            totals.append(t2 - t1b + t1 - t0)
            stores.append(t2 - t1b)
        elapsed = time.perf_counter() - begun
        load_after = os.getloadavg()[0]

    with tm:
        item = conn.root()[APP_ROOT].items[ITEM_ID]
        stored, jobs = len(item.files), len(conn.root()[APP_ROOT].jobs)
    conn.close()
    db.close()
    size = (work / "Data.fs").stat().st_size
    print(
        f"  {count} files in {elapsed:.1f} s ({count / elapsed:.1f} files/s); "
        f"{', '.join(f'{n} {o}' for o, n in sorted(outcomes.items()))}; "
        f"item holds {stored} files, {jobs} jobs queued; Data.fs {size / 1e6:.1f} MB"
    )
    print(
        f"  load average {load_before:.1f} before, {load_after:.1f} after "
        f"(on {os.cpu_count()} cores: above that, others' work is in these times)"
    )
    if flagged:
        print(f"  flagged by: {', '.join(f'{k} ({n})' for k, n in sorted(flagged.items()))}")
    record(f"ingest into a {count}-page item, whole path", count, elapsed)

    head, tail = slice(0, 20), slice(count - 20, count)
    label_head, label_tail = "files 1–20", f"files {count - 19}–{count}"
    for what, times in (
        ("per file (examine + store)", totals),
        ("store transaction", stores),
        ("duplicate check (probe)", duplicate_checks),
    ):
        a, b = times[head], times[tail]
        ratio = statistics.mean(b) / statistics.mean(a)
        verdict = "flat" if ratio < FLAT else "NOT FLAT"
        if times is duplicate_checks:  # compares with every stored page: grows by design
            verdict = "O(pages): one distance per stored page"
        print(
            f"  {what:<27} {label_head}: mean {statistics.mean(a) * 1e3:6.1f} ms, "
            f"p90 {p90(a) * 1e3:6.1f} ms | {label_tail}: mean {statistics.mean(b) * 1e3:6.1f} ms, "
            f"p90 {p90(b) * 1e3:6.1f} ms | {ratio:.2f}× → {verdict}"
        )
    a, b = totals[head], totals[tail]
    ROWS[-1].peer = (
        f"last 20 / first 20: {statistics.mean(b) / statistics.mean(a):.2f}× mean, "
        f"{p90(b) / p90(a):.2f}× p90"
    )


def p90(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[8]


# -- main ----------------------------------------------------------------------------------------


def table() -> None:
    print()
    print(f"{'stage':<46} {'files/s':>9} {'MB/s':>7}  vs peer / notes")
    print("-" * 100)
    for row in ROWS:
        mb = f"{row.mb_per_s:7.0f}" if row.nbytes else " " * 7
        print(f"{row.stage:<46} {row.files_per_s:9.1f} {mb}  {row.peer}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=20, help="3000×4000 TIFF masters")
    parser.add_argument(
        "--big-item", type=int, default=1000, help="pages of the flatness test (0 skips it)"
    )
    parser.add_argument("--meta-files", type=int, default=100, help="exiftool extractions")
    args = parser.parse_args()
    if args.pages < 1 or (args.big_item and args.big_item < 40):
        parser.error("--pages must be at least 1 and --big-item 0 or at least 40")

    began = time.perf_counter()
    can_drop = drop_caches()
    print(
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); "
        f"Python {sys.version.split()[0]}; Pillow {Image.__version__}; "
        + (
            "page cache dropped before each cold run"
            if can_drop
            else "cannot drop the page cache (not root): every run is warm, warmed the same way"
        )
    )
    with tempfile.TemporaryDirectory(prefix="ingest-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        masters = make_all(make_master, work / "masters", args.pages)
        total = sum(p.stat().st_size for p in masters)
        print(
            f"{len(masters)} masters {WIDTH}×{HEIGHT} uncompressed RGB TIFF, 300 dpi, sRGB: "
            f"{total / 1e6:.0f} MB, made in {time.perf_counter() - start:.1f} s ({tmp})"
        )
        staging = work / "staging"
        staging.mkdir()
        if can_drop:
            bench_checksums(masters, staging, cold=True)
        bench_checksums(masters, staging, cold=False)
        bench_metadata(masters, args.meta_files)
        bench_identify(masters)
        bench_qa(masters)
        bench_derivatives(masters, work / "derivatives")
        shutil.rmtree(work / "masters")
        if args.big_item:
            bench_big_item(args.big_item, work / "item")
    table()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ntotal run time {time.perf_counter() - began:.0f} s; load average now {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
