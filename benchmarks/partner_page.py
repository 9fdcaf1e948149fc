"""The partner page of an institution over many items: what it costs, and what counting costs.

    .venv/bin/python benchmarks/partner_page.py [--items 100000]

In a temporary FileStorage, one institution gets ``--items`` items (60 % published and
public, 10 % described only, 10 % staff only, 20 % still in capture), committed every 2 000,
with the counting listener on as always. Then it prints:

- the time to add the items, and what the listener adds per item change (touching published
  items again, unchanged: the listener recomputes and finds nothing to write);
- ``GET /institutions/{id}`` and ``GET /api/institutions/{id}`` through the whole
  application (WebTest): p50/p99 and the objects loaded from storage per request, cold (a
  fresh database object each time) and warm;
- for scale, what the page would cost if it walked the items to count them (cold);
- the schema step that counts an existing database (``step_0010_institution_counts``).

Nothing here asserts a speed; the machine is shared, so compare figures within one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import transaction  # noqa: E402
import webtest  # noqa: E402
from ZODB.ActivityMonitor import ActivityMonitor  # noqa: E402

from heritage import main  # noqa: E402
from heritage.evolve import step_0010_institution_counts  # noqa: E402
from heritage.metadata import validate_record  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402
from heritage.security import publicly_listed  # noqa: E402

BATCH = 2000
RUNS = 30
#: Validated once: parsing EDTF would otherwise be most of the time spent adding items.
_RECORD = validate_record({"title": [{"value": "x", "lang": "ms"}], "date": ["18XX"]})


def _item(n: int) -> Item:
    kind = n % 10
    state, access = "published", "public"
    if kind == 6:
        access = "metadata-only"
    elif kind == 7:
        access = "staff"
    elif kind >= 8:
        state = "capture"
    metadata = {**_RECORD, "title": ({"value": f"Hikayat nombor {n}", "lang": "ms"},)}
    return Item(f"pns-ms-{n:06d}", metadata, state=state, access=access)


def _work(db: Any, fn: Any) -> Any:
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            return fn(conn.root()[APP_ROOT])
    finally:
        conn.close()


def _app(uri: str, var: Path) -> Any:
    return main({}, **{"zodbconn.uri": uri, "heritage.var_dir": str(var)})


def _close(app: Any) -> None:
    for database in app.registry._zodb_databases.values():
        database.close()


def _loads(db: Any) -> int:
    return sum(a["loads"] for a in db.getActivityMonitor().getActivityAnalysis(divisions=1))


def _measure(uri: str, var: Path, path: str, *, cold: bool) -> tuple[list[float], list[int]]:
    times, loads = [], []
    app = None if cold else _app(uri, var)
    try:
        for _ in range(RUNS):
            if cold:
                app = _app(uri, var)
            db = app.registry._zodb_databases[""]
            db.setActivityMonitor(ActivityMonitor())
            web = webtest.TestApp(app)
            start = time.perf_counter()
            web.get(path)
            times.append(time.perf_counter() - start)
            loads.append(_loads(db))
            if cold:
                _close(app)
                app = None
    finally:
        if app is not None:
            _close(app)
    return times, loads


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _report(label: str, times: list[float], loads: list[int]) -> None:
    print(
        f"  {label:<34} p50 {statistics.median(times) * 1000:7.1f} ms"
        f"   p99 {_p(times, 0.99) * 1000:7.1f} ms   objects loaded {statistics.median(loads):.0f}"
    )


def run(n_items: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="partner-bench-"))
    uri = f"file://{tmp}/Data.fs?blobstorage_dir={tmp}/blobs"
    var = tmp / "var"
    app = _app(uri, var)
    db = app.registry._zodb_databases[""]

    def setup(root: Any) -> None:
        inst = root.institutions.add("pns", Institution({"en": "Pustaka"}, country="MY"))
        root.add_collection(inst, "pns-manuscripts", Collection({"en": "Manuscripts"}))

    _work(db, setup)
    start = time.perf_counter()
    for first in range(0, n_items, BATCH):

        def add(root: Any, first: int = first) -> None:
            coll = root.collections["pns-manuscripts"]
            for n in range(first, min(first + BATCH, n_items)):
                coll.add_item(_item(n))

        _work(db, add)
    added = time.perf_counter() - start
    print(f"{n_items} items in one institution ({tmp})")
    print(
        f"  added, counted as they came:      {added:7.1f} s ({added / n_items * 1e6:.0f} µs each)"
    )

    sample = [f"pns-ms-{n:06d}" for n in range(0, min(n_items, 5000), 10)]  # published public

    def touch(root: Any) -> float:
        items = [root.items[i] for i in sample]
        begin = time.perf_counter()
        for item in items:
            item.touch()  # Change Discovery + counting listeners, as every edit runs them
        return time.perf_counter() - begin

    touched = _work(db, touch)
    print(f"  an edit of a public item, all listeners: {touched / len(sample) * 1e6:.0f} µs")
    counts = _work(
        db,
        lambda root: (
            root.institutions["pns"].public_items(),
            root.institutions["pns"].public_by_year.keys()[0],
        ),
    )
    print(f"  public items counted: {counts[0]} (year {counts[1]})")
    _close(app)

    print("requests (WebTest, whole application):")
    for path in ("/institutions/pns", "/api/institutions/pns"):
        _report(f"{path} cold", *_measure(uri, var, path, cold=True))
        _report(f"{path} warm", *_measure(uri, var, path, cold=False))

    app = _app(uri, var)
    db = app.registry._zodb_databases[""]
    db.setActivityMonitor(ActivityMonitor())
    start = time.perf_counter()
    walked = _work(db, lambda root: sum(1 for i in root.items.values() if publicly_listed(i)))
    print(
        f"  counting by walking the items (cold): {time.perf_counter() - start:7.2f} s, "
        f"{_loads(db)} objects loaded ({walked} public)"
    )
    start = time.perf_counter()
    _work(db, step_0010_institution_counts.evolve)
    print(f"  schema step 0010 recounting all:    {time.perf_counter() - start:7.1f} s")
    _close(app)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    run(parser.parse_args().items)


if __name__ == "__main__":
    main_()
