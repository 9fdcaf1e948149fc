"""Tests for heritage.catalog and heritage.search.query: one search over items and records.

Fixture graph::

    zodb              → ZODB.DB(DemoStorage()) (blobs: some items have a file)
      └── conn        → a connection with its own transaction manager; closed at teardown
            └── root  → a bootstrapped Root, committed
                  └── union → two institutions, their items (committed), and one
                              harvested record
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import transaction
import ZODB
from pyramid.authorization import Authenticated, Everyone
from ZODB.DemoStorage import DemoStorage

from heritage.catalog import Catalog, index_harvested, item_key, unindex_harvested
from heritage.evolve import bootstrap
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.files import File
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.search.query import SearchError, has_phrase, search
from heritage.security import ADMIN_PRINCIPAL, community_principal, staff_principal

PUBLIC = [Everyone]
PNS_STAFF = [Everyone, Authenticated, "user:siti", "role:curator@pns", staff_principal("pns")]


def v(value, lang=None):
    return {"value": value, "lang": lang} if lang else {"value": value}


@pytest.fixture
def zodb():
    db = ZODB.DB(DemoStorage())
    yield db
    db.close()


@pytest.fixture
def tm():
    return transaction.TransactionManager()


@pytest.fixture
def root(zodb, tm):
    conn = zodb.open(transaction_manager=tm)
    with tm:
        root = bootstrap(conn.root())
    yield root
    tm.abort()
    conn.close()


def item(item_id, state="published", access="public", community="", files=0, **md):
    record = validate_record({k: list(vs) for k, vs in md.items()})
    it = Item(item_id, record, state=state, access=access, community=community)
    for n in range(files):
        it.files.append(File(f"page-{n}.tif"))
    return it


@pytest.fixture
def union(root, tm):
    with tm:
        pns = root.institutions.add(
            "pns", Institution({"en": "Sarawak State Library"}, country="MY")
        )
        kaltim = root.institutions.add(
            "kaltim", Institution({"id": "Perpustakaan Kaltim"}, country="ID")
        )
        manuscripts = root.add_collection(pns, "pns-ms", Collection({"en": "Manuscripts"}))
        photos = root.add_collection(pns, "pns-photos", Collection({"en": "Photographs"}))
        naskah = root.add_collection(kaltim, "kaltim-naskah", Collection({"id": "Naskah"}))
        manuscripts.add_item(
            item(
                "pns-ms-0001",
                files=2,
                title=[v("Hikayat Raja Pasai", "ms"), v("The Chronicle of Pasai", "en")],
                description=[v("Naskhah Jawi tentang kerajaan Samudera Pasai", "ms")],
                date=[v("1850~")],
                type=[v("Manuscript", "en"), v("Manuskrip", "ms")],
                language=[v("ms-Arab")],
                coverage=[v("Kuching", "ms")],
            )
        )
        manuscripts.add_item(
            item(
                "pns-ms-0002",
                state="capture",
                title=[v("Syair Rahsia Perigi", "ms")],
                date=[v("1870")],
                type=[v("Manuscript", "en")],
            )
        )
        manuscripts.add_item(
            item(
                "pns-ms-0003",
                access="staff",
                title=[v("Surat Rahsia Sultan", "ms")],
                date=[v("1880")],
                type=[v("Manuscript", "en")],
            )
        )
        photos.add_item(
            item(
                "pns-ph-0001",
                files=1,
                title=[v("Gambar rumah panjang", "ms")],
                description=[v("A longhouse at Betong, Sarawak", "en")],
                date=[v("1965-06-01")],
                type=[v("Photograph", "en")],
                language=[v("iba")],
                coverage=[v("Betong", "ms")],
            )
        )
        photos.add_item(
            item(
                "pns-ph-0002",
                access="community",
                community="iban-elders",
                title=[v("Gawai Antu", "iba")],
                date=[v("1962")],
                type=[v("Photograph", "en")],
            )
        )
        naskah.add_item(
            item(
                "kaltim-ms-0001",
                title=[v("Tjerita Radja Koetai", "id")],
                description=[
                    v("Naskah tentang kerajaan Kutai Kartanegara di tepi sungai Mahakam", "id")
                ],
                date=[v("1849~")],
                type=[v("Manuscript", "en"), v("Naskah", "id")],
                language=[v("id"), v("bjn")],
                coverage=[v("Tenggarong", "id")],
            )
        )
        naskah.add_item(
            item(
                "kaltim-ms-0002",
                title=[v("Hikayat Banjar", "id")],
                description=[v("Pasai dan raja-raja Banjar; édition à Leyde", "id")],
                date=[v("1895/1905")],
                type=[v("Text", "en")],
                language=[v("ms")],
            )
        )
    record = SimpleNamespace(
        key="unimas:oai:unimas:42",
        partner_id="unimas",
        partner_name={"en": "UNIMAS Library"},
        identifier="oai:unimas:42",
        datestamp="2024-05-01T00:00:00Z",
        metadata={
            "title": (v("Hikayat Sarawak", "ms"),),
            "description": (v("Sejarah negeri di tepi sungai", "ms"),),
            "date": (v("1900-1910"),),
            "type": (v("text"),),
        },
        link="https://unimas.example/records/42",
        manifest="https://unimas.example/iiif/42/manifest",
    )
    with tm:
        index_harvested(root, record)
    return SimpleNamespace(root=root, record=record)


def ids(result):
    return sorted(h.key for h in result.hits)


def facet(result, name):
    return {fv.value: fv.count for fv in result.facets[name]}


def test_a_new_database_has_an_empty_catalog(root):
    assert isinstance(root.catalog, Catalog)
    assert len(root.catalog) == 0
    assert search(root, PUBLIC).total == 0


def test_found_by_a_word_of_its_malay_title(union):
    result = search(union.root, PUBLIC, q="pasai")
    assert ids(result) == ["item:kaltim-ms-0002", "item:pns-ms-0001"]
    assert result.hits[0].key == "item:pns-ms-0001"  # in the title: ranked first


def test_found_by_a_word_of_its_indonesian_description(union):
    assert ids(search(union.root, PUBLIC, q="Mahakam")) == ["item:kaltim-ms-0001"]


def test_case_and_accents_are_folded(union):
    assert ids(search(union.root, PUBLIC, q="EDITION leyde")) == ["item:kaltim-ms-0002"]
    assert ids(search(union.root, PUBLIC, q="Édition")) == ["item:kaltim-ms-0002"]


def test_old_and_new_spellings_find_each_other(union):
    # Indexed as "Tjerita Radja Koetai"; a reader types today's spelling, or the old one.
    assert ids(search(union.root, PUBLIC, q="cerita raja kutai")) == ["item:kaltim-ms-0001"]
    assert "item:pns-ms-0001" in ids(search(union.root, PUBLIC, q="radja"))


def test_every_word_must_match(union):
    assert ids(search(union.root, PUBLIC, q="hikayat banjar")) == ["item:kaltim-ms-0002"]
    assert search(union.root, PUBLIC, q="hikayat nowhere").total == 0


def test_phrases_match_words_in_order(union):
    assert ids(search(union.root, PUBLIC, q='"raja pasai"')) == ["item:pns-ms-0001"]
    # kaltim-ms-0002 has both words, apart and in the other order.
    assert ids(search(union.root, PUBLIC, q="raja pasai")) == [
        "item:kaltim-ms-0002",
        "item:pns-ms-0001",
    ]
    assert search(union.root, PUBLIC, q='"pasai raja"').total == 0
    # "Hikayat Raja Pasai" then "The Chronicle of Pasai": no phrase across two values
    assert search(union.root, PUBLIC, q='"pasai the chronicle"').total == 0
    assert search(union.root, PUBLIC, q='"the chronicle of pasai"').total == 1


def test_a_phrase_does_not_match_a_longer_word_id_with_the_same_prefix():
    # widcode: wid 5 is "\x85"; wid 643 (5 * 128 + 3) is "\x85\x03". hypatia's str.find
    # alone would find [9, 5] inside [9, 643].
    from hypatia.text import widcode

    assert has_phrase(widcode.encode([9, 643]), widcode.encode([9, 643]))
    assert not has_phrase(widcode.encode([9, 643]), widcode.encode([9, 5]))
    assert has_phrase(widcode.encode([9, 643, 9, 5, 7]), widcode.encode([9, 5]))


def test_user_text_never_fails(union):
    for q in ['"', "AND", "not", "*", "(hikayat", "hik*", "the", "a" * 500, "\x00", "٣"]:
        search(union.root, PUBLIC, q=q)
    assert search(union.root, PUBLIC, q="!!!").total == 5  # no words: everything


def test_facet_counts_over_the_whole_result(union):
    result = search(union.root, PUBLIC, q="")
    assert result.total == 4 + 1  # public items + the harvested record
    assert facet(result, "institution") == {"pns": 2, "kaltim": 2}
    assert facet(result, "collection") == {"pns-ms": 1, "pns-photos": 1, "kaltim-naskah": 2}
    assert facet(result, "type") == {
        "manuscript": 2,
        "manuskrip": 1,
        "naskah": 1,
        "photograph": 1,
        "text": 2,
    }
    assert facet(result, "language") == {"ms-Arab": 1, "iba": 1, "id": 1, "bjn": 1, "ms": 1}
    assert facet(result, "digital") == {"yes": 3, "no": 2}
    assert facet(result, "source") == {"ours": 4, "unimas": 1}
    assert facet(result, "place") == {"kuching": 1, "betong": 1, "tenggarong": 1}
    assert union.root.catalog.label("type", "manuscript") == "Manuscript"


def test_filters_combine_within_and_across_facets(union):
    root = union.root
    result = search(root, PUBLIC, filters={"type": ["manuscript", "text"]})
    assert result.total == 4
    result = search(root, PUBLIC, filters={"type": ["manuscript"], "institution": ["kaltim"]})
    assert ids(result) == ["item:kaltim-ms-0001"]
    assert next(fv for fv in result.facets["institution"] if fv.selected).value == "kaltim"
    assert search(root, PUBLIC, q="hikayat", filters={"source": ["unimas"]}).total == 1


def test_dates_facets_and_ranges_read_edtf(union):
    root = union.root
    result = search(root, PUBLIC)
    assert facet(result, "century") == {"1800": 3, "1900": 3}
    assert facet(result, "decade") == {
        "1840": 1,
        "1850": 1,
        "1890": 1,
        "1900": 2,
        "1910": 1,
        "1960": 1,
    }
    # 1895/1905 spans two decades and is in both; the record's 1900-1910 in two more.
    assert ids(search(root, PUBLIC, filters={"decade": ["1890"]})) == ["item:kaltim-ms-0002"]
    in_1900s = search(root, PUBLIC, date_from=1900, date_to=1909)
    assert ids(in_1900s) == ["harvested:unimas:oai:unimas:42", "item:kaltim-ms-0002"]
    assert search(root, PUBLIC, date_from="1960").total == 1
    assert search(root, PUBLIC, date_to=1849).total == 1
    with pytest.raises(SearchError) as e:
        search(root, PUBLIC, date_from=1900, date_to=1800)
    assert e.value.field == "from"


def test_sorting_and_paging(union):
    root = union.root
    by_title = [h.key for h in search(root, PUBLIC, sort="title", size=100).hits]
    assert by_title == [
        "item:pns-ph-0001",  # gambar
        "item:kaltim-ms-0002",  # hikayat banjar
        "item:pns-ms-0001",  # hikayat raja
        "harvested:unimas:oai:unimas:42",  # hikayat sarawak
        "item:kaltim-ms-0001",  # tjerita
    ]
    pages = [search(root, PUBLIC, sort="title", size=2, page=p) for p in (1, 2, 3, 4)]
    assert [h.key for p in pages for h in p.hits] == by_title
    assert pages[0].pages == 3 and pages[3].hits == []
    by_date = [h.key for h in search(root, PUBLIC, sort="-date").hits]
    assert by_date[0] == "item:pns-ph-0001" and by_date[-1] == "item:kaltim-ms-0001"
    assert search(root, PUBLIC, q="hikayat").sort == "relevance"
    assert search(root, PUBLIC).sort == "title"


def test_sorting_puts_undated_documents_last_both_ways(union, tm):
    root = union.root
    with tm:
        root.collections["pns-ms"].add_item(item("pns-ms-0009", title=[v("Undated", "en")]))
    assert search(root, PUBLIC, sort="date").hits[-1].key == "item:pns-ms-0009"
    assert search(root, PUBLIC, sort="-date").hits[-1].key == "item:pns-ms-0009"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"sort": "random"}, "sort"),
        ({"filters": {"colour": ["red"]}}, "colour"),
        ({"date_from": "soon"}, "from"),
        ({"page": 1000, "size": 100}, "page"),
        ({"q": "x" * 501}, "q"),
    ],
)
def test_bad_parameters_name_the_field(union, kw, field):
    with pytest.raises(SearchError) as e:
        search(union.root, PUBLIC, **kw)
    assert e.value.field == field


def test_restricted_items_never_show_to_the_public(union):
    root = union.root
    for q in ("rahsia", "gawai", ""):
        keys = ids(search(root, PUBLIC, q=q, size=100))
        assert not {"item:pns-ms-0002", "item:pns-ms-0003", "item:pns-ph-0002"} & set(keys)
    result = search(root, PUBLIC)
    assert facet(result, "institution")["pns"] == 2
    assert "1870" not in facet(result, "decade") and "1880" not in facet(result, "decade")
    assert search(root, PUBLIC, q="rahsia").facets["institution"] == []


def test_facet_labels_never_show_a_restricted_items_spelling(root, tm):
    """A value's display form comes from a public document, never from a restricted one
    that was catalogued first (its capitals and accents are its own)."""
    with tm:
        pns = root.institutions.add("pns", Institution({"en": "Sarawak Library"}, country="MY"))
        coll = root.add_collection(pns, "pns-oh", Collection({"en": "Oral history"}))
        coll.add_item(
            item(
                "pns-oh-0001",
                access="staff",
                title=[v("Sabak", "iba")],
                type=[v("RITUAL Chänt", "en")],
            )
        )
    with tm:
        coll.add_item(
            item("pns-oh-0002", title=[v("Renong", "iba")], type=[v("ritual chant", "en")])
        )
    (public,) = search(root, PUBLIC).facets["type"]
    assert (root.catalog.label("type", public.value), public.count) == ("ritual chant", 1)
    (staff,) = search(root, PNS_STAFF).facets["type"]
    assert (root.catalog.label("type", staff.value), staff.count) == ("ritual chant", 2)


def test_staff_see_their_own_unpublished_items(union):
    root = union.root
    assert ids(search(root, PNS_STAFF, q="rahsia")) == ["item:pns-ms-0002", "item:pns-ms-0003"]
    kaltim = [Everyone, Authenticated, staff_principal("kaltim")]
    assert search(root, kaltim, q="rahsia").total == 0
    assert search(root, [Everyone, ADMIN_PRINCIPAL], q="rahsia").total == 2
    elders = [Everyone, Authenticated, community_principal("iban-elders")]
    assert ids(search(root, elders, q="gawai")) == ["item:pns-ph-0002"]
    assert facet(search(root, PNS_STAFF), "institution")["pns"] == 5


def test_a_withdrawn_item_leaves_results_in_the_same_transaction(union, tm):
    root = union.root
    tm.begin()
    root.items["pns-ms-0001"].set_state("withdrawn")
    # Not committed yet: a search in this transaction already sees the change ...
    assert "item:pns-ms-0001" not in ids(search(root, PUBLIC, q="pasai"))
    tm.abort()
    assert "item:pns-ms-0001" in ids(search(root, PUBLIC, q="pasai"))
    # ... and committing it reindexes it as part of that same transaction.
    with tm:
        root.items["pns-ms-0001"].set_state("withdrawn")
    assert "item:pns-ms-0001" not in ids(search(root, PUBLIC, q="pasai"))
    assert ids(search(root, PNS_STAFF, q="pasai")) == [
        "item:kaltim-ms-0002",
        "item:pns-ms-0001",
    ]


def test_an_edit_is_reindexed_once_at_commit_and_only_where_it_changed(union, tm):
    root = union.root
    catalog = root.catalog
    docid = catalog.docid_of[item_key("pns-ms-0001")]
    manuscripts = catalog["type"]._fwd_index["manuscript"]
    serials = (manuscripts._p_serial, catalog["type"]._combo_of._p_serial)
    words = catalog["text"].index._docwords
    with tm:
        it = root.items["pns-ms-0001"]
        it.metadata["title"] = ({"value": "Hikayat Raja-Raja Pasai", "lang": "ms"},)
        it.touch()
        it.touch()
    # the type did not change: its index was not written; the text was
    assert (manuscripts._p_serial, catalog["type"]._combo_of._p_serial) == serials
    assert "raja" in catalog["text"].index.document_repr(docid)
    assert words is catalog["text"].index._docwords
    assert ids(search(root, PUBLIC, q='"raja raja pasai"')) == ["item:pns-ms-0001"]
    assert search(root, PUBLIC, q="chronicle").total == 0


def test_a_removed_item_leaves_the_catalog(union, tm):
    from heritage.changes import item_removed

    root = union.root
    with tm:
        it = root.items["kaltim-ms-0001"]
        item_removed(it)
        it.__parent__.remove(it.__name__)
        root.items.unregister(it.item_id)
    assert search(root, PUBLIC, q="mahakam").total == 0
    assert item_key("kaltim-ms-0001") not in root.catalog.docid_of


def test_harvested_records_are_public_and_link_out(union, tm):
    root = union.root
    result = search(root, PUBLIC, q="sungai")
    assert ids(result) == ["harvested:unimas:oai:unimas:42", "item:kaltim-ms-0001"]
    hit = next(h for h in result.hits if h.kind == "harvested")
    assert hit.obj.link == "https://unimas.example/records/42"
    assert hit.obj.manifest.endswith("/manifest")
    assert root.catalog.label("source", "unimas") == {"en": "UNIMAS Library"}
    record = union.record
    record.metadata = {"title": (v("Hikayat Sarawak Baru", "ms"),)}
    with tm:
        index_harvested(root, record)  # reindexed in place: still one document
    assert search(root, PUBLIC, q="hikayat sarawak").total == 1
    assert search(root, PUBLIC, q="sungai").total == 1
    record.deleted = True
    with tm:
        index_harvested(root, record)
    assert search(root, PUBLIC, q="sarawak").total == 1  # only the photograph's description
    with tm:
        unindex_harvested(root, record)  # and again: no error
    assert len(root.catalog) == 7


def test_reindex_all_rebuilds_from_the_items(union, tm):
    from heritage.catalog import reindex_all

    root = union.root
    with tm:
        root.catalog = Catalog()
        root.catalog.__parent__ = root
        assert reindex_all(root) == 7
    assert search(root, PUBLIC).total == 4
    assert search(root, PNS_STAFF).total == 7


def test_evolve_step_0007_catalogues_an_older_database(zodb, union, tm, monkeypatch):
    from heritage.evolve import FINISHED, prepare, step_0007_catalog

    monkeypatch.setattr(step_0007_catalog, "BATCH", 2)  # savepoints on the way

    root = union.root
    with tm:
        root.harvested.store(
            "unimas",
            {"en": "UNIMAS Library"},
            {"identifier": "oai:unimas:7", "metadata": {"title": (v("Syair Burung", "ms"),)}},
        )
        del root.catalog  # as a database made before the catalog was
        del root._p_jar.root()[FINISHED]["step_0007_catalog"]
    assert prepare(zodb) == ["step_0007_catalog"]
    tm.begin()
    assert len(root.catalog) == 7 + 1  # every item, and the stored harvested record
    assert ids(search(root, PUBLIC, q="syair burung")) == ["harvested:unimas:oai:unimas:7"]
    assert search(root, PNS_STAFF, q="rahsia").total == 2
    tm.abort()


def test_work_queues_find_items_by_institution_state_and_files(union, tm):
    from heritage.catalog import item_ids_where

    root = union.root
    assert item_ids_where(root, institution="pns", states=["capture"]) == ["pns-ms-0002"]
    assert item_ids_where(root, institution="pns", states=["capture", "published"]) == [
        "pns-ms-0001",
        "pns-ms-0002",
        "pns-ms-0003",
        "pns-ph-0001",
        "pns-ph-0002",
    ]
    assert item_ids_where(root, institution="kaltim", states=["qa"]) == []
    assert item_ids_where(root, digital=True) == ["pns-ms-0001", "pns-ph-0001"]
    tm.begin()
    root.items["pns-ms-0001"].set_state("withdrawn")  # seen before the commit, too
    assert item_ids_where(root, institution="pns", states=["withdrawn"]) == ["pns-ms-0001"]
    tm.abort()


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"q": "hikayat"},
        {"q": "pasai raja"},
        {"filters": {"type": ["manuscript"]}},
        {"date_from": 1800, "date_to": 1900},
    ],
)
def test_large_result_strategies_give_the_same_answers(union, monkeypatch, kw):
    """Counting and sorting switch strategy above SMALL documents (set operations on whole
    values, totals minus what is left out, walking a sort index): same answers."""
    import heritage.catalog
    import heritage.search.query

    root = union.root
    principals = [*PNS_STAFF, community_principal("iban-elders")]
    expected = {
        sort: [h.key for h in search(root, principals, sort=sort, size=100, **kw).hits]
        for sort in ("title", "-title", "date", "-date", "modified", "-modified")
    }
    facets = {k: v for k, v in search(root, principals, **kw).facets.items()}
    monkeypatch.setattr(heritage.catalog, "SMALL", 0)
    monkeypatch.setattr(heritage.search.query, "SMALL", 0)
    for sort, keys in expected.items():
        for size in (1, 2, 3):
            pages = [
                search(root, principals, sort=sort, size=size, page=p, **kw)
                for p in range(1, len(keys) // size + 2)
            ]
            assert [h.key for p in pages for h in p.hits] == keys, (sort, size)
    assert search(root, principals, **kw).facets == facets


@pytest.mark.parametrize("q", ["hikayat", "raja pasai", '"raja pasai"', "sungai"])
def test_scores_are_okapi_bm25_in_python_as_in_c(union, monkeypatch, q):
    import heritage.search.query

    root = union.root
    monkeypatch.setattr(heritage.search.query, "SCORE_IN_C", 10**9)
    in_c = [(h.key, h.score) for h in search(root, PNS_STAFF, q=q).hits]
    monkeypatch.setattr(heritage.search.query, "SCORE_IN_C", 0)
    in_python = [(h.key, h.score) for h in search(root, PNS_STAFF, q=q).hits]
    assert [k for k, _ in in_python] == [k for k, _ in in_c]
    assert [s for _, s in in_python] == pytest.approx([s for _, s in in_c], rel=1e-5)


def test_principals_without_everyone_see_only_what_those_open(union):
    root = union.root
    only_staff = [staff_principal("pns")]
    assert ids(search(root, only_staff, size=100)) == [
        "item:pns-ms-0001",
        "item:pns-ms-0002",
        "item:pns-ms-0003",
        "item:pns-ph-0001",
        "item:pns-ph-0002",
    ]
    assert ids(search(root, only_staff, q="hikayat")) == ["item:pns-ms-0001"]
    assert facet(search(root, only_staff), "institution") == {"pns": 5}
    assert search(root, [], q="hikayat").total == 0


def test_an_explicit_transaction_manager_between_transactions(zodb):
    explicit = transaction.TransactionManager(explicit=True)
    conn = zodb.open(transaction_manager=explicit)
    with explicit:
        root = bootstrap(conn.root())
    assert search(root, PUBLIC).total == 0  # no transaction: nothing pending to flush
    conn.close()
