"""digitization.audit and fixity.sha256_of: the re-read of one master, on real files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from digitization.audit import FAILED, MISSING, OK, AuditResult, audit_file
from digitization.fixity import DIGEST_CHUNK, sha256_of

SIZES = {
    "empty": 0,
    "small": 1234,
    "one chunk exactly": DIGEST_CHUNK,
    "several chunks": 3 * DIGEST_CHUNK + 517,
}


def master(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / "master.tif"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_sha256_of_equals_hashlib(tmp_path: Path, size: int) -> None:
    path, data = master(tmp_path, size)
    assert sha256_of(path) == (size, hashlib.sha256(data).hexdigest())
    assert sha256_of(str(path), chunk=4096, drop_cache=True) == (
        size,
        hashlib.sha256(data).hexdigest(),
    )


def test_sha256_of_a_missing_file_or_a_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha256_of(tmp_path / "gone.tif")
    with pytest.raises(IsADirectoryError):
        sha256_of(tmp_path)


def test_an_intact_master_is_ok(tmp_path: Path) -> None:
    path, data = master(tmp_path, 3 * DIGEST_CHUNK + 5)
    sha = hashlib.sha256(data).hexdigest()
    result = audit_file(path, size=len(data), sha256=sha)
    assert result == AuditResult(OK, len(data), sha, len(data), sha)
    assert result.ok
    assert result.describe() == f"sha256 expected {sha} found {sha}"


def test_one_flipped_bit_fails_with_both_checksums(tmp_path: Path) -> None:
    path, data = master(tmp_path, 100_000)
    sha = hashlib.sha256(data).hexdigest()
    changed = bytearray(data)
    changed[54_321] ^= 0x01
    path.write_bytes(changed)

    result = audit_file(path, size=len(data), sha256=sha)

    assert result.status == FAILED and not result.ok
    assert result.expected_sha256 == sha
    assert result.found_sha256 == hashlib.sha256(changed).hexdigest()
    assert result.found_size == len(data)
    assert result.detail == "checksum differs"
    assert result.describe() == f"sha256 expected {sha} found {result.found_sha256}"
    assert result.to_json()["algorithm"] == "sha256"


def test_a_truncated_master_fails_on_size_too(tmp_path: Path) -> None:
    path, data = master(tmp_path, 10_000)
    sha = hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:9_000])

    result = audit_file(path, size=len(data), sha256=sha)

    assert result.status == FAILED
    assert result.detail == "size and checksum differ"
    assert result.describe().endswith("; size expected 10000 found 9000")


def test_a_missing_or_unreadable_master_is_reported_not_raised(tmp_path: Path) -> None:
    result = audit_file(tmp_path / "gone.tif", size=10, sha256="ab" * 32)
    assert result.status == MISSING
    assert result.found_size is None and result.found_sha256 == ""
    assert "no file at" in result.detail and "gone.tif" in result.detail
    assert result.describe().startswith(f"sha256 expected {'ab' * 32}; file missing: ")

    folder = audit_file(tmp_path, size=10, sha256="ab" * 32)
    assert folder.status == MISSING and "cannot read" in folder.detail


def test_a_master_without_a_recorded_checksum_fails(tmp_path: Path) -> None:
    path, data = master(tmp_path, 10)
    result = audit_file(path, size=10, sha256="")
    assert result.status == FAILED and result.detail == "no checksum was recorded"
    assert result.found_sha256 == hashlib.sha256(data).hexdigest()
