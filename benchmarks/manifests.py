"""Time a 1 000-page IIIF manifest: cold and cached over HTTP, the builder alone, iiif-prezi3.

    .venv/bin/python benchmarks/manifests.py [--pages 1000] [--repeat 10] [--cached 300]

A published, public manuscript of ``--pages`` pages (ten sections) goes into a FileStorage
with blobs in a temporary folder, through the real application (``heritage.main``). No
image is ingested: each page is a File with a tiny blob and the pyramid description the
worker would have recorded for a 6000×8000 master, so the manifest is the one a real
1 000-page item gets. Then, through WebTest (in-process WSGI, lint off):

- the first request after start-up (nothing loaded, nothing built);
- cold, ``--repeat`` times: the manifest cache emptied and every ZODB object cache
  minimized first, so the item and its 1 000 files are read back from the storage;
- cold, the manifest cache emptied but the objects still in the connection cache;
- cached, ``--cached`` times; and a revalidation (If-None-Match → 304);
- the builder alone: ``manifest_data`` (reads the item), ``build_manifest`` (plain dicts)
  and ``json.dumps``, on warm objects;
- for comparison, the same manifest through iiif-prezi3's models: ``Manifest(**data)`` and
  ``.json()`` (and the import of iiif_prezi3 itself).

Budgets (../shared/design/PERFORMANCE.md, "Manifests"): under 100 ms for 1 000 pages when
nothing is cached, under 5 ms when it is. The machine is noisy: compare the ratios of one
run, not figures across runs. Nothing here asserts a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0]: keep our files from shadowing any module
# heritage imports (benchmarks/ingest.py does the same).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import gzip  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import transaction  # noqa: E402
import webtest  # noqa: E402
from pyramid.request import Request  # noqa: E402
from pyramid.scripting import prepare  # noqa: E402

from heritage import main  # noqa: E402
from heritage.manifests import manifest_data, manifests  # noqa: E402
from heritage.metadata import validate_record  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.files import File  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402
from iiif.presentation.manifest import build_manifest  # noqa: E402

ITEM_ID = "bench-ms-0001"
URL = f"/iiif/manifests/{ITEM_ID}"
#: What the worker records for a 6000×8000 master (digitization.derivatives.Pyramid).
DERIVATIVES = {
    "version": 1,
    "width": 6000,
    "height": 8000,
    "tile_size": 512,
    "scale_factors": [1, 2, 4, 8, 16],
    "sizes": [[188, 250], [375, 500], [750, 1000], [1500, 2000], [3000, 4000]],
    "quality": 85,
}
COLD_BUDGET_MS, CACHED_BUDGET_MS = 100.0, 5.0
#: ../shared/design/PERFORMANCE.md, "Manifests", 1 000 canvases, measured on this machine kind.
PEER_DICTS_MS, PEER_PREZI3_MS = 15.0, 295.0


def populate(db: Any, pages: int) -> None:
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()[APP_ROOT]
            institution = root.institutions.add(
                "bench",
                Institution(
                    {"en": "Benchmark State Library", "ms": "Pustaka Penanda Aras"}, country="MY"
                ),
            )
            collection = root.add_collection(
                institution, "bench-manuscripts", Collection({"en": "Manuscripts"})
            )
            record = validate_record(
                {
                    "title": [
                        {"value": "Hikayat Seribu Halaman", "lang": "ms"},
                        {"value": "The tale of a thousand pages", "lang": "en"},
                    ],
                    "description": [{"value": "A long manuscript for a benchmark.", "lang": "en"}],
                    "creator": [{"value": "Unknown scribe", "lang": "en"}],
                    "type": [{"value": "Manuscript", "lang": "en"}],
                    "date": ["1850~"],
                    "language": ["ms-Arab"],
                }
            )
            item = collection.add_item(
                Item(
                    ITEM_ID,
                    record,
                    access="public",
                    state="published",
                    rights="http://rightsstatements.org/vocab/NoC-NKC/1.0/",
                    viewing_direction="right-to-left",
                )
            )
            for n in range(1, pages + 1):
                f = File(f"p{n:04d}.tif", mimetype="image/tiff")
                with f.blob.open("w") as blob:
                    blob.write(b"II*\x00 not really a page")
                f.derivatives = dict(DERIVATIVES)
                f.label = {"en": f"page {n}", "ms": f"halaman {n}"}
                item.files.append(f)
            step = max(1, pages // 10)
            item.sections = tuple(
                {
                    "label": {"en": f"Chapter {c + 1}", "ms": f"Bab {c + 1}"},
                    "files": tuple(
                        str(n) for n in range(c * step + 1, min(pages, (c + 1) * step) + 1)
                    ),
                }
                for c in range(-(-pages // step))
            )
            item.touch()
    finally:
        conn.close()


def ms(seconds: float) -> float:
    return seconds * 1000.0


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return ms(time.perf_counter() - start), result


def stats(times: list[float]) -> str:
    if len(times) == 1:
        return f"{times[0]:8.2f} ms"
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    return (
        f"median {statistics.median(times):8.2f} ms   min {min(times):7.2f}   "
        f"{'p95' if len(times) >= 20 else 'max'} {p95:7.2f}   (n={len(times)})"
    )


def verdict(value: float, budget: float) -> str:
    return (
        f"{'within' if value <= budget else 'OVER'} budget ({value / budget:.0%} of {budget:g} ms)"
    )


def bench_http(app: Any, db: Any, repeat: int, cached: int) -> bytes:
    client = webtest.TestApp(app, lint=False)
    first_ms, res = timed(lambda: client.get(URL, status=200))
    body = res.body
    etag = res.headers["ETag"]
    print(f"  {'first request after start-up':<44} {stats([first_ms])}")

    cold_storage = []
    for _ in range(repeat):
        manifests._data.clear()
        db.cacheMinimize()  # every connection's objects become ghosts: read back from storage
        cold_storage.append(timed(lambda: client.get(URL, status=200))[0])
    print(f"  {'cold: no manifest, objects from storage':<44} {stats(cold_storage)}")

    cold_warm = []
    for _ in range(repeat):
        manifests._data.clear()
        cold_warm.append(timed(lambda: client.get(URL, status=200))[0])
    print(f"  {'cold: no manifest, objects in cache':<44} {stats(cold_warm)}")

    hits = [timed(lambda: client.get(URL, status=200))[0] for _ in range(cached)]
    print(f"  {'cached':<44} {stats(hits)}")
    revalidations = [
        timed(lambda: client.get(URL, headers={"If-None-Match": etag}, status=304))[0]
        for _ in range(cached)
    ]
    print(f"  {'cached, If-None-Match → 304':<44} {stats(revalidations)}")
    print(
        f"  response: {len(body):,} bytes, {len(gzip.compress(body)):,} gzipped, "
        f"{len(json.loads(body)['items'])} canvases"
    )
    cold, warm, hit = (statistics.median(t) for t in (cold_storage, cold_warm, hits))
    print(f"  cold (objects from storage), median: {verdict(cold, COLD_BUDGET_MS)}")
    print(f"  cold (objects in cache), median:     {verdict(warm, COLD_BUDGET_MS)}")
    print(f"  cached, median:                      {verdict(hit, CACHED_BUDGET_MS)}")
    return body


def bench_builder(app: Any, repeat: int) -> dict[str, Any]:
    env = prepare(request=Request.blank(URL), registry=app.registry)
    try:
        item = env["root"].items[ITEM_ID]
        request = env["request"]
        manifest_data(item, request)  # load the objects: warm from here on
        reading, building, dumping, whole = [], [], [], []
        data = manifest = None
        for _ in range(repeat):
            t, data = timed(lambda: manifest_data(item, request))
            reading.append(t)
            t, manifest = timed(lambda d=data: build_manifest(d))
            building.append(t)
            t, _ = timed(
                lambda m=manifest: json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode()
            )
            dumping.append(t)
            whole.append(reading[-1] + building[-1] + dumping[-1])
        print(f"  {'manifest_data (reads the item)':<44} {stats(reading)}")
        print(f"  {'build_manifest (plain dicts)':<44} {stats(building)}")
        print(f"  {'json.dumps + encode':<44} {stats(dumping)}")
        print(f"  {'all three':<44} {stats(whole)}")
        dicts = statistics.median(building) + statistics.median(dumping)
        print(
            f"  build_manifest + json.dumps: {dicts:.1f} ms "
            f"(peer figure in PERFORMANCE.md, plain dicts: {PEER_DICTS_MS:g} ms)"
        )
        return {"manifest": manifest, "dicts_ms": dicts}
    finally:
        env["closer"]()


def bench_prezi3(manifest: dict[str, Any], dicts_ms: float, repeat: int) -> None:
    import_ms, prezi3 = timed(lambda: importlib.import_module("iiif_prezi3"))
    print(f"  {'import iiif_prezi3':<44} {stats([import_ms])}")
    construct, serialize = [], []
    for _ in range(repeat):
        t, model = timed(lambda: prezi3.Manifest(**manifest))
        construct.append(t)
        serialize.append(timed(model.json)[0])
    both = statistics.median(construct) + statistics.median(serialize)
    print(f"  {'Manifest(**data)':<44} {stats(construct)}")
    print(f"  {'.json()':<44} {stats(serialize)}")
    print(
        f"  models, build + serialize: {both:.0f} ms = {both / dicts_ms:.0f}× plain dicts "
        f"(peer figure in PERFORMANCE.md: {PEER_PREZI3_MS:g} ms); "
        f"{verdict(both, COLD_BUDGET_MS)} if built on a cold request"
    )


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10, help="cold requests and builds")
    parser.add_argument("--cached", type=int, default=300, help="cached requests")
    parser.add_argument("--prezi3-repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-manifests-") as tmp:
        settings = {
            "zodbconn.uri": f"file://{tmp}/Data.fs?blobstorage_dir={tmp}/blobs",
            "heritage.var_dir": f"{tmp}/var",
        }
        app = main({}, **settings)
        db = app.registry._zodb_databases[""]
        try:
            seconds, _ = timed(lambda: populate(db, args.pages))
            print(
                f"a {args.pages}-page item stored in {seconds / 1000:.1f} s (FileStorage + blobs)"
            )
            db.cacheMinimize()
            print("over HTTP (WebTest, in-process):")
            bench_http(app, db, args.repeat, args.cached)
            print("the builder alone (warm objects):")
            built = bench_builder(app, args.repeat)
            print("for comparison, iiif-prezi3 models on the same manifest:")
            bench_prezi3(built["manifest"], built["dicts_ms"], args.prezi3_repeat)
        finally:
            db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main_())
