"""One search over the catalog: words and phrases, facet filters, a date range, sorting,
paging and facet counts, only ever over what the searcher may see.

Fast at 100 000 documents the way PERFORMANCE.md ("Search") measured it: no hypatia query
objects or ``TextIndex.apply`` (per-hit Python normalisation and a full sort); instead

- the documents the searcher may see (the ``allowed`` sets of their principals) are the
  first set, and every other set is intersected with it, smallest first, in C;
- a ranked word takes the Okapi index's docid → score bucket, and the top N are picked with
  ``heapq.nlargest``; sorting by a field walks that field's value → docids BTree in order
  until N are found (or, for a small result, looks each document up);
- phrases are checked in each candidate's word list, where hypatia's own phrase search can
  over-match (a word id whose encoding is a prefix of another's), see :func:`has_phrase`;
- facet counts come from :meth:`heritage.catalog.FacetIndex.count`; when the result holds
  most documents, from each value's total minus the counts of those left out.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypatia.text import widcode
from hypatia.text.baseindex import inverse_doc_frequency
from hypatia.text.okapiindex import score as okascore
from pyramid.authorization import Everyone

from heritage.catalog import FACETS, FAMILY, SMALL, SORT_FIELDS, flush
from heritage.search.text import MAX_QUERY_LENGTH, Query, parse_query

IF = FAMILY.IF
RELEVANCE = "relevance"
#: Sort orders: relevance, or a field ascending (``date``) or descending (``-date``).
SORTS: tuple[str, ...] = (RELEVANCE, *(s for f in SORT_FIELDS for s in (f, f"-{f}")))
DEFAULT_SIZE = 20
MAX_SIZE = 100
#: Results beyond this rank are not paged to (narrow the search instead).
MAX_WINDOW = 10_000
FACET_LIMIT = 20
#: Score in C over a word's postings when the result holds more than 1/SCORE_IN_C of them.
SCORE_IN_C = 8
MAX_FILTER_VALUES = 20
MAX_VALUE_LENGTH = 200
MIN_YEAR, MAX_YEAR = -9999, 9999


class SearchError(ValueError):
    """A bad search parameter; ``field`` names it (for a 400 that says which)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Hit:
    """One document of a page of results: its catalog key, its object and its score."""

    key: str
    obj: Any
    score: float | None = None

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    total: int
    page: int
    size: int
    sort: str
    query: Query
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: int | None = None
    date_to: int | None = None

    @property
    def pages(self) -> int:
        """The number of pages one can go to (results past :data:`MAX_WINDOW` are not)."""
        return max(1, -(-min(self.total, MAX_WINDOW) // self.size))


# -- parameters ------------------------------------------------------------------------------


def check_filters(filters: Mapping[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    """Return ``{facet: values}`` with known facets and sane values; raise SearchError."""
    clean: dict[str, tuple[str, ...]] = {}
    for facet, values in (filters or {}).items():
        if facet not in FACETS:
            raise SearchError(facet, f"unknown facet; use {', '.join(FACETS)}")
        values = tuple(dict.fromkeys(v for v in values if v))
        if len(values) > MAX_FILTER_VALUES:
            raise SearchError(facet, f"at most {MAX_FILTER_VALUES} values")
        if any(not isinstance(v, str) or len(v) > MAX_VALUE_LENGTH for v in values):
            raise SearchError(facet, f"values are text of at most {MAX_VALUE_LENGTH} characters")
        if values:
            clean[facet] = values
    return clean


def check_year(name: str, value: Any) -> int | None:
    """Return ``value`` as a year (``None`` when empty); raise SearchError otherwise."""
    if value is None or value == "":
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        raise SearchError(name, "must be a year, e.g. 1850") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise SearchError(name, f"must be a year from {MIN_YEAR} to {MAX_YEAR}")
    return year


def _check(q: str, sort: str | None, page: int, size: int, query: Query) -> str:
    if not isinstance(q, str) or len(q) > MAX_QUERY_LENGTH:
        raise SearchError("q", f"must be text of at most {MAX_QUERY_LENGTH} characters")
    if sort in (None, ""):
        sort = RELEVANCE if query else "title"
    if sort not in SORTS:
        raise SearchError("sort", f"unknown sort; use {', '.join(SORTS)}")
    if sort == RELEVANCE and not query:
        sort = "title"  # nothing to rank by
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise SearchError("page", "must be a whole number from 1")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise SearchError("size", f"must be a whole number from 1 to {MAX_SIZE}")
    if (page - 1) * size >= MAX_WINDOW:
        raise SearchError("page", f"only the first {MAX_WINDOW} results can be paged to")
    return sort


# -- the search ------------------------------------------------------------------------------


def search(
    root: Any,
    principals: Sequence[str],
    *,
    q: str = "",
    filters: Mapping[str, Iterable[str]] | None = None,
    date_from: int | str | None = None,
    date_to: int | str | None = None,
    sort: str | None = None,
    page: int = 1,
    size: int = DEFAULT_SIZE,
    facets: Iterable[str] = FACETS,
    facet_limit: int = FACET_LIMIT,
) -> SearchResult:
    """Search the catalog as someone holding ``principals`` may.

    :param q: words (all must occur) and ``"quoted phrases"``; anything else is a word.
    :param filters: ``{facet: [values]}``: any of a facet's values, every facet given.
    :param date_from, date_to: years; a document whose dates overlap them matches.
    :param sort: one of :data:`SORTS`; relevance when there are words, else ``title``.
    :param facets: which facets to count (over the whole result, after every filter).
    :raises SearchError: naming the bad parameter.
    """
    query = parse_query(q) if isinstance(q, str) else Query()
    sort = _check(q, sort, page, size, query)
    clean = check_filters(filters)
    year_from, year_to = check_year("from", date_from), check_year("to", date_to)
    if year_from is not None and year_to is not None and year_from > year_to:
        raise SearchError("from", "must not be after 'to'")
    for facet in facets:
        if facet not in FACETS:
            raise SearchError("facets", f"unknown facet {facet!r}")
    flush(root)
    catalog = root.catalog
    result = SearchResult(0, page, size, sort, query, filters=clean)
    result.date_from, result.date_to = year_from, year_to

    sets = [catalog[facet].docids_for(values) for facet, values in clean.items()]
    if year_from is not None or year_to is not None:
        sets.append(_overlapping(catalog, year_from, year_to))
    wids: list[int] = []
    if query:
        wids = _wids(catalog, query)
        if not wids:
            return _with_facets(catalog, result, IF.Set(), 0, facets, facet_limit)
        wordinfo = catalog["text"].index._wordinfo
        sets.extend(_as_set(wordinfo[wid]) for wid in wids)
    left_out = None
    if Everyone not in principals:
        found = _intersect([_visible(catalog, principals), *sets])
    elif sets:
        # What they may see is everything but a few restricted documents: take those out
        # of the other sets' intersection rather than intersect with nearly everything.
        found = _intersect(sets)
        hidden = _hidden(catalog, principals)
        if hidden and found:
            found = IF.difference(found, hidden)
    else:  # everything they may see; the documents left out are the hidden ones
        found = _visible(catalog, principals)
        left_out = _hidden(catalog, principals) if facets else None
    for phrase in query.phrases:
        found = _with_phrase(catalog, found, phrase)
    total = len(found)
    result.total = total
    _with_facets(catalog, result, found, total, facets, facet_limit, left_out)
    need = min(page * size, total)
    if (page - 1) * size >= need:
        return result
    scores = None
    if sort == RELEVANCE:
        scores = _scores(catalog, wids, found, total)
        ranked = _by_score(scores, need)
    else:
        name, reverse = sort.lstrip("-"), sort.startswith("-")
        ranked = _by_field(catalog, catalog[name], found, total, need, reverse)
    objects, keys = catalog.objects, catalog.key_of
    score_of = scores.get if scores is not None else (lambda _d: None)
    result.hits = [
        Hit(keys[d], objects.get(d), score_of(d)) for d in ranked[(page - 1) * size : need]
    ]
    return result


def _visible(catalog: Any, principals: Iterable[str]) -> Any:
    """Return the docids the holder of ``principals`` may see (the ``allowed`` index)."""
    fwd = catalog["allowed"]._fwd_index
    sets = [s for s in (fwd.get(p) for p in dict.fromkeys(principals)) if s is not None]
    if not sets:
        return IF.Set()
    return sets[0] if len(sets) == 1 else IF.multiunion(sets)


def _hidden(catalog: Any, principals: Sequence[str]) -> Any:
    """Return the documents the holder of ``principals`` (Everyone among them) may not see:
    the restricted ones (few: unpublished and restricted items) that none of their other
    principals opens."""
    index = catalog.indexes.get("restricted")
    if index is None:  # a catalog made before the index was: work it out
        restricted = IF.difference(catalog.docids, catalog["allowed"].docids_for([Everyone]))
    else:
        restricted = index.docids_for(["yes"])
    fwd = catalog["allowed"]._fwd_index
    opened = [s for s in (fwd.get(p) for p in principals if p != Everyone) if s is not None]
    if not opened:
        return restricted
    return IF.Set(d for d in restricted if not any(d in s for s in opened))


def _overlapping(catalog: Any, year_from: int | None, year_to: int | None) -> Any:
    """Return the docids whose years overlap ``[year_from, year_to]`` (either may be open)."""
    parts = []
    if year_to is not None:
        parts.append(IF.multiunion(list(catalog["year_lo"]._fwd_index.values(max=year_to))))
    if year_from is not None:
        parts.append(IF.multiunion(list(catalog["year_hi"]._fwd_index.values(min=year_from))))
    return _intersect(parts)


def _wids(catalog: Any, query: Query) -> list[int]:
    """Return the word ids of every word of ``query``, or [] if one occurs nowhere."""
    okapi = catalog["text"].index
    known = okapi._lexicon._wids
    wordinfo = okapi._wordinfo
    wids = []
    for word in dict.fromkeys([*query.words, *(w for p in query.phrases for w in p)]):
        wid = known.get(word)
        if wid is None or wid not in wordinfo:
            return []
        wids.append(wid)
    return wids


def _as_set(postings: Any) -> Any:
    """Return a word's docid → frequency map as something BTrees set operations take."""
    return IF.Set(postings.keys()) if isinstance(postings, dict) else postings


def _word_scores(okapi: Any, wid: int, n: float, mean: float) -> Any:
    """Return docid → BM25 score of every document with the word: hypatia's C scorer, given
    the postings themselves (``OkapiIndex._search_wids`` copies them into a list first)."""
    if okascore is None:  # pragma: no cover - hypatia built without its C extension
        return okapi._search_wids([wid])[0][0]
    d2f = okapi._wordinfo[wid]
    scores = IF.Bucket()
    items = list(d2f.items()) if isinstance(d2f, dict) else d2f.items()  # an indexable one
    okascore(scores, items, okapi._docweight, inverse_doc_frequency(len(d2f), n), mean)
    return scores


def _scores(catalog: Any, wids: list[int], found: Any, total: int) -> Any:
    """Return the Okapi BM25 score of each document of ``found`` (the sum over ``wids``).

    The same formula as hypatia's OkapiIndex: computed in C over each word's postings when
    ``found`` holds many of them, else in Python for ``found`` alone (a filtered or phrase
    search scores a few documents, not every document having a common word).
    """
    okapi = catalog["text"].index
    wordinfo = okapi._wordinfo
    postings = sum(len(wordinfo[wid]) for wid in wids)
    n = float(okapi.indexed_count())
    mean = okapi._totaldoclen() / n
    if total * len(wids) * SCORE_IN_C >= postings:
        _, scores = IF.weightedIntersection(_word_scores(okapi, wids[0], n, mean), found, 1, 0)
        for wid in wids[1:]:
            _, scores = IF.weightedIntersection(scores, _word_scores(okapi, wid, n, mean))
        return scores
    k1, b = okapi.K1, okapi.B
    length = okapi._docweight
    scores = IF.Bucket()
    for wid in wids:
        d2f = wordinfo[wid]
        idf = inverse_doc_frequency(len(d2f), n)
        for docid in found:
            f = d2f[docid]
            tf = f * (k1 + 1.0) / (f + k1 * ((1.0 - b) + b * length[docid] / mean))
            scores[docid] = scores.get(docid, 0.0) + tf * idf
    return scores


def _intersect(sets: list[Any]) -> Any:
    if not sets:
        return IF.Set()
    ordered = sorted(sets, key=len)
    found = ordered[0]
    for other in ordered[1:]:
        if not found:
            break
        found = IF.intersection(found, other)
    return found


def has_phrase(docwords: str, code: str) -> bool:
    """Return whether the widcode-encoded ``code`` occurs in ``docwords`` as whole words.

    hypatia's phrase search uses ``str.find`` alone; the start of a match is always a word
    start (only a first byte has its high bit set), but the last word's code can be the
    prefix of a longer code, so the match must end where a word ends too.
    """
    start = docwords.find(code)
    while start >= 0:
        end = start + len(code)
        if end == len(docwords) or docwords[end] >= "\x80":
            return True
        start = docwords.find(code, start + 1)
    return False


def _with_phrase(catalog: Any, found: Any, phrase: tuple[str, ...]) -> Any:
    okapi = catalog["text"].index
    wids = okapi._lexicon._wids
    code = widcode.encode([wids[w] for w in phrase])
    words = okapi._docwords.__getitem__
    # ``in`` (C) turns most candidates away; only a match is checked for where it ends
    return IF.Set(d for d in found if code in words(d) and has_phrase(words(d), code))


def _by_score(scores: Any, need: int) -> list[int]:
    # (score, docid) pairs compare in C: no key function call per document
    pairs = zip(scores.values(), scores.keys(), strict=True)
    return [d for _, d in heapq.nlargest(need, pairs)]


def _by_field(
    catalog: Any, index: Any, found: Any, total: int, need: int, reverse: bool
) -> list[int]:
    """Return the first ``need`` docids of ``found`` by ``index``'s value; documents without
    a value come last either way (hypatia's own sort would drop them)."""
    everything = max(len(catalog), 1)
    if total <= SMALL or need * everything > total * total // 4:
        rev = index._rev_index
        keyed, missing = [], []
        for docid in found:
            value = rev.get(docid)
            if value is None:
                missing.append(docid)
            else:
                keyed.append((value, docid))
        pick = heapq.nlargest if reverse else heapq.nsmallest
        ordered = [d for _, d in pick(need, keyed)]
    else:
        fwd = index._fwd_index
        ordered = []
        for value in reversed(fwd.keys()) if reverse else fwd.keys():
            docids = fwd[value]
            if len(docids) <= 16:
                members = [d for d in docids if d in found]
            else:
                members = list(IF.intersection(docids, found))
            if reverse:  # exactly the reverse of (value, docid): as the look-up path sorts
                members.reverse()
            ordered.extend(members)
            if len(ordered) >= need:
                return ordered[:need]
        missing = list(IF.intersection(found, index._not_indexed))
    return (ordered + missing)[:need]


def _with_facets(
    catalog: Any,
    result: SearchResult,
    found: Any,
    total: int,
    facets: Iterable[str],
    limit: int,
    left_out: Any = None,
) -> SearchResult:
    """Count each facet's values over ``found`` and keep the ``limit`` most frequent (and
    every selected value). ``left_out``, when given, is every document not in ``found``."""
    # Most documents in the result: count those left out, and take them from the totals.
    facets = tuple(facets)
    if left_out is None and facets and total > SMALL and len(catalog) - total < total:
        left_out = IF.difference(catalog.docids, found)
    if left_out is not None and len(left_out) >= total:
        left_out = None
    for facet in facets:
        index = catalog[facet]
        if left_out is not None:
            counts = Counter(index.totals())
            counts.subtract(index.count(left_out, len(left_out)))
        elif total:
            counts = index.count(found, total)
        else:
            counts = Counter()
        selected = result.filters.get(facet, ())
        top = sorted(((n, v) for v, n in counts.items() if n > 0), key=lambda p: (-p[0], p[1]))
        values = [FacetValue(v, n, v in selected) for n, v in top[:limit]]
        shown = {fv.value for fv in values}
        values.extend(FacetValue(v, counts.get(v, 0), True) for v in selected if v not in shown)
        result.facets[facet] = values
    return result
