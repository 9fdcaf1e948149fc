"""FileList: numbering, the checksum and perceptual-hash indexes, and removal (deaccession)."""

from __future__ import annotations

import pytest

from heritage.resources.filelist import FileList, _bands, _signed
from heritage.resources.files import File


def _file(n: int, sha: str | None = None) -> File:
    f = File(f"folio-{n}.tif", mimetype="image/tiff")
    f.sha256 = sha or f"{n:064x}"
    f.md5 = f"{n:032x}"
    f.size = 1000 + n
    f.techmd.update({"width": 100 + n, "height": 200})
    return f


@pytest.fixture
def files() -> FileList:
    files = FileList()
    for n, dhash in ((1, 0x0102030405060708), (2, 0xFF02030405060708), (3, 0xFFFFFFFFFFFFFFFF)):
        f = files.append(_file(n))
        files.remember_dhash(f, dhash)
    return files


def test_removing_a_file_keeps_every_index_right(files):
    derived = files.derived()
    tomb = {"file": "2", "sha256": _file(2).sha256, "reason": "scanned twice"}

    gone = files.remove("2", tomb)

    assert gone.filename == "folio-2.tif"
    assert len(files) == 2 and [f.__name__ for f in files] == ["1", "3"]
    assert files.get("2") is None
    assert [s["name"] for s in files.summaries()] == ["1", "3"]
    assert files.name_for_sha256(_file(2).sha256) is None
    assert files.name_for_sha256(_file(1).sha256) == "1"
    assert "2" not in files.dhash_of
    assert sorted(name for _, name in files.dhashes()) == ["1", "3"]
    near = {name for _, name in files.near_dhashes(0xFF02030405060708, 4)}
    assert near == {"1", "3"}  # candidates sharing a byte; "2" is gone from every band
    assert all("2" not in names for names in files.by_band.values())
    assert files.derived() == derived + 1  # manifests keyed by it are built afresh
    assert list(files.removed_files()) == [tomb]


def test_numbers_are_never_reused(files):
    files.remove("3")
    files.remove("2")
    assert files.append(_file(4)).__name__ == "4"
    assert [f.__name__ for f in files] == ["1", "4"]
    assert list(files.removed_files()) == []  # removed without a tombstone: none kept


def test_a_twin_keeps_the_exact_hash_entry(files):
    twin = files.append(_file(4))
    files.remember_dhash(twin, 0x0102030405060708)  # the very same hash as file 1
    assert files.by_dhash[_signed(0x0102030405060708)] == "4"
    files.remove("4")
    assert files.by_dhash[_signed(0x0102030405060708)] == "1"
    assert all("1" in files.by_band[key] for key in _bands(0x0102030405060708))
    files.remove("1")
    assert _signed(0x0102030405060708) not in files.by_dhash


def test_removing_an_unknown_file_is_a_key_error(files):
    for name in ("9", "x", ""):
        with pytest.raises(KeyError):
            files.remove(name)
    assert len(files) == 3


def test_a_file_may_keep_its_number_but_numbers_never_go_back():
    files = FileList()
    assert files.append(_file(1), number=4).__name__ == "4"
    assert files.append(_file(2)).__name__ == "5"
    with pytest.raises(ValueError, match="file number 3"):
        files.append(_file(3), number=3)
    files.reserve_through(9)
    assert files.next_number == 10
    files.reserve_through(2)  # never backwards
    assert files.append(_file(4)).__name__ == "10"
