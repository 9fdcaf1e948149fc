"""Tests for the persistent model: Root, Institution, Collection and Item.

Fixture graph::

    zodb            → ZODB.DB(None), closed at teardown
      └── root      → a bootstrapped Root in its own connection; aborted at teardown
            └── consortium → two institutions (unimas, pns), one collection each
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import transaction
import ZODB
from pyramid.traversal import find_interface, find_resource, find_root, resource_path

from heritage.evolve import bootstrap
from heritage.resources.collection import Collection
from heritage.resources.folder import FolderError
from heritage.resources.institution import Institution
from heritage.resources.item import ITEM_ID_MAX, Item, validate_item_id
from heritage.resources.root import APP_ROOT, Root
from workflows.states import CAPTURE, NOMINATED, PUBLISHED, QA, SELECTED, STATES

TITLE = {"title": ({"value": "Hikayat Raja Pasai", "lang": "ms"},)}


@pytest.fixture
def zodb():
    db = ZODB.DB(None)
    yield db
    db.close()


@pytest.fixture
def root(zodb):
    tm = transaction.TransactionManager()
    conn = zodb.open(transaction_manager=tm)
    root = bootstrap(conn.root())
    tm.savepoint()
    yield root
    tm.abort()
    conn.close()


@pytest.fixture
def consortium(root):
    unimas = root.institutions.add("unimas", Institution({"en": "UNIMAS"}, country="MY"))
    pns = root.institutions.add("pns", Institution({"en": "Pustaka Negeri Sarawak"}, country="MY"))
    manuscripts = root.add_collection(unimas, "manuscripts", Collection({"en": "Manuscripts"}))
    photographs = root.add_collection(pns, "photographs", Collection({"en": "Photographs"}))
    return SimpleNamespace(
        root=root, unimas=unimas, pns=pns, manuscripts=manuscripts, photographs=photographs
    )


def make_item(item_id="unimas-ms-0007", **kw):
    return Item(item_id, dict(TITLE), **kw)


# -- item ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item_id", ["unimas-ms-0007", "abc", "a1b", "007", "a-b", "x" * ITEM_ID_MAX, "pns-1-2-3"]
)
def test_valid_item_ids(item_id):
    assert validate_item_id(item_id) == item_id


@pytest.mark.parametrize(
    "item_id",
    [
        "UNIMAS-ms-0007",
        "unimas ms 0007",
        "-unimas",
        "unimas-",
        "unimas--ms",
        "unimas_ms",
        "unimas.ms",
        "unimas/ms",
        "ab",
        "",
        "x" * (ITEM_ID_MAX + 1),
        "naskhah-é",
        None,
        7,
    ],
)
def test_invalid_item_ids(item_id):
    with pytest.raises(ValueError, match="unimas-ms-0007"):
        validate_item_id(item_id)


# -- Item on its own --------------------------------------------------------------------------


def test_new_item_defaults():
    item = make_item()
    assert item.item_id == "unimas-ms-0007"
    assert item.state == NOMINATED
    assert item.access == "staff"
    assert item.community == ""
    assert item.rights == ""
    assert item.viewing_direction == "left-to-right"
    assert list(item.files) == []
    assert item.created == item.modified
    assert item.published is False
    assert item.institution is None
    assert item.collection is None


def test_item_refuses_a_bad_id():
    with pytest.raises(ValueError):
        Item("Bad Id", dict(TITLE))


def test_item_title():
    item = Item(
        "x-1", {"title": ({"value": "Hikayat", "lang": "ms"}, {"value": "Tale", "lang": "en"})}
    )
    assert item.title() == "Hikayat"
    assert item.title(("en",)) == "Tale"
    assert item.title(("iba",)) == "Hikayat"  # no Iban title: the first one
    assert Item("untitled", {}).title() == "untitled"  # no title at all: the id


@pytest.mark.parametrize("access", ["public", "metadata-only", "staff"])
def test_set_access(access):
    item = make_item()
    item.set_access(access)
    assert item.access == access
    assert item.community == ""


def test_set_access_community():
    item = make_item(access="community", community="iban-pua-kumbu")
    assert (item.access, item.community) == ("community", "iban-pua-kumbu")
    # leaving community access forgets the protocol
    item.set_access("public", "iban-pua-kumbu")
    assert (item.access, item.community) == ("public", "")


def test_set_access_refuses_unknown_levels_and_community_without_name():
    item = make_item(access="public")
    with pytest.raises(ValueError, match="access must be one of"):
        item.set_access("secret")
    with pytest.raises(ValueError, match="community"):
        item.set_access("community")
    with pytest.raises(ValueError, match="community"):
        make_item(access="community")
    assert item.access == "public"


def test_published_only_in_published_state():
    for state in STATES:
        assert make_item(state=state).published is (state == PUBLISHED)


# -- Collection.add_item and state counts -----------------------------------------------------


def test_add_item(consortium):
    c = consortium
    item = c.manuscripts.add_item(make_item())
    assert c.root.items["unimas-ms-0007"] is item
    assert len(c.root.items) == 1
    assert c.manuscripts.items["unimas-ms-0007"] is item
    assert len(c.manuscripts.items) == 1
    assert item.__name__ == "unimas-ms-0007"
    assert item.__parent__ is c.manuscripts.items
    assert item.collection is c.manuscripts
    assert item.institution is c.unimas
    assert c.unimas.counts() == {NOMINATED: 1}
    assert c.pns.counts() == {}


def test_add_item_counts_its_state(consortium):
    c = consortium
    c.manuscripts.add_item(make_item("unimas-1"))
    c.manuscripts.add_item(make_item("unimas-2"))
    c.manuscripts.add_item(make_item("unimas-3", state=PUBLISHED))
    c.photographs.add_item(make_item("pns-1", state=CAPTURE))
    assert c.unimas.counts() == {NOMINATED: 2, PUBLISHED: 1}
    assert c.pns.counts() == {CAPTURE: 1}


def test_set_state_moves_counts(consortium):
    c = consortium
    item = c.manuscripts.add_item(make_item("unimas-1"))
    c.manuscripts.add_item(make_item("unimas-2"))
    item.set_state(SELECTED)
    assert item.state == SELECTED
    assert c.unimas.counts() == {NOMINATED: 1, SELECTED: 1}
    item.set_state(CAPTURE)
    item.set_state(QA)
    assert c.unimas.counts() == {NOMINATED: 1, SELECTED: 0, CAPTURE: 0, QA: 1}
    assert sum(c.unimas.counts().values()) == 2


def test_set_state_to_the_same_state_keeps_counts(consortium):
    item = consortium.manuscripts.add_item(make_item())
    item.set_state(NOMINATED)
    assert consortium.unimas.counts() == {NOMINATED: 1}


def test_set_state_refuses_unknown_states(consortium):
    item = consortium.manuscripts.add_item(make_item())
    with pytest.raises(ValueError, match="unknown workflow state"):
        item.set_state("lost")
    assert item.state == NOMINATED
    assert consortium.unimas.counts() == {NOMINATED: 1}


def test_set_state_touches(monkeypatch):
    item = make_item()
    monkeypatch.setattr("heritage.resources.item.now", lambda: "2030-01-01T00:00:00+00:00")
    item.set_state(SELECTED)  # no institution: no counts, still recorded
    assert item.state == SELECTED
    assert item.modified == "2030-01-01T00:00:00+00:00"
    assert item.created != item.modified


def test_item_ids_are_unique_across_the_consortium(consortium):
    c = consortium
    first = c.manuscripts.add_item(make_item("shared-id"))
    second = make_item("shared-id")
    with pytest.raises(FolderError, match="already used in the consortium"):
        c.photographs.add_item(second)
    assert c.root.items["shared-id"] is first
    assert len(c.root.items) == 1
    assert "shared-id" not in c.photographs.items
    assert second.__parent__ is None
    assert c.pns.counts() == {}


def test_same_item_id_twice_in_a_collection_is_refused(consortium):
    c = consortium
    c.manuscripts.add_item(make_item("x-1"))
    with pytest.raises(FolderError):
        c.manuscripts.add_item(make_item("x-1"))
    assert len(c.manuscripts.items) == 1
    assert c.unimas.counts() == {NOMINATED: 1}


# -- Root and collections ---------------------------------------------------------------------


def test_bootstrap_root(root, zodb):
    assert isinstance(root, Root)
    assert root.__name__ == ""
    assert root.__parent__ is None
    for name in ("institutions", "items", "collections", "users"):
        child = root[name]
        assert child is getattr(root, name)
        assert child.__name__ == name
        assert child.__parent__ is root
        assert len(child) == 0
    with pytest.raises(KeyError):
        root["title"]
    assert root.title["ms"] == "Warisan Borneo"


def test_root_is_stored_under_its_key(zodb):
    tm = transaction.TransactionManager()
    conn = zodb.open(transaction_manager=tm)
    with tm:
        bootstrap(conn.root())
    assert isinstance(conn.root()[APP_ROOT], Root)
    conn.close()


def test_add_collection(consortium):
    c = consortium
    assert c.root.collections["manuscripts"] is c.manuscripts
    assert c.root.collections["photographs"] is c.photographs
    assert len(c.root.collections) == 2
    assert c.unimas.collections["manuscripts"] is c.manuscripts
    assert c.manuscripts.__name__ == "manuscripts"
    assert c.manuscripts.__parent__ is c.unimas.collections
    assert c.manuscripts.institution is c.unimas
    assert list(c.pns.collections.keys()) == ["photographs"]


def test_collection_ids_are_unique_across_the_consortium(consortium):
    c = consortium
    other = Collection({"en": "Also manuscripts"})
    with pytest.raises(FolderError):
        c.root.add_collection(c.pns, "manuscripts", other)
    assert c.root.collections["manuscripts"] is c.manuscripts
    assert len(c.root.collections) == 2
    assert "manuscripts" not in c.pns.collections
    assert other.__parent__ is None


def test_collection_defaults():
    coll = Collection({"en": "Manuscripts"})
    assert dict(coll.title) == {"en": "Manuscripts"}
    assert dict(coll.description) == {}
    assert coll.items.__parent__ is coll
    assert coll.items.__name__ == "items"
    assert coll.institution is None


def test_institution_defaults():
    inst = Institution({"en": "UNIMAS", "ms": "UNIMAS"}, country="MY", place="Kota Samarahan")
    assert inst.country == "MY"
    assert inst.homepage == ""
    assert inst.collections.__parent__ is inst
    assert inst.collections.__name__ == "collections"
    assert inst.counts() == {}
    inst.count_state(QA, 2)
    inst.count_state(QA, -1)
    assert inst.counts() == {QA: 1}


# -- lineage ----------------------------------------------------------------------------------


def test_lineage(consortium):
    c = consortium
    item = c.manuscripts.add_item(make_item())
    assert find_interface(item, Institution) is c.unimas
    assert find_interface(item, Collection) is c.manuscripts
    assert find_interface(item, Root) is c.root
    assert find_root(item) is c.root
    assert (
        resource_path(item) == "/institutions/unimas/collections/manuscripts/items/unimas-ms-0007"
    )
    assert resource_path(c.pns) == "/institutions/pns"


def test_stable_urls_traverse_to_the_real_resources(consortium):
    c = consortium
    item = c.photographs.add_item(make_item("pns-foto-1"))
    assert find_resource(c.root, "/items/pns-foto-1") is item
    assert find_resource(c.root, "/collections/photographs") is c.photographs
    assert find_resource(c.root, "/institutions/pns") is c.pns
    # found through the index, but located in its collection
    assert item.institution is c.pns


def test_model_survives_a_commit(zodb):
    tm = transaction.TransactionManager()
    conn = zodb.open(transaction_manager=tm)
    with tm:
        root = bootstrap(conn.root())
        inst = root.institutions.add("unimas", Institution({"en": "UNIMAS"}, country="MY"))
        coll = root.add_collection(inst, "manuscripts", Collection({"en": "Manuscripts"}))
        coll.add_item(make_item()).set_state(SELECTED)
    conn.close()

    conn = zodb.open(transaction_manager=tm)
    root = conn.root()[APP_ROOT]
    item = root.items["unimas-ms-0007"]
    assert item.institution is root.institutions["unimas"]
    assert item.collection is root.collections["manuscripts"]
    assert root.institutions["unimas"].counts() == {NOMINATED: 0, SELECTED: 1}
    conn.close()
