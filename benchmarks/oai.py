"""Harvest our own OAI-PMH provider with Sickle and print records per second.

    .venv/bin/python benchmarks/oai.py [--items 10000] [--page-size 100] [--changed 100]

``--items`` synthetic public items (multilingual titles, descriptions, subjects, a place with
coordinates; three institutions, two collections each) are added through the real model, so
the listeners fill ``root.oai`` as they would, into a FileStorage in a temporary folder. The
application (``heritage.main``) is served by waitress on 127.0.0.1 in a thread, and Sickle
(a real OAI-PMH client over HTTP) harvests:

- ListIdentifiers, and ListRecords in ``oai_dc`` and in ``mods``: everything;
- ListRecords of one institution's set;
- an incremental harvest: ``--changed`` items edited, then ``from`` = just before the edits
  (this reads the datestamp index, not every record).

Both sides share this process and the machine's cores: the figures are the whole round trip
(parse, list, build XML, HTTP, Sickle's parsing). Nothing here asserts a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0]: keep our files from shadowing any module
# heritage imports (benchmarks/ingest.py does the same).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import transaction  # noqa: E402
from sickle import Sickle  # noqa: E402
from waitress import wasyncore  # noqa: E402
from waitress.server import create_server  # noqa: E402

from heritage import main  # noqa: E402
from heritage.metadata import validate_record  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402

INSTITUTIONS = {
    "pns": {"en": "Sarawak State Library", "ms": "Pustaka Negeri Sarawak"},
    "sabah": {"en": "Sabah State Library", "ms": "Perpustakaan Negeri Sabah"},
    "kaltim": {"en": "East Kalimantan Library", "id": "Perpustakaan Kalimantan Timur"},
}
WORDS = "hikayat syair naskhah raja pelanduk sungai padi rumah panjang ensera kayau".split()


def metadata(n: int) -> dict[str, Any]:
    word = WORDS[n % len(WORDS)]
    return validate_record(
        {
            "title": [
                {"value": f"Hikayat {word.title()} {n}", "lang": "ms"},
                {"value": f"The tale of {word} {n}", "lang": "en"},
            ],
            "creator": [{"value": "Tidak diketahui", "lang": "ms"}],
            "subject": [{"value": word, "lang": "ms"}, {"value": "sejarah", "lang": "id"}],
            "description": [
                {"value": f"Naskhah Jawi tentang {word}, salinan ke-{n}.", "lang": "ms"},
                {"value": f"Naskah Jawi tentang {word}.", "lang": "id"},
            ],
            "date": [f"18{n % 100:02d}"],
            "type": [{"value": "manuscript", "lang": "en"}],
            "language": ["ms"],
            "coverage": [{"value": "Kuching", "lang": "ms", "lat": 1.55, "lon": 110.34}],
        }
    )


def populate(db: Any, items: int, batch: int = 1000) -> None:
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()[APP_ROOT]
            for inst_id, name in INSTITUTIONS.items():
                inst = root.institutions.add(inst_id, Institution(name, country="MY"))
                for kind in ("manuscripts", "photographs"):
                    root.add_collection(inst, f"{inst_id}-{kind}", Collection({"en": kind.title()}))
        collections = [f"{i}-{k}" for i in INSTITUTIONS for k in ("manuscripts", "photographs")]
        for start in range(0, items, batch):
            with tm:
                root = conn.root()[APP_ROOT]
                for n in range(start, min(start + batch, items)):
                    coll = root.collections[collections[n % len(collections)]]
                    coll.add_item(
                        Item(
                            f"bench-{n:06d}",
                            metadata(n),
                            state="published",
                            access="public",
                            rights="http://rightsstatements.org/vocab/NoC-NKC/1.0/",
                        )
                    )
            conn.cacheMinimize()
    finally:
        conn.close()


def change(db: Any, count: int, items: int) -> None:
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()[APP_ROOT]
            for n in range(0, items, max(1, items // count))[:count]:
                item = root.items[f"bench-{n:06d}"]
                item.metadata["title"] = ({"value": f"Hikayat baharu {n}", "lang": "ms"},)
                item.touch()
    finally:
        conn.close()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        runner.join(10)
        server.task_dispatcher.shutdown()


def harvest(sickle: Sickle, verb: str, **arguments: str) -> tuple[int, float]:
    started = time.perf_counter()
    iterator = getattr(sickle, verb)(**arguments)
    count = sum(1 for _ in iterator)
    return count, time.perf_counter() - started


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = main(
            {},
            **{
                "zodbconn.uri": f"file://{tmp}/Data.fs?blobstorage_dir={tmp}/blobs"
                "&connection_cache_size=50000",
                "heritage.var_dir": f"{tmp}/var",
                "heritage.oai_page_size": str(args.page_size),
            },
        )
        db = app.registry._zodb_databases[""]
        started = time.perf_counter()
        populate(db, args.items)
        print(f"{args.items} public items added in {time.perf_counter() - started:.1f} s")

        rows = []
        with serve(app) as base:
            sickle = Sickle(f"{base}/oai", timeout=120)
            for label, verb, arguments in (
                ("ListIdentifiers", "ListIdentifiers", {"metadataPrefix": "oai_dc"}),
                ("ListRecords oai_dc", "ListRecords", {"metadataPrefix": "oai_dc"}),
                ("ListRecords mods", "ListRecords", {"metadataPrefix": "mods"}),
                ("ListRecords oai_dc (warm)", "ListRecords", {"metadataPrefix": "oai_dc"}),
                (
                    "ListRecords mods, set=pns",
                    "ListRecords",
                    {"metadataPrefix": "mods", "set": "pns"},
                ),
            ):
                rows.append((label, *harvest(sickle, verb, **arguments)))
            time.sleep(1.1)  # datestamps have whole seconds: the edits come after `since`
            since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            change(db, args.changed, args.items)
            rows.append(
                (
                    f"incremental, {args.changed} changed",
                    *harvest(sickle, "ListRecords", metadataPrefix="oai_dc", **{"from": since}),
                )
            )
        db.close()

    print(f"page size {args.page_size}; Sickle over HTTP to waitress on 127.0.0.1")
    print(f"{'harvest':34} {'records':>8} {'seconds':>8} {'records/s':>10}")
    for label, count, seconds in rows:
        print(f"{label:34} {count:8d} {seconds:8.2f} {count / seconds:10.0f}")


if __name__ == "__main__":
    main_()
