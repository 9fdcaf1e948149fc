"""Tests for heritage.resources.folder: BTree folders with a Length counter, and indexes."""

from __future__ import annotations

import pytest
import transaction
import ZODB
from persistent import Persistent

from heritage.resources.folder import Folder, FolderError, Index, check_name


class Thing(Persistent):
    __name__ = None
    __parent__ = None


@pytest.fixture
def folder():
    return Folder()


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "unimas-ms-0007", "with space", "x.y", "@not-view"])
def test_check_name_accepts(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", None, 7, "a/b", "/", "@@edit", ".", ".."])
def test_check_name_refuses(name):
    with pytest.raises(FolderError):
        check_name(name)


def test_folder_error_is_a_value_error():
    assert issubclass(FolderError, ValueError)


# -- Folder.add / remove ----------------------------------------------------------------------


def test_add_locates_the_child(folder):
    thing = Thing()
    assert folder.add("one", thing) is thing
    assert thing.__name__ == "one"
    assert thing.__parent__ is folder
    assert folder["one"] is thing
    assert folder.get("one") is thing
    assert "one" in folder


@pytest.mark.parametrize("name", ["", "a/b", "@@view", ".."])
def test_add_refuses_bad_names(folder, name):
    thing = Thing()
    with pytest.raises(FolderError):
        folder.add(name, thing)
    assert thing.__parent__ is None
    assert len(folder) == 0
    assert list(folder) == []


def test_add_refuses_duplicates(folder):
    first, second = Thing(), Thing()
    folder.add("one", first)
    with pytest.raises(FolderError, match="already exists"):
        folder.add("one", second)
    assert folder["one"] is first
    assert second.__parent__ is None
    assert len(folder) == 1


def test_add_refuses_an_object_that_has_a_parent(folder):
    other = Folder()
    thing = other.add("one", Thing())
    with pytest.raises(FolderError, match="another folder"):
        folder.add("two", thing)
    assert thing.__parent__ is other
    assert thing.__name__ == "one"
    assert "two" not in folder
    assert len(folder) == 0


def test_len_follows_add_and_remove(folder):
    assert len(folder) == 0
    for name in ("a", "b", "c"):
        folder.add(name, Thing())
    assert len(folder) == 3
    removed = folder.remove("b")
    assert len(folder) == 2
    assert removed.__parent__ is None
    assert "b" not in folder
    # a removed object can be added again
    folder.add("d", removed)
    assert len(folder) == 3
    assert removed.__parent__ is folder


def test_len_uses_the_length_counter_not_the_btree(folder):
    folder.add("a", Thing())
    folder._num_objects.change(41)  # the counter is what len() reports
    assert len(folder) == 42


def test_remove_unknown_name(folder):
    with pytest.raises(KeyError):
        folder.remove("nobody")
    assert len(folder) == 0


def test_empty_folder_is_true(folder):
    assert folder  # an empty folder must not look like None in `if folder:`
    assert not list(folder)


def test_keys_are_sorted_and_bounded(folder):
    for name in ("d", "b", "a", "e", "c"):
        folder.add(name, Thing())
    assert list(folder) == ["a", "b", "c", "d", "e"]
    assert list(folder.keys()) == ["a", "b", "c", "d", "e"]
    assert list(folder.keys(min="b")) == ["b", "c", "d", "e"]
    assert list(folder.keys(min="b", excludemin=True)) == ["c", "d", "e"]
    assert list(folder.keys(min="b", max="d", excludemax=True)) == ["b", "c"]
    assert list(folder.keys(min="bb")) == ["c", "d", "e"]
    assert [v.__name__ for v in folder.values(min="d")] == ["d", "e"]
    assert [k for k, _ in folder.items()] == ["a", "b", "c", "d", "e"]


def test_folder_persists_with_its_count():
    db = ZODB.DB(None)
    try:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        with tm:
            folder = conn.root()["folder"] = Folder()
            folder.add("a", Thing())
            folder.add("b", Thing())
        conn.close()

        conn = db.open(transaction_manager=tm)
        folder = conn.root()["folder"]
        assert len(folder) == 2
        assert folder["a"].__parent__ is folder
        assert folder["b"].__name__ == "b"
        conn.close()
    finally:
        db.close()


# -- Index ------------------------------------------------------------------------------------


def test_index_register_does_not_locate():
    folder, index = Folder(), Index()
    thing = folder.add("one", Thing())
    index.register("one", thing)
    assert index["one"] is thing
    assert thing.__parent__ is folder  # ACLs come from the real lineage
    assert thing.__name__ == "one"
    assert len(index) == 1

    loose = Thing()
    index.register("loose", loose)
    assert loose.__parent__ is None
    assert loose.__name__ is None
    assert len(index) == 2


def test_index_refuses_duplicates():
    index = Index()
    first = Thing()
    index.register("x", first)
    with pytest.raises(FolderError, match="already used"):
        index.register("x", Thing())
    assert index["x"] is first
    assert len(index) == 1


def test_index_unregister():
    index = Index()
    thing = Thing()
    index.register("x", thing)
    index.register("y", Thing())
    index.unregister("x")
    assert "x" not in index
    assert len(index) == 1
    assert list(index.keys()) == ["y"]
    with pytest.raises(KeyError):
        index.unregister("x")
    assert len(index) == 1
    # a key can be used again once free
    index.register("x", thing)
    assert len(index) == 2


def test_index_has_no_add():
    assert not hasattr(Index(), "add")
