"""Batch planning and the examination of each file (real fido, exiftool and Pillow)."""

from __future__ import annotations

import hashlib
import os
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from digitization.fixity import Fixity
from digitization.ingest import (
    BatchError,
    Examined,
    Examiner,
    natural_key,
    plan_batch,
    safe_name,
    summarize,
)
from digitization.qa import Thresholds
from digitization.samples import make_sample_page

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# -- natural order -----------------------------------------------------------------------------


def test_natural_key_orders_numbers_by_value() -> None:
    given = ["p10.tif", "p2.tif", "p1.tif", "p100.tif", "p20.tif"]
    assert sorted(given, key=natural_key) == [
        "p1.tif",
        "p2.tif",
        "p10.tif",
        "p20.tif",
        "p100.tif",
    ]


def test_natural_key_is_case_insensitive() -> None:
    assert natural_key("Page2.TIF") == natural_key("page2.tif")
    given = ["b-3.tif", "A-10.tif", "a-2.tif", "B-1.tif", "Ab.tif", "aa.tif"]
    assert sorted(given, key=natural_key) == [
        "a-2.tif",
        "A-10.tif",
        "aa.tif",
        "Ab.tif",
        "B-1.tif",
        "b-3.tif",
    ]


def test_natural_key_mixes_names_with_and_without_numbers() -> None:
    given = ["cover.tif", "12.tif", "f1r.tif", "f1v.tif", "f10r.tif", "2.tif", "f2r.tif"]
    assert sorted(given, key=natural_key) == [
        "2.tif",
        "12.tif",
        "cover.tif",
        "f1r.tif",
        "f1v.tif",
        "f2r.tif",
        "f10r.tif",
    ]


# -- plan_batch --------------------------------------------------------------------------------


