"""compute_fixity: the same sums as hashlib, an identical copy, and clean failures."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from digitization.fixity import CHUNK, Fixity, compute_fixity


def expected(data: bytes) -> Fixity:
    return Fixity(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )


def reader_threads() -> list[threading.Thread]:
    """Live threads running fixity's reader (its target is ``_read_ahead``)."""
    return [
        t
        for t in threading.enumerate()
        if getattr(getattr(t, "_target", None), "__name__", "") == "_read_ahead"
    ]


def wait_for_no_readers(timeout: float = 5.0) -> list[threading.Thread]:
    deadline = time.monotonic() + timeout
    while reader_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    return reader_threads()


SIZES = {
    "empty": 0,
    "small": 1234,
    "one chunk exactly": CHUNK,
    "multi-chunk": 3 * CHUNK + 517,
    "more chunks than the queue holds": 11 * CHUNK + 1,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_sums_equal_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "master.bin"
    path.write_bytes(data)
    assert compute_fixity(path) == expected(data)
    assert compute_fixity(str(path)) == expected(data)  # a str path works too
    assert wait_for_no_readers() == []


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_copy_to_writes_identical_bytes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    source = tmp_path / "master.bin"
    source.write_bytes(data)
    copy = tmp_path / "staging" / "copy.bin"
    copy.parent.mkdir()
    fixity = compute_fixity(source, copy_to=copy)
    assert fixity == expected(data)
    assert copy.read_bytes() == data
    assert source.read_bytes() == data  # the original is untouched


def test_copy_to_replaces_an_existing_file(tmp_path: Path) -> None:
    source = tmp_path / "master.bin"
    source.write_bytes(b"short")
    copy = tmp_path / "copy.bin"
    copy.write_bytes(b"a much longer earlier content")
    compute_fixity(source, copy_to=copy)
    assert copy.read_bytes() == b"short"


def test_missing_file_raises_oserror_and_leaves_no_thread(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        compute_fixity(tmp_path / "missing.tif")
    assert wait_for_no_readers() == []


def test_a_directory_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        compute_fixity(tmp_path)
    assert wait_for_no_readers() == []


def test_missing_file_with_copy_to_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        compute_fixity(tmp_path / "missing.tif", copy_to=tmp_path / "copy.tif")
    assert wait_for_no_readers() == []


def test_missing_file_with_copy_to_leaves_no_empty_copy(  # regression: 3f6a96f
    tmp_path: Path) -> None:
    copy = tmp_path / "copy.tif"
    with pytest.raises(OSError):
        compute_fixity(tmp_path / "missing.tif", copy_to=copy)
    assert not copy.exists()


def test_unwritable_copy_to_leaves_no_thread_hanging(tmp_path: Path) -> None:
    source = tmp_path / "master.bin"
    source.write_bytes(os.urandom(12 * CHUNK))
    with pytest.raises(OSError):
        compute_fixity(source, copy_to=tmp_path / "no-such-folder" / "copy.bin")
    assert wait_for_no_readers(timeout=2) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_write_failure_raises_instead_of_hanging(tmp_path: Path) -> None:
    source = tmp_path / "master.bin"
    source.write_bytes(os.urandom(12 * CHUNK))
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            compute_fixity(source, copy_to="/dev/full")  # every write fails with ENOSPC
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)  # daemon: a hang cannot block exit
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "compute_fixity hung after a failed write"
    assert isinstance(outcome.get("error"), OSError)
