"""digitization.bags: BagIt 1.0 bags written and validated with the bagit library."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from digitization.bags import BagInvalid, payload_checksums, validate_bag, write_bag

REQUIRED = ("metadata/item.json", "metadata/dc.xml")


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    folder = tmp_path / "bag"
    (folder / "masters").mkdir(parents=True)
    (folder / "masters" / "0001-a.tif").write_bytes(b"first master" * 100)
    (folder / "masters" / "0002-b.wav").write_bytes(b"second master" * 100)
    return write_bag(
        folder,
        bag_info={"Source-Organization": "Pustaka\nNegeri  Sarawak", "External-Identifier": "x-1"},
        tag_files={"metadata/item.json": b"{}", "metadata/dc.xml": b"<dc/>"},
    )


def spoiled(bag: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(bag, copy)
    return copy


def test_a_bag_is_bagit_1_0_with_sha256_and_sha512_manifests_and_tag_manifests(bag):
    assert (bag / "bagit.txt").read_text() == (
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )
    for name in ("manifest", "tagmanifest"):
        for alg in ("sha256", "sha512"):
            assert (bag / f"{name}-{alg}.txt").is_file()
    tags = (bag / "tagmanifest-sha256.txt").read_text()
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha512.txt", *REQUIRED):
        assert f" {name}\n" in tags
    info = (bag / "bag-info.txt").read_text()
    assert "Source-Organization: Pustaka Negeri Sarawak\n" in info  # one line
    assert "Payload-Oxum: 2500.2\n" in info and "Bagging-Date: " in info
    checked = validate_bag(bag, required_tag_files=REQUIRED)
    sums = payload_checksums(checked)
    assert sorted(sums) == ["data/masters/0001-a.tif", "data/masters/0002-b.wav"]
    assert set(sums["data/masters/0001-a.tif"]) == {"sha256", "sha512"}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (
            lambda b: (b / "data/masters/0001-a.tif").write_bytes(b"First master" * 100),
            "0001-a.tif sha",
        ),
        (lambda b: (b / "data/masters/0002-b.wav").unlink(), "data/masters/0002-b.wav is missing"),
        (lambda b: (b / "data/extra").write_bytes(b"x"), "data/extra is not in the manifest"),
        (lambda b: (b / "metadata/dc.xml").write_bytes(b"<DC/>"), "metadata/dc.xml sha"),
        (lambda b: (b / "metadata/dc.xml").unlink(), "metadata/dc.xml exists in manifest but"),
        (lambda b: (b / "bagit.txt").unlink(), "Expected bagit.txt does not exist"),
        (lambda b: shutil.rmtree(b / "data"), "data directory"),
    ],
    ids=["byte", "missing", "extra", "tag byte", "tag missing", "no bagit.txt", "no data"],
)
def test_a_spoiled_bag_is_refused_with_the_reason(bag, tmp_path, damage, reason):
    copy = spoiled(bag, tmp_path)
    damage(copy)
    with pytest.raises(BagInvalid) as caught:
        validate_bag(copy, required_tag_files=REQUIRED)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_required_tag_files_must_be_there_and_in_every_tag_manifest(bag, tmp_path):
    copy = spoiled(bag, tmp_path)
    (copy / "metadata/item.json").unlink()
    for manifest in copy.glob("tagmanifest-*.txt"):
        kept = [line for line in manifest.read_text().splitlines() if "item.json" not in line]
        manifest.write_text("\n".join(kept) + "\n")
    with pytest.raises(BagInvalid, match=r"metadata/item\.json is missing"):
        validate_bag(copy, required_tag_files=REQUIRED)
    (copy / "metadata/item.json").write_bytes(b"{}")  # back, but unprotected
    with pytest.raises(BagInvalid, match="not in every tag manifest"):
        validate_bag(copy, required_tag_files=REQUIRED)


def test_many_failures_are_counted_not_all_listed(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(6):
        (folder / f"{n}.bin").write_bytes(bytes([n]) * 10)
    write_bag(folder, bag_info={})
    for n in range(6):
        (folder / "data" / f"{n}.bin").write_bytes(bytes([n + 1]) * 10)
    with pytest.raises(BagInvalid, match=r"\(and \d+ more\)"):
        validate_bag(folder)


def test_tag_files_stay_outside_the_payload_and_inside_the_bag(tmp_path):
    for bad in ("data/x.xml", "../x.xml"):
        folder = tmp_path / f"b{len(bad)}"
        folder.mkdir()
        (folder / "m.bin").write_bytes(b"m")
        with pytest.raises(BagInvalid, match="tag file must be inside the bag"):
            write_bag(folder, bag_info={}, tag_files={bad: b"<x/>"})
    assert not (tmp_path / "x.xml").exists()


def test_bagit_leaves_the_working_directory_alone(bag, tmp_path):
    cwd = os.getcwd()
    with pytest.raises(BagInvalid):
        validate_bag(tmp_path / "nothing-here")
    shutil.rmtree(bag / "data")
    with pytest.raises(BagInvalid):
        validate_bag(bag)
    assert os.getcwd() == cwd
