"""The search catalog: hypatia indexes over our items and harvested union-catalogue records.

``root.catalog`` holds one document per item (key ``item:{item_id}``) and per harvested
record (key ``harvested:{partner_id}:{oai identifier}``), under an integer docid; the
docid ↔ key map and a reference to each document's object are BTrees here. Indexes:

- ``text``: every metadata value in every language, folded (:mod:`heritage.search.text`);
  the lexicon has no stop-word list, so Malay ``dan`` and English ``the`` are words.
- facets (``FACETS``): institution, collection, type, language, place (dc:coverage),
  decade and century (EDTF-aware: a date spanning decades is in each), has a digital
  object (``digital``: ``yes``/``no``), and source (``ours`` or the partner's id).
- ``allowed``: the principals that may ``view`` the document (a keyword index), from its
  ACL the way Pyramid's ACLHelper reads it. Every search intersects it with the searcher's
  principals first, so nothing restricted is ever in results or facet counts. Harvested
  records are public. ``restricted`` holds just the documents the public may not see
  (few), so that a public browse-all counts its facets from the totals minus those.
- ``state`` and ``institution`` for staff work queues; ``title``, ``date`` and ``modified``
  to sort by; ``year_lo``/``year_hi`` for date ranges.

Items are indexed in the same transaction as their change: ``Item.touch()`` (and adding or
removing an item) marks the item dirty, and a before-commit hook reindexes each dirty item
once, touching only the indexes whose values changed. A search in the same transaction
flushes first (:func:`flush`). Harvested records are indexed when the harvester calls
:func:`index_harvested` / :func:`unindex_harvested`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import BTrees
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from hypatia.catalog import Catalog as IndexSet
from hypatia.field import FieldIndex
from hypatia.text import TextIndex
from hypatia.text.lexicon import Lexicon
from persistent import Persistent
from pyramid.authorization import ACLHelper, Everyone
from pyramid.traversal import find_root
from transaction.interfaces import NoTransaction

from heritage.changes import on_item_changed, on_item_removed
from heritage.metadata import first_value, normalize_language
from heritage.search import dates
from heritage.search.text import BOUNDARY, FoldingSplitter
from workflows.selection import normalize_title

FAMILY = BTrees.family64
#: The facets, in the order the search page shows them.
FACETS: tuple[str, ...] = (
    "institution",
    "collection",
    "type",
    "language",
    "place",
    "decade",
    "century",
    "digital",
    "source",
)
#: The ``source`` of our own items (a harvested record's source is its partner's id).
OURS = "ours"
#: Fields one can sort by (besides relevance).
SORT_FIELDS: tuple[str, ...] = ("title", "date", "modified")
#: Below this many documents a result is counted and sorted document by document; above
#: it, with set operations on whole index values (PERFORMANCE.md, "Search").
SMALL = 2000
#: Up to this many documents, facet values are counted by looking each one up: cheaper
#: than one intersection with the whole catalog's docid → values map.
LOOKUPS = 4000
#: Docids are drawn from [0, 2**62): a connection starts at a random place and counts up
#: (substanced's scheme), so concurrent writers rarely collide and a batch stays local.
MAX_DOCID = 2**62
#: Facet values with a stored display form (the key is folded; the label is as first seen in
#: a public document; a value only restricted documents have is shown folded).
_LABELLED = frozenset({"type", "place"})


def item_key(item_id: str) -> str:
    return f"item:{item_id}"


def harvested_key(record: Any) -> str:
    """Return the catalog key of a harvested record: ``harvested:{partner_id}:{identifier}``."""
    return f"harvested:{record.partner_id}:{record.identifier}"


# -- documents: what the indexes read ------------------------------------------------------


class Document:
    """The indexed values of one item or record (plain data; an index reads one attribute).

    An attribute left unset means "no value" (hypatia's not-indexed set), e.g. an undated
    record has no ``date``.
    """

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            if value is not None:
                setattr(self, name, value)


def _values(metadata: Mapping[str, Iterable[Mapping[str, Any]]], element: str) -> list[str]:
    return [v["value"] for v in metadata.get(element, ()) if str(v.get("value", "")).strip()]


def metadata_text(metadata: Mapping[str, Iterable[Mapping[str, Any]]]) -> str:
    """Return every value of every element, apart (:data:`~heritage.search.text.BOUNDARY`):
    what full text search reads."""
    return f" {BOUNDARY} ".join(
        str(v["value"]) for values in metadata.values() for v in values if "value" in v
    )


def _keys(values: Iterable[str]) -> dict[str, str]:
    """Return ``{facet key: display form}``: keys fold case, accents and punctuation."""
    out: dict[str, str] = {}
    for value in values:
        key = normalize_title(value)
        if key and key not in out:
            out[key] = " ".join(value.split())
    return out


def _languages(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        try:
            code = normalize_language(value)
        except ValueError:
            code = value.strip().casefold()
        if code and code not in out:
            out.append(code)
    return out


def _common(metadata: Mapping[str, Any], modified: str) -> dict[str, Any]:
    """Return the values items and harvested records share (all from Dublin Core)."""
    date_values = _values(metadata, "date")
    span = dates.years(date_values)
    titles = list(metadata.get("title", ()))
    return {
        "text": metadata_text(metadata),
        "type": _keys(_values(metadata, "type")),
        "place": _keys(_values(metadata, "coverage")),
        "language": _languages(_values(metadata, "language")),
        "decade": dates.decades(span),
        "century": dates.centuries(span),
        "title": normalize_title(first_value(titles))[:200] if titles else None,
        "date": dates.sort_key(date_values),
        "year_lo": span[0] if span else None,
        "year_hi": span[1] if span else None,
        "modified": modified or None,
    }


def item_document(item: Any) -> Document:
    """Return what the catalog indexes of one of our items."""
    values = _common(item.metadata, item.modified)
    allowed = sorted(ACLHelper().principals_allowed_by_permission(item, "view"))
    institution = item.institution
    collection = item.collection
    return Document(
        **values,
        institution=[institution.__name__] if institution is not None else [],
        collection=[collection.__name__] if collection is not None else [],
        digital=["yes" if len(item.files) else "no"],
        source=[OURS],
        allowed=allowed,
        restricted=[] if Everyone in allowed else ["yes"],
        state=item.state,
    )


def record_document(record: Any) -> Document:
    """Return what the catalog indexes of a harvested record (public, no workflow state)."""
    values = _common(record.metadata or {}, record.datestamp)
    return Document(
        **values,
        institution=[],
        collection=[],
        digital=["yes" if record.manifest else "no"],
        source=[record.partner_id],
        allowed=[Everyone],
    )


class RecordSnapshot(Persistent):
    """A copy of a harvested record given as a plain object (not stored elsewhere in the
    database), so that a hit can still show its title, links and snippet."""

    def __init__(self, record: Any) -> None:
        self.key = getattr(record, "key", "")
        self.partner_id = record.partner_id
        self.partner_name = dict(getattr(record, "partner_name", {}) or {})
        self.identifier = record.identifier
        self.datestamp = getattr(record, "datestamp", "")
        self.metadata = {k: tuple(dict(v) for v in vs) for k, vs in record.metadata.items()}
        self.link = getattr(record, "link", "") or ""
        self.manifest = getattr(record, "manifest", "") or ""


# -- indexes -----------------------------------------------------------------------------


class FacetIndex(Persistent):
    """A keyword index (a document has any number of values; find documents by value) that
    also counts its values over a result quickly.

    It keeps value → docids (to filter) and docid → the number of the document's
    combination of values (what the document has), so counting a large result is one
    C-level intersection and a tally of combinations, instead of one intersection per value;
    and no persistent object per document (hypatia's KeywordIndex keeps a set per document:
    ten indexes, ten more objects to write for every document). Combination numbers are
    small integers (floats in an LFBTree, exact below 2**24); two writers adding different
    new combinations at once conflict on the same number, and one retries.

    It answers hypatia's index protocol (``index_doc``, ``unindex_doc``, ``reindex_doc``,
    ``reset``) so that it lives in the catalog's hypatia ``Catalog`` beside the others.
    """

    __name__: str | None = None
    family = FAMILY

    def __init__(self, discriminator: str) -> None:
        self.discriminator = discriminator
        self.reset()

    def reset(self) -> None:
        self._fwd_index = OOBTree()  # value → LFTreeSet of docids
        self._combo_of = self.family.IF.BTree()  # docid → combination number
        self._combos = self.family.IO.BTree()  # number → sorted tuple of values
        self._combo_numbers = OOBTree()  # tuple of values → number
        self._num_docs = Length()

    def values_of(self, docid: int) -> tuple[str, ...]:
        number = self._combo_of.get(docid)
        return () if number is None else self._combos[int(number)]

    def index_doc(self, docid: int, obj: Any) -> None:
        """Index the values ``obj`` has (its attribute named by the discriminator), writing
        only what changed: nothing at all when the values are the same."""
        new = tuple(sorted(set(getattr(obj, self.discriminator, ()) or ())))
        old = self.values_of(docid)
        if new == old:
            return
        fwd = self._fwd_index
        for value in set(old).difference(new):
            docids = fwd[value]
            docids.remove(docid)
            if not docids:
                del fwd[value]
        for value in set(new).difference(old):
            docids = fwd.get(value)
            if docids is None:
                docids = fwd[value] = self.family.IF.TreeSet()
            docids.insert(docid)
        if new:
            self._combo_of[docid] = float(self._number(new))
        else:
            del self._combo_of[docid]
        if not old:
            self._num_docs.change(1)
        elif not new:
            self._num_docs.change(-1)

    reindex_doc = index_doc

    def unindex_doc(self, docid: int) -> None:
        self.index_doc(docid, None)

    def _number(self, combo: tuple[str, ...]) -> int:
        number = self._combo_numbers.get(combo)
        if number is None:
            number = self._combos.maxKey() + 1 if len(self._combos) else 1
            self._combos[number] = combo
            self._combo_numbers[combo] = number
        return number

    def indexed_count(self) -> int:
        return self._num_docs()

    def unique_values(self) -> Any:
        return self._fwd_index.keys()

    def docids_for(self, values: Iterable[str]) -> Any:
        """Return the docids having any of ``values`` (one set, never a copy when one value)."""
        sets = [s for s in (self._fwd_index.get(v) for v in values) if s is not None]
        if not sets:
            return self.family.IF.Set()
        return sets[0] if len(sets) == 1 else self.family.IF.multiunion(sets)

    def totals(self) -> dict[str, int]:
        """Return each value's number of documents (over the whole catalog)."""
        return {value: len(docids) for value, docids in self._fwd_index.items()}

    def count(self, docids: Any, size: int) -> Counter:
        """Return ``{value: documents of docids having it}``; ``size`` is ``len(docids)``."""
        if size <= LOOKUPS:
            get = self._combo_of.get
            tally = Counter(get(docid) for docid in docids)
        else:
            _, found = self.family.IF.weightedIntersection(self._combo_of, docids, 1, 0)
            tally = Counter(found.values())
        counts: Counter = Counter()
        combos = self._combos
        for number, n in tally.items():
            if number is None:
                continue
            for value in combos[int(number)]:
                counts[value] += n
        return counts


