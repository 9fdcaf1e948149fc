"""compute_fixity: the same sums as hashlib, an identical copy, and clean failures."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from digitization import fixity
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


def test_copy_to_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    """The copy is always a new file: a failure's clean-up can never remove older data."""
    source = tmp_path / "master.bin"
    source.write_bytes(b"short")
    copy = tmp_path / "copy.bin"
    copy.write_bytes(b"a much longer earlier content")
    with pytest.raises(FileExistsError):
        compute_fixity(source, copy_to=copy)
    assert copy.read_bytes() == b"a much longer earlier content"
    assert wait_for_no_readers() == []


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


def test_missing_file_with_copy_to_leaves_no_empty_copy(tmp_path: Path) -> None:
    """No orphan in staging (the copy used to be created before the source was read)."""
    copy = tmp_path / "copy.tif"
    with pytest.raises(OSError):
        compute_fixity(tmp_path / "missing.tif", copy_to=copy)
    assert not copy.exists()


def test_unwritable_copy_to_leaves_no_thread_hanging(tmp_path: Path) -> None:
    """The reader used to stay blocked on the full queue when copy_to could not be opened."""
    source = tmp_path / "master.bin"
    source.write_bytes(os.urandom(12 * CHUNK))
    with pytest.raises(OSError):
        compute_fixity(source, copy_to=tmp_path / "no-such-folder" / "copy.bin")
    assert wait_for_no_readers(timeout=2) == []


class FullDisk(io.BufferedWriter):
    """A file whose first write succeeds and every later one fails: the disk is full."""

    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__(raw)
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make writes to the returned path fail after the first chunk.

    Never a real device such as /dev/full: compute_fixity removes its copy_to on failure,
    which, run as root, removes the device node itself.
    """
    target = tmp_path / "staging-copy.bin"

    def fake_open(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        if ("w" in mode or "x" in mode) and Path(file) == target:
            return FullDisk(io.FileIO(file, "w"))
        return open(file, mode, *args, **kw)

    monkeypatch.setattr(fixity, "open", fake_open, raising=False)
    return target


def test_write_failure_raises_instead_of_hanging(tmp_path: Path, full_disk: Path) -> None:
    """A failed write (disk full) used to deadlock: the consumer joined a blocked reader."""
    source = tmp_path / "master.bin"
    source.write_bytes(os.urandom(12 * CHUNK))  # more chunks than the queue holds
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["fixity"] = compute_fixity(source, copy_to=full_disk)
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)  # daemon: a hang cannot block exit
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "compute_fixity hung after a failed write"
    assert isinstance(outcome.get("error"), OSError), outcome
    assert outcome["error"].errno == errno.ENOSPC
    assert not full_disk.exists()  # no partial copy left
    assert wait_for_no_readers() == []


class SlowMD5:
    """An md5 whose update takes 0.15 s: a consumer slower than the reader (slow disk)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._md5 = REAL_MD5(*args, **kw)

    def update(self, data: bytes) -> None:
        time.sleep(0.15)
        self._md5.update(data)

    def hexdigest(self) -> str:
        return self._md5.hexdigest()


REAL_MD5 = hashlib.md5


def test_a_consumer_slower_than_the_reader_still_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(12 * CHUNK)  # more chunks than the queue holds
    source = tmp_path / "master.bin"
    source.write_bytes(data)
    monkeypatch.setattr(hashlib, "md5", SlowMD5)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["fixity"] = compute_fixity(source)
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)  # daemon: a hang cannot block exit
    worker.start()
    worker.join(timeout=8)  # 12 chunks × 0.15 s ≈ 1.8 s when it works
    assert not worker.is_alive(), "compute_fixity never saw the end of the file"
    assert outcome.get("fixity") == expected(data)
