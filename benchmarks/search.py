"""Search at union-catalogue scale: index synthetic records, then time the queries.

    .venv/bin/python benchmarks/search.py [--records 100000] [--items-share 0.3]
                                          [--runs 200] [--batch 1000] [--cache 200000]

Builds, in a FileStorage in a temporary directory, ``--records`` documents: a share of
them our own items (six institutions, twelve collections, mostly published and public,
some unpublished, staff-only or metadata-only), the rest harvested union-catalogue records
of four partners stored through ``root.harvested`` and indexed with ``index_harvested`` as
a harvest does. Titles and descriptions mix Malay, Indonesian and English words (a Zipf-
like vocabulary of about 20 000 words, some in the old spelling); types, languages, places
and EDTF dates (years, ``~``, ``18XX``, intervals) vary. Items are indexed the way an edit
is: ``add_item`` marks them, the before-commit hook indexes them. Commits every
``--batch`` documents.

Prints the time to index, the size of Data.fs before and after a pack, then, warm, p50 and
p99 over ``--runs`` queries of each kind, as the public searches (``allowed`` =
Everyone) with a connection cache of ``--cache`` objects, trimmed after each query as at the
end of a web request (``--reuse --dir D`` queries a database built before, e.g. to compare
cache sizes):

- a common word, ranked (top 20), without and with facet counts;
- a rare word; a two-word phrase;
- the faceted query of PERFORMANCE.md: a word + an institution + a type, top 20 by date,
  counts for institution, type, language, decade and digital over the whole result;
- browse-all with the same facets;
- and the cost of an edit: one item's title changed and committed (reindexed at commit).

PERFORMANCE.md's figures for hypatia "tuned" at 100k on this machine kind (build 128 s,
275 MB packed, common word p99 14 ms, faceted 4.3 ms, browse-all 0.2 ms, update 3.6 ms) are
printed beside ours; the machine is noisy, so compare within one run. Nothing is asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0]; keep it off the path so that no benchmark
# module shadows a library that heritage imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import transaction  # noqa: E402
import ZODB  # noqa: E402
from pyramid.authorization import Everyone  # noqa: E402
from ZODB.FileStorage import FileStorage  # noqa: E402

from heritage.catalog import index_harvested  # noqa: E402
from heritage.evolve import bootstrap  # noqa: E402
from heritage.resources.collection import Collection  # noqa: E402
from heritage.resources.institution import Institution  # noqa: E402
from heritage.resources.item import Item  # noqa: E402
from heritage.resources.root import APP_ROOT  # noqa: E402
from heritage.search.query import search  # noqa: E402

PUBLIC = [Everyone]
INSTITUTIONS = ("pns", "unimas", "sabah", "kaltim", "kalbar", "brunei")
PARTNERS = ("slims-pontianak", "koha-kuching", "dspace-ums", "omeka-tenggarong")
TYPES = (
    "Manuscript",
    "Text",
    "Photograph",
    "Oral history",
    "Map",
    "Newspaper",
    "Book",
    "Sound",
    "Letter",
    "Naskah",
)
LANGUAGES = ("ms", "id", "en", "ms-Arab", "iba", "bjn", "dtp", "nl")
PLACES = (
    "Kuching",
    "Sibu",
    "Miri",
    "Kota Kinabalu",
    "Sandakan",
    "Tenggarong",
    "Samarinda",
    "Pontianak",
    "Banjarmasin",
    "Bandar Seri Begawan",
    "Betong",
    "Kapit",
)
#: Words every reader types (a few in every tenth record or more).
COMMON = (
    "hikayat",
    "sejarah",
    "naskah",
    "cerita",
    "raja",
    "sungai",
    "kampung",
    "history",
    "letter",
    "surat",
    "syair",
    "adat",
    "rumah",
    "panjang",
    "photograph",
    "kerajaan",
    "tentang",
    "dan",
    "yang",
    "the",
    "of",
    "pulau",
    "orang",
    "dayak",
    "iban",
    "melayu",
)
OLD = ("tjerita", "radja", "koetai", "djawa", "soengai", "tjahaja")
SYLLABLES = (
    "ba",
    "ka",
    "ra",
    "ma",
    "ta",
    "sa",
    "la",
    "na",
    "pa",
    "ga",
    "da",
    "ja",
    "wa",
    "ri",
    "ku",
    "tu",
    "mi",
    "ng",
    "an",
    "ung",
    "ek",
    "ir",
    "ong",
    "ai",
    "au",
)


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Text:
    """Draws words: common ones often, the synthetic vocabulary Zipf-like."""

    def __init__(self, rng: random.Random, size: int = 20_000) -> None:
        self.rng = rng
        self.words = vocabulary(rng, size)
        self.cum_weights = list(itertools.accumulate(1 / (rank + 10) for rank in range(size)))

    def words_(self, n: int) -> list[str]:
        rng = self.rng
        out = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.25:
                out.append(rng.choice(COMMON))
            elif roll < 0.27:
                out.append(rng.choice(OLD))
            else:
                out.append(rng.choices(self.words, cum_weights=self.cum_weights)[0])
        return out

    def sentence(self, lo: int, hi: int) -> str:
        return " ".join(self.words_(self.rng.randint(lo, hi))).capitalize()


def edtf(rng: random.Random) -> str:
    year = rng.randint(1600, 2020)
    form = rng.random()
    if form < 0.5:
        return str(year)
    if form < 0.65:
        return f"{year}~"
    if form < 0.75:
        return f"{str(year)[:2]}XX"
    if form < 0.85:
        return f"{str(year)[:3]}X"
    if form < 0.95:
        return f"{year}/{min(2020, year + rng.randint(1, 25))}"
    return f"{year}-{rng.randint(1, 12):02d}"


def metadata(rng: random.Random, text: Text) -> dict[str, tuple[dict, ...]]:
    lang = rng.choice(("ms", "id", "en"))
    md: dict[str, tuple[dict, ...]] = {
        "title": ({"value": text.sentence(3, 8), "lang": lang},),
        "description": (
            {"value": text.sentence(15, 40), "lang": lang},
            {"value": text.sentence(8, 20), "lang": rng.choice(("ms", "id", "en"))},
        ),
        "subject": tuple({"value": w, "lang": lang} for w in text.words_(rng.randint(1, 3))),
        "type": ({"value": rng.choice(TYPES), "lang": "en"},),
        "language": tuple({"value": lg} for lg in rng.sample(LANGUAGES, rng.randint(1, 2))),
        "coverage": ({"value": rng.choice(PLACES), "lang": "ms"},),
    }
    if rng.random() < 0.9:
        md["date"] = ({"value": edtf(rng)},)
    return md


def build(db: Any, records: int, items_share: float, batch: int, seed: int) -> tuple[float, int]:
    """Return (seconds, items) to add and index everything."""
    rng = random.Random(seed)
    text = Text(rng)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    started = time.perf_counter()
    with tm:
        root = bootstrap(conn.root())
        for inst_id in INSTITUTIONS:
            inst = root.institutions.add(
                inst_id, Institution({"en": inst_id.upper()}, country="MY")
            )
            for kind in ("manuscripts", "photographs"):
                root.add_collection(inst, f"{inst_id}-{kind}", Collection({"en": kind}))
    collections = [f"{i}-{k}" for i in INSTITUTIONS for k in ("manuscripts", "photographs")]
    items = int(records * items_share)
    done = 0
    while done < records:
        with tm:
            root = conn.root()[APP_ROOT]
            for n in range(done, min(done + batch, records)):
                md = metadata(rng, text)
                if n < items:
                    roll = rng.random()
                    state = "capture" if roll < 0.05 else "published"
                    access = (
                        "staff"
                        if 0.05 <= roll < 0.07
                        else "metadata-only"
                        if 0.07 <= roll < 0.12
                        else "public"
                    )
                    item = Item(f"bench-{n:06d}", md, state=state, access=access)
                    root.collections[rng.choice(collections)].add_item(item)
                else:
                    partner = PARTNERS[n % len(PARTNERS)]
                    _, record = root.harvested.store(
                        partner,
                        {"en": partner},
                        {
                            "identifier": f"oai:{partner}:{n}",
                            "datestamp": "2024-05-01T00:00:00Z",
                            "metadata": md,
                            "link": f"https://{partner}.example/record/{n}",
                            "manifest": (
                                f"https://{partner}.example/iiif/{n}/manifest"
                                if rng.random() < 0.5
                                else ""
                            ),
                        },
                    )
                    index_harvested(root, record)
            done = min(done + batch, records)
        conn.cacheMinimize()
        if done % (batch * 10) == 0 or done == records:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>7} documents indexed ({rate:.0f}/s)", file=sys.stderr)
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, items


def timed(
    fn: Callable[[], Any], runs: int, after: Callable[[], Any] | None = None
) -> tuple[float, float]:
    """Return p50 and p99 in milliseconds of ``fn`` over ``runs`` calls (after a warm-up).

    ``after`` runs after each call, untimed: the end of a request (its transaction ends
    and the connection's cache is trimmed to its size, as when a web request closes it).
    """
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if after is not None:
            after()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def queries(db: Any, runs: int, seed: int) -> list[tuple[str, float, float, str]]:
    rng = random.Random(seed + 1)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    root = conn.root()[APP_ROOT]
    catalog = root.catalog
    lexicon = catalog["text"].index._lexicon
    wordinfo = catalog["text"].index._wordinfo
    rare = [w for w, wid in lexicon.items() if 3 <= len(wordinfo.get(wid, ())) <= 10][:500]
    facets = ("institution", "type", "language", "decade", "digital")
    # warm the cache, as a web worker's is after a while: every index read once
    for sort in ("title", "-date", "date"):
        search(root, PUBLIC, sort=sort)
    for word in COMMON:
        search(root, PUBLIC, q=word)
    rows = []

    def end_request() -> None:
        tm.abort()
        conn.cacheGC()

    def cycle(values: list[Any]) -> Callable[[], Any]:
        it = iter(range(10**9))
        return lambda: values[next(it) % len(values)]

    common, rare_word = cycle(list(COMMON)), cycle(rare or ["nothing"])
    phrases = cycle([f'"{a} {b}"' for a, b in itertools.pairwise(COMMON)])
    combos = cycle(
        [(w, rng.choice(INSTITUTIONS + PARTNERS), t.casefold()) for w in COMMON for t in TYPES]
    )

    def faceted() -> Any:
        word, where, kind = combos()
        where_filter = {"institution": [where]} if where in INSTITUTIONS else {"source": [where]}
        filters = {**where_filter, "type": [kind]}
        return search(root, PUBLIC, q=word, filters=filters, sort="-date", facets=facets)

    cases: list[tuple[str, Callable[[], Any], str]] = [
        ("common word, ranked, top 20", lambda: search(root, PUBLIC, q=common(), facets=()), "14"),
        (
            "common word, ranked, + facets",
            lambda: search(root, PUBLIC, q=common(), facets=facets),
            "",
        ),
        ("rare word, + facets", lambda: search(root, PUBLIC, q=rare_word(), facets=facets), ""),
        ("phrase, ranked, + facets", lambda: search(root, PUBLIC, q=phrases(), facets=facets), ""),
        ("faceted (word + institution + type)", faceted, "4.3"),
        ("browse-all + facets, by title", lambda: search(root, PUBLIC, facets=facets), "0.2"),
        (
            "browse-all + facets, newest first",
            lambda: search(root, PUBLIC, sort="-date", facets=facets),
            "",
        ),
    ]
    for label, fn, peer in cases:
        rows.append((label, *timed(fn, runs, end_request), peer))
    sample = search(root, PUBLIC, q="hikayat", facets=())
    print(
        f"  'hikayat': {sample.total} hits; public documents: "
        f"{search(root, PUBLIC, facets=()).total}",
        file=sys.stderr,
    )
    cache = conn._cache
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"connection cache after the queries: {cache.cache_non_ghost_count} objects loaded, "
        f"~{cache.total_estimated_size / 1024 / 1024:.0f} MB estimated; process peak RSS "
        f"{rss:.0f} MB"
    )
    tm.abort()

    ids = [k for k in root.items.keys()][: runs + 1]
    edits = cycle(ids)

    def edit() -> None:
        with tm:
            item = root.items[edits()]
            item.metadata["title"] = ({"value": f"Hikayat baharu {rng.random()}", "lang": "ms"},)
            item.touch()

    rows.append(("update one item (reindex + commit)", *timed(edit, min(runs, 100)), "3.6"))
    conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--items-share", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--cache", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", help="keep the database here instead of a temporary folder")
    parser.add_argument(
        "--reuse", action="store_true", help="query the database already in --dir (no build)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "Data.fs"
        if args.reuse and path.exists():
            seconds, items, before, after, pack_seconds = 0.0, 0, 0, os.path.getsize(path), 0.0
        else:
            db = ZODB.DB(FileStorage(str(path)), cache_size=args.cache)
            seconds, items = build(db, args.records, args.items_share, args.batch, args.seed)
            before = os.path.getsize(path)
            started = time.perf_counter()
            db.pack()
            pack_seconds = time.perf_counter() - started
            after = os.path.getsize(path)
            db.close()
        # reopen: queries run on what is on disk, with a warm cache as a web worker has
        db = ZODB.DB(FileStorage(str(path)), cache_size=args.cache)
        print(f"objects in the database: {len(db.storage)}")
        rows = queries(db, args.runs, args.seed)
        db.close()

    mb = 1024 * 1024
    if args.reuse:
        print(f"the database in {folder} as it was ({after / mb:.0f} MB), not rebuilt")
    else:
        print(f"{args.records} documents ({items} items, {args.records - items} harvested)")
        print(
            f"index (add + catalog, commits of {args.batch}): {seconds:.1f} s "
            f"({args.records / seconds:.0f} documents/s)   [PERFORMANCE.md hypatia: 128 s]"
        )
        print(
            f"Data.fs: {before / mb:.0f} MB before pack, {after / mb:.0f} MB after "
            f"(pack {pack_seconds:.1f} s)   [PERFORMANCE.md hypatia: 1.4 GB / 275 MB]"
        )
    print(f"public queries, warm, connection cache {args.cache} objects, {args.runs} runs each")
    print(f"{'query':40} {'p50 ms':>8} {'p99 ms':>8}  {'PERFORMANCE.md p99 ms':>22}")
    for label, p50, p99, peer in rows:
        print(f"{label:40} {p50:8.2f} {p99:8.2f}  {peer:>22}")


if __name__ == "__main__":
    main()