def _make_indexes() -> IndexSet:
    indexes = IndexSet(family=FAMILY)
    indexes["text"] = TextIndex("text", lexicon=Lexicon(FoldingSplitter()))
    indexes["allowed"] = FacetIndex("allowed")
    indexes["restricted"] = FacetIndex("restricted")  # "yes": what the public may not see
    indexes["state"] = FieldIndex("state")
    for name in FACETS:
        indexes[name] = FacetIndex(name)
    for name in (*SORT_FIELDS, "year_lo", "year_hi"):
        indexes[name] = FieldIndex(name)
    return indexes


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") >> 1


class Catalog(Persistent):
    """``root.catalog``: the indexes, the docid ↔ key map and each document's object."""

    __name__ = "catalog"
    __parent__: Any = None

    def __init__(self) -> None:
        self.indexes = _make_indexes()
        self.docid_of = FAMILY.OI.BTree()  # key → docid
        self.key_of = FAMILY.IO.BTree()  # docid → key
        self.objects = FAMILY.IO.BTree()  # docid → the item or record (a reference)
        self.docids = FAMILY.IF.TreeSet()  # every docid, for set operations
        self.text_digest = FAMILY.II.BTree()  # docid → digest of the indexed text
        self.labels = OOBTree()  # "facet:key" → display form (types, places, partners)
        self._count = Length()

    def __len__(self) -> int:
        return self._count()

    def __getitem__(self, name: str) -> Any:
        return self.indexes[name]

    def object(self, docid: int) -> Any:
        return self.objects.get(docid)

    def label(self, facet: str, value: str, default: Any = None) -> Any:
        return self.labels.get(f"{facet}:{value}", default)

    def _new_docid(self) -> int:
        while True:
            docid = getattr(self, "_v_next_docid", None)
            if docid is None or docid >= MAX_DOCID:
                docid = secrets.randbelow(MAX_DOCID // 2)
            self._v_next_docid = docid + 1
            if docid not in self.key_of:
                return docid

    def index_document(self, key: str, obj: Any, doc: Document) -> int:
        """Index (or reindex) ``doc`` under ``key``; return its docid.

        Only indexes whose values changed are written: hypatia's field and keyword indexes
        return early on an unchanged value, and the text is compared by its digest.
        """
        docid = self.docid_of.get(key)
        if docid is None:
            docid = self._new_docid()
            self.docid_of[key] = docid
            self.key_of[docid] = key
            self.docids.insert(docid)
            self._count.change(1)
        if self.objects.get(docid) is not obj:
            self.objects[docid] = obj
        if Everyone in getattr(doc, "allowed", ()):
            # Display forms come only from what the public may see: a restricted item's
            # spelling of a value (its capitals, accents) must not show in public facets.
            for facet in _LABELLED:
                for value, shown in getattr(doc, facet, {}).items():
                    self._set_label(facet, value, shown, replace=False)
        for name, index in self.indexes.items():
            if name == "text":
                digest = _digest(doc.text)
                if self.text_digest.get(docid) == digest:
                    continue
                self.text_digest[docid] = digest
            index.index_doc(docid, doc)
        return docid

    def unindex(self, key: str) -> None:
        docid = self.docid_of.get(key)
        if docid is None:
            return
        self.indexes.unindex_doc(docid)
        del self.docid_of[key]
        del self.key_of[docid]
        self.objects.pop(docid, None)
        self.text_digest.pop(docid, None)
        self.docids.remove(docid)
        self._count.change(-1)

    def _set_label(self, facet: str, value: str, shown: Any, *, replace: bool) -> None:
        key = f"{facet}:{value}"
        old = self.labels.get(key)
        if old is None or (replace and old != shown):
            self.labels[key] = shown


# -- our items: indexed at commit ------------------------------------------------------------


def _catalog_of(item: Any) -> tuple[Any, Any]:
    root = find_root(item)
    return root, getattr(root, "catalog", None)


def _is_live(root: Any, item: Any) -> bool:
    items = getattr(root, "items", None)
    return item.__parent__ is not None and items is not None and items.get(item.item_id) is item


def index_item(root: Any, item: Any) -> None:
    """Index one of our items now (or unindex it if it has left the tree)."""
    catalog = root.catalog
    if _is_live(root, item):
        catalog.index_document(item_key(item.item_id), item, item_document(item))
    else:
        catalog.unindex(item_key(item.item_id))


#: The key of the catalog's work on a transaction (``Transaction.data``).
_PENDING = object()


def _pending(root: Any) -> dict[str, Any] | None:
    """Return this transaction's dirty items ``{item_id: item}``, registering the hook."""
    jar = root._p_jar
    if jar is None:
        return None
    try:
        txn = jar.transaction_manager.get()
    except NoTransaction:  # an explicit manager outside a transaction: nothing to defer to
        return None
    try:
        return txn.data(_PENDING)
    except KeyError:
        pending: dict[str, Any] = {}
        txn.set_data(_PENDING, pending)
        txn.addBeforeCommitHook(_reindex_pending, (root, pending))
        return pending


def _reindex_pending(root: Any, pending: dict[str, Any]) -> None:
    while pending:
        _, item = pending.popitem()
        index_item(root, item)


def flush(root: Any) -> None:
    """Reindex the items changed so far in this transaction (a search does this first)."""
    if root._p_jar is None:
        return
    try:
        pending = root._p_jar.transaction_manager.get().data(_PENDING)
    except (KeyError, NoTransaction):
        return
    _reindex_pending(root, pending)


@on_item_changed
def item_changed(item: Any) -> None:
    """Mark ``item`` dirty: it is reindexed once, just before this transaction commits."""
    root, catalog = _catalog_of(item)
    if catalog is None:
        return
    pending = _pending(root)
    if pending is None:  # a tree not yet in a database (bootstrap): index at once
        index_item(root, item)
    else:
        pending[item.item_id] = item


@on_item_removed
def item_removed(item: Any) -> None:
    """Take ``item`` out of the catalog now (it is about to leave the tree)."""
    root, catalog = _catalog_of(item)
    if catalog is None:
        return
    pending = _pending(root)
    if pending is not None:
        pending.pop(item.item_id, None)
    catalog.unindex(item_key(item.item_id))


def item_ids_where(
    root: Any,
    *,
    institution: str | None = None,
    states: Iterable[str] = (),
    digital: bool | None = None,
) -> list[str]:
    """Return the sorted ids of our items (of one institution, or of all) in any of
    ``states`` (all states when none are given), optionally only those with
    (``digital=True``) or without files.

    For staff work queues: set operations on the ``institution``, ``state`` and ``digital``
    indexes, and only keys read, so a page loads just the items it shows.
    """
    flush(root)
    catalog = root.catalog
    if institution is None:
        sets = [catalog["source"].docids_for([OURS])]
    else:
        sets = [catalog["institution"].docids_for([institution])]
    if states:
        fwd = catalog["state"]._fwd_index
        found = [s for s in (fwd.get(state) for state in dict.fromkeys(states)) if s is not None]
        if not found:
            return []
        sets.append(found[0] if len(found) == 1 else FAMILY.IF.multiunion(found))
    if digital is not None:
        sets.append(catalog["digital"].docids_for(["yes" if digital else "no"]))
    sets.sort(key=len)
    docids = sets[0]
    for other in sets[1:]:
        docids = FAMILY.IF.intersection(docids, other)
    key_of = catalog.key_of
    return sorted(key_of[d].partition(":")[2] for d in docids)


def reindex_all(root: Any, *, progress: Any = None) -> int:
    """Index every item of ``root.items`` (the evolve step, a rebuild); return the count."""
    n = 0
    for item in root.items.values():
        index_item(root, item)
        n += 1
        if progress is not None:
            progress(n)
    return n


# -- harvested records: the harvester's API ----------------------------------------------


def index_harvested(root: Any, record: Any) -> None:
    """Index (or reindex) a harvested union-catalogue record, in the caller's transaction.

    ``record`` has ``partner_id``, ``partner_name`` (language map), ``identifier``,
    ``datestamp``, ``metadata`` (shaped like ``Item.metadata``), ``link`` and ``manifest``;
    one marked ``deleted`` is unindexed. A persistent record is referenced, any other
    object is copied, so a hit can show it.
    """
    if getattr(record, "deleted", False):
        unindex_harvested(root, record)
        return
    catalog = root.catalog
    obj = record if isinstance(record, Persistent) else RecordSnapshot(record)
    catalog.index_document(harvested_key(record), obj, record_document(record))
    name = dict(getattr(record, "partner_name", {}) or {})
    if name:
        catalog._set_label("source", record.partner_id, name, replace=True)


def unindex_harvested(root: Any, record: Any) -> None:
    """Take a harvested record out of the catalog (deleted at the partner, or dropped)."""
    root.catalog.unindex(harvested_key(record))