def test_folder_in_natural_order_without_hidden_files(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name in ["p10.tif", "p2.tif", "P1.tif", ".DS_Store", "._p2.tif", "p3.tif"]:
        touch(batch / name)
    (batch / "subfolder").mkdir()
    touch(batch / "subfolder" / "p0.tif")
    assert names(plan_batch([batch])) == ["P1.tif", "p2.tif", "p3.tif", "p10.tif"]


def test_empty_folder_plans_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert plan_batch([tmp_path / "empty"]) == []


def test_manifest_order_is_kept(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name in ["p1.tif", "p2.tif", "p10.tif", "cover.tif", "extra.tif"]:
        touch(batch / name)
    (batch / "manifest.txt").write_text(
        "# page order for MS 7\n"
        "cover.tif\n"
        "\n"
        "p10.tif   # bound out of order\n"
        "   p2.tif  \n"
        "# p1.tif is a rescan, left out\n"
        "\t\n"
    )
    planned = plan_batch([batch])
    assert names(planned) == ["cover.tif", "p10.tif", "p2.tif"]
    assert all(p.parent == batch for p in planned)


def test_order_txt_is_a_manifest_too(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name in ["a.tif", "b.tif"]:
        touch(batch / name)
    (batch / "order.txt").write_text("b.tif\na.tif\n")
    assert names(plan_batch([batch])) == ["b.tif", "a.tif"]


def test_manifest_listing_a_missing_file(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    touch(batch / "p1.tif")
    (batch / "manifest.txt").write_text("p1.tif\np2.tif\n")
    with pytest.raises(BatchError, match=r"p2\.tif"):
        plan_batch([batch])


@pytest.mark.parametrize("listed", ["sub/p1.tif", "../outside.tif", "/etc/hostname", "sub"])
def test_manifest_names_must_be_files_of_the_folder(tmp_path: Path, listed: str) -> None:
    batch = tmp_path / "batch"
    touch(batch / "sub" / "p1.tif")  # exists, but not directly in the folder
    touch(tmp_path / "outside.tif")
    (batch / "manifest.txt").write_text(f"{listed}\n")
    with pytest.raises(BatchError):
        plan_batch([batch])


def test_manifest_cannot_list_a_hidden_file(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    touch(batch / ".secret.tif")
    (batch / "manifest.txt").write_text(".secret.tif\n")
    with pytest.raises(BatchError):
        plan_batch([batch])


def test_files_and_folders_together_without_duplicates(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name in ["p1.tif", "p2.tif"]:
        touch(batch / name)
    single = touch(tmp_path / "loose.tif")
    planned = plan_batch(
        [single, batch, batch / "p2.tif", batch / "." / "p1.tif", tmp_path / "loose.tif"]
    )
    assert names(planned) == ["loose.tif", "p1.tif", "p2.tif"]


def test_the_same_folder_twice(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    touch(batch / "p1.tif")
    assert names(plan_batch([batch, tmp_path / "batch" / ".." / "batch"])) == ["p1.tif"]


def test_single_files_keep_the_order_given(tmp_path: Path) -> None:
    a, b, c = (touch(tmp_path / n) for n in ["p3.tif", "p1.tif", "p2.tif"])
    assert plan_batch([a, b, c]) == [a, b, c]


def test_missing_path(tmp_path: Path) -> None:
    touch(tmp_path / "p1.tif")
    with pytest.raises(BatchError, match="no such file"):
        plan_batch([tmp_path / "p1.tif", tmp_path / "nope"])


# -- safe_name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("p1.tif", "p1.tif"),
        ("../../x.tif", "x.tif"),
        ("/etc/passwd", "passwd"),
        ("C:\\Scans\\Batch 1\\p1.tif", "p1.tif"),
        ("..\\..\\windows\\x.tif", "x.tif"),
        ("halaman 1 (salinan).tif", "halaman_1__salinan_.tif"),
        ("päge;rm -rf.tif", "p_ge_rm_-rf.tif"),
        ("..", "file"),
        (".htaccess", "htaccess"),
        ("dir/", "file"),
        ("", "file"),
        ("naskah\x00.tif", "naskah_.tif"),
    ],
)
def test_safe_name(given: str, expected: str) -> None:
    assert safe_name(given) == expected


def test_safe_name_is_short_and_keeps_the_extension() -> None:
    name = safe_name("a" * 300 + ".tif")
    assert len(name) <= 80
    assert name.endswith(".tif")


@pytest.mark.parametrize("given", ["../x", "a/b\\c", "...", "é/../..", "\\\\server\\share\\"])
def test_safe_name_is_never_a_path(given: str) -> None:
    name = safe_name(given)
    assert name and "/" not in name and "\\" not in name
    assert not name.startswith(".")


# -- Examiner ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_tiff(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page that passes every QA check: 1000 × 1300, 300 dpi, sRGB ICC, uncompressed."""
    folder = tmp_path_factory.mktemp("masters")
    path = make_sample_page(
        folder / "lzw.tif", seed=7, page_no=3, width=1000, height=1300, fmt="TIFF"
    )
    with Image.open(path) as im:
        im.save(folder / "p3.tif", dpi=(300, 300), icc_profile=SRGB)
    return folder / "p3.tif"


@pytest.fixture(scope="module")
def examiner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Examiner]:
    staging = tmp_path_factory.mktemp("var") / "staging"
    with Examiner(staging, max_pixels=50_000_000) as ex:
        yield ex


@pytest.fixture(autouse=True)
def empty_staging(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts and is checked against an empty staging folder."""
    if "examiner" in request.fixturenames:
        staging = request.getfixturevalue("examiner").staging_dir
        for leftover in staging.iterdir():
            leftover.unlink()
    yield


def staged_files(examiner: Examiner) -> list[Path]:
    return sorted(examiner.staging_dir.iterdir())


def copy_of(source: Path, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return touch(folder / (name or source.name), source.read_bytes())


def test_a_good_page_is_staged_identified_described_and_checked(
    tmp_path: Path, examiner: Examiner, good_tiff: Path
) -> None:
    source = copy_of(good_tiff, tmp_path / "station")
    before = source.read_bytes()
    mtime = source.stat().st_mtime_ns
    result = examiner.examine(source, Thresholds())

    assert not result.rejection and not result.skipped
    assert result.source == source and result.filename == "p3.tif"
    # staged: a copy in staging, byte for byte; the original untouched and in place
    assert result.staged is not None and result.staged.parent == examiner.staging_dir
    assert result.staged.name.endswith("-p3.tif")
    assert staged_files(examiner) == [result.staged]
    assert result.staged.read_bytes() == before
    assert source.read_bytes() == before and source.stat().st_mtime_ns == mtime
    # checksummed
    assert result.fixity == Fixity(
        size=len(before),
        sha256=hashlib.sha256(before).hexdigest(),
        md5=hashlib.md5(before, usedforsecurity=False).hexdigest(),
    )
    # identified
    assert result.identification.puid == "fmt/353"
    assert result.identification.kind == "image"
    # described
    assert (result.techmd["width"], result.techmd["height"]) == (1000, 1300)
    assert result.techmd["ppi_x"] == pytest.approx(300)
    assert result.techmd["icc_profile"]
    # checked
    assert result.qa is not None
    assert result.qa.passed, [c.message for c in result.qa.failed]
    assert result.qa.dhash is not None
    assert {"ppi", "dimensions", "bit_depth", "icc_profile", "decodes", "blank", "blur"} <= {
        c.name for c in result.qa.checks
    }
    # timed
    assert set(result.timings) >= {"checksum", "metadata", "qa"}
    assert all(t >= 0 for t in result.timings.values())


def test_qa_uses_the_thresholds_given(tmp_path: Path, examiner: Examiner, good_tiff: Path) -> None:
    source = copy_of(good_tiff, tmp_path)
    result = examiner.examine(source, Thresholds(min_ppi=600))
    assert not result.rejection  # a failed check is kept, flagged
    assert [c.name for c in result.qa.failed] == ["ppi"]
    assert summarize([result]) == {"stored": 1, "flagged": 1, "rejected": 0, "skipped": 0}


def test_filename_given_is_kept(tmp_path: Path, examiner: Examiner, good_tiff: Path) -> None:
    source = copy_of(good_tiff, tmp_path, "upload-tmp-123")
    result = examiner.examine(source, Thresholds(), filename="../folio 3r.tif")
    assert result.filename == "../folio 3r.tif"  # the caller's name, recorded as given
    assert not result.rejection


def test_staged_name_is_safe(tmp_path: Path, examiner: Examiner, good_tiff: Path) -> None:
    source = copy_of(good_tiff, tmp_path, "halaman 3 (recto).tif")
    result = examiner.examine(source, Thresholds())
    assert result.staged.parent == examiner.staging_dir
    assert result.staged.name.endswith("-halaman_3__recto_.tif")


def test_two_copies_of_one_file_get_different_staged_names(
    tmp_path: Path, examiner: Examiner, good_tiff: Path
) -> None:
    a = examiner.examine(copy_of(good_tiff, tmp_path / "a"), Thresholds())
    b = examiner.examine(copy_of(good_tiff, tmp_path / "b"), Thresholds())
    assert a.staged != b.staged
    assert len(staged_files(examiner)) == 2


def test_known_file_is_skipped_and_nothing_stays_staged(
    tmp_path: Path, examiner: Examiner, good_tiff: Path
) -> None:
    source = copy_of(good_tiff, tmp_path)
    seen: list[Fixity] = []

    def known(fixity: Fixity) -> str:
        seen.append(fixity)
        return "already stored as file 3"

    result = examiner.examine(source, Thresholds(), known=known)
    assert result.skipped == "already stored as file 3"
    assert not result.rejection
    assert seen == [result.fixity]
    assert result.identification is None and result.qa is None and result.techmd == {}
    assert staged_files(examiner) == []
    assert source.exists()  # never the original
    assert summarize([result]) == {"stored": 0, "flagged": 0, "rejected": 0, "skipped": 1}


def test_zero_byte_file_is_rejected(tmp_path: Path, examiner: Examiner) -> None:
    source = touch(tmp_path / "empty.tif", b"")
    result = examiner.examine(source, Thresholds())
    assert "empty" in result.rejection
    assert staged_files(examiner) == []
    assert source.exists()


def test_text_named_tif_is_rejected(tmp_path: Path, examiner: Examiner) -> None:
    source = touch(tmp_path / "p1.tif", b"Station 3 log: batch 12 scanned ok\n")
    result = examiner.examine(source, Thresholds())
    assert "not a recognised format" in result.rejection
    assert result.qa is None
    assert staged_files(examiner) == []
    assert source.exists()


def test_a_pdf_named_tif_is_kept_as_the_document_it_is(tmp_path: Path, examiner: Examiner) -> None:
    source = touch(tmp_path / "p1.tif", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    result = examiner.examine(source, Thresholds())
    assert result.rejection == ""
    assert result.identification.kind == "document"  # identified by content, not by name
    assert result.qa is None  # no image QA for a transcript


def test_decompression_bomb_is_rejected(tmp_path: Path, examiner: Examiner) -> None:
    source = tmp_path / "huge.png"
    Image.new("L", (3000, 2000)).save(source)
    small = Examiner(examiner.staging_dir, max_pixels=1_000_000)
    with small:
        result = small.examine(source, Thresholds())
    assert "decompression bomb" in result.rejection
    assert "6,000,000" in result.rejection
    assert result.qa is None
    assert staged_files(examiner) == []


def test_bomb_over_pillows_own_limit_is_rejected_from_the_header(
    tmp_path: Path, examiner: Examiner, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "huge.png"
    Image.new("L", (3000, 2000)).save(source)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # Pillow raises at open()
    small = Examiner(examiner.staging_dir, max_pixels=1_000_000)
    with small:
        result = small.examine(source, Thresholds())
    assert "decompression bomb" in result.rejection
    assert staged_files(examiner) == []


def test_unreadable_garbage_is_rejected_and_nothing_stays_staged(
    tmp_path: Path, examiner: Examiner
) -> None:
    source = touch(tmp_path / "p1.tif", bytes(range(256)) * 40)
    try:
        result = examiner.examine(source, Thresholds())
    finally:
        leftovers = staged_files(examiner)
    assert result.rejection
    assert leftovers == []


def test_adopt_takes_a_staged_upload_without_copying(examiner: Examiner, good_tiff: Path) -> None:
    upload = copy_of(good_tiff, examiner.staging_dir, "upload-1a2b.tif")
    data = upload.read_bytes()
    result = examiner.examine(upload, Thresholds(), filename="folio 3.tif", adopt=True)
    assert not result.rejection
    assert result.staged == upload
    assert staged_files(examiner) == [upload]  # no second copy
    assert upload.read_bytes() == data
    assert result.fixity.sha256 == hashlib.sha256(data).hexdigest()
    assert result.filename == "folio 3.tif"
    assert result.qa is not None and result.qa.passed


def test_adopted_reject_is_removed(examiner: Examiner) -> None:
    upload = touch(examiner.staging_dir / "upload-9f.tif", b"not an image at all\n")
    result = examiner.examine(upload, Thresholds(), adopt=True)
    assert result.rejection
    assert staged_files(examiner) == []


def test_adopted_empty_upload_is_removed(examiner: Examiner) -> None:
    upload = touch(examiner.staging_dir / "upload-0.tif", b"")
    result = examiner.examine(upload, Thresholds(), adopt=True)
    assert "empty" in result.rejection
    assert staged_files(examiner) == []


def test_adopted_known_upload_is_removed(examiner: Examiner, good_tiff: Path) -> None:
    upload = copy_of(good_tiff, examiner.staging_dir, "upload-2.tif")
    result = examiner.examine(upload, Thresholds(), adopt=True, known=lambda _: "stored as 1")
    assert result.skipped
    assert staged_files(examiner) == []


def write_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(os.urandom(4 * 44100 // 2))
    return path


def test_audio_is_described_without_image_qa(tmp_path: Path, examiner: Examiner) -> None:
    source = write_wav(tmp_path / "interview.wav")
    result = examiner.examine(source, Thresholds())
    assert not result.rejection
    assert result.identification.kind == "audio"
    assert result.techmd["duration"] == pytest.approx(0.5, abs=0.01)
    assert result.techmd["channels"] == 2
    assert result.qa is None
    assert "qa" in result.timings
    assert staged_files(examiner) == [result.staged]


def test_software_names_its_tools_with_versions(examiner: Examiner) -> None:
    names_ = [agent["name"] for agent in examiner.software]
    assert names_[0].startswith("exiftool ") and names_[0][9].isdigit()
    assert names_[1].startswith("fido ")
    assert names_[2].startswith("Pillow ")


def test_summarize_counts_each_outcome(tmp_path: Path) -> None:
    results = [
        Examined(source=tmp_path / "a", filename="a", rejection="empty"),
        Examined(source=tmp_path / "b", filename="b", skipped="already stored as file 1"),
        Examined(source=tmp_path / "c", filename="c"),  # audio: no QA
        Examined(source=tmp_path / "d", filename="d"),
    ]
    assert summarize(results) == {"stored": 2, "flagged": 0, "rejected": 1, "skipped": 1}
    assert summarize([]) == {"stored": 0, "flagged": 0, "rejected": 0, "skipped": 0}


def test_discard_of_nothing_staged_is_harmless(tmp_path: Path) -> None:
    result = Examined(source=tmp_path / "a", filename="a")
    result.discard()
    result.staged = tmp_path / "gone"
    result.discard()
