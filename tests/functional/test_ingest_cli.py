"""``heritage ingest``, run as a real process (with its own ZEO server) on real files.

Every file here is made by the test (Pillow pages, a ``wave`` recording) and examined by the
real exiftool and fido. The database is arranged and read back by opening its FileStorage
directly, only while no ``heritage`` process (and so no ZEO server) runs on it.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageFilter
from support import opened_root, storage_uri, stored_file, write_cli_ini

from digitization.samples import make_sample_page
from heritage import evolve
from heritage.db import connection, open_db, zeo_alive
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT

HERITAGE = str(Path(sys.executable).with_name("heritage"))
ITEM = "pns-ms-0001"
OTHER_ITEM = "pns-ms-0002"
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


# -- the repository: an ini, a database with one institution, collection and two items -------


def make_repository(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir(exist_ok=True)
    db = open_db(storage_uri(tmp_path))
    try:
        evolve.prepare(db)
        with connection(db) as (conn, tm), tm:
            root = conn.root()[APP_ROOT]
            pns = root.institutions.add(
                "pns", Institution({"en": "Sarawak State Library"}, country="MY")
            )
            manuscripts = root.add_collection(
                pns, "pns-manuscripts", Collection({"en": "Manuscripts"})
            )
            for item_id, title in ((ITEM, "Hikayat Pelanduk"), (OTHER_ITEM, "Syair Rahsia")):
                record = validate_record({"title": [{"value": title, "lang": "ms"}]})
                manuscripts.add_item(Item(item_id, record, state="capture", access="public"))
    finally:
        db.close()


@dataclass
class Repo:
    path: Path
    ini: Path

    def ingest(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [HERITAGE, "ingest", *args, "-c", str(self.ini)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.path,
        )

    def files(self, item_id: str = ITEM) -> list[dict[str, Any]]:
        """Return what is stored of the item's files, in their stored order."""
        with opened_root(self.path) as root:
            item = root.items[item_id]
            return [stored_file(f) for f in item.files]

    def staged(self) -> list[Path]:
        staging = self.path / "var" / "staging"
        return sorted(staging.iterdir()) if staging.exists() else []


def new_repo(tmp_path: Path, **settings: str) -> Repo:
    make_repository(tmp_path)
    return Repo(tmp_path, write_cli_ini(tmp_path, **settings))


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return new_repo(tmp_path)


# -- real files ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _page(seed: int, page_no: int, width: int, height: int) -> Image.Image:
    with tempfile.TemporaryDirectory() as scratch:
        path = make_sample_page(
            Path(scratch) / "page.tif",
            seed=seed,
            page_no=page_no,
            width=width,
            height=height,
            fmt="TIFF",
        )
        with Image.open(path) as im:
            page = im.copy()
    page.info.pop("icc_profile", None)  # the savers below decide whether it has one
    return page


def page_image(seed: int, page_no: int = 1, size: tuple[int, int] = (1200, 1600)) -> Image.Image:
    """A synthetic manuscript page (RGB) that passes QA when saved with ICC at 300 ppi."""
    return _page(seed, page_no, *size).copy()


def save_image(
    image: Image.Image, path: Path, *, icc: bool = True, dpi: int = 300, **kw: Any
) -> Path:
    """Save ``image`` as a master would be: with a resolution and (by default) sRGB ICC."""
    if icc:
        kw["icc_profile"] = ICC
    image.save(path, dpi=(dpi, dpi), **kw)
    return path


def good_page(path: Path, seed: int, page_no: int = 1, **kw: Any) -> Path:
    fmt = {".tif": "TIFF", ".jpg": "JPEG", ".png": "PNG"}[path.suffix]
    extra = {"JPEG": {"quality": 90}, "TIFF": {"compression": "tiff_lzw"}}.get(fmt, {})
    return save_image(page_image(seed, page_no, **kw), path, format=fmt, **extra)


def camera_jpeg(path: Path, seed: int) -> Path:
    """A JPEG from a camera back: EXIF orientation 6, make/model/software, capture date."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Phase One"
    exif[0x0110] = "IQ4"
    exif[0x0131] = "Capture One"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:00:00"
    return save_image(page_image(seed), path, format="JPEG", quality=90, exif=exif)


def grey16_tiff(path: Path, seed: int) -> Path:
    grey = page_image(seed).convert("L").convert("I").point(lambda v: v * 257)
    return save_image(grey.convert("I;16"), path, format="TIFF", compression="tiff_lzw")


def wav_file(path: Path, *, seconds: float = 1.0, rate: int = 48000, channels: int = 2) -> Path:
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        sample = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames)]
        w.writeframes(b"".join(struct.pack("<h", s) * channels for s in sample))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row(stdout: str, filename: str) -> str:
    """The first line of a file's row in the summary table (long reasons wrap below it)."""
    return next(line for line in stdout.splitlines() if f" {filename} " in line)


def counts(stdout: str) -> dict[str, int]:
    """The last line of the summary: ``2 flagged, 1 rejected, 3 stored``."""
    line = stdout.strip().splitlines()[-1]
    return {what: int(n) for n, what in re.findall(r"(\d+) (\w+)", line)}


# -- order --------------------------------------------------------------------------------


def test_natural_order_and_manifest_order_are_the_stored_order(repo, tmp_path):
    natural = tmp_path / "natural"
    natural.mkdir()
    for seed, name in enumerate(("page10.jpg", "page2.jpg", "Page1.jpg", "page1a.jpg"), 1):
        good_page(natural / name, seed=seed, size=(1000, 1000))
    (natural / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: not part of the batch
    listed = tmp_path / "listed"
    listed.mkdir()
    for seed, name in enumerate(("a.jpg", "b.jpg", "c.jpg"), 10):
        good_page(listed / name, seed=seed, size=(1000, 1000))
    (listed / "manifest.txt").write_text("# verso first\nc.jpg\n\na.jpg  # recto\nb.jpg\n")
    ordered = tmp_path / "ordered"
    ordered.mkdir()
    for seed, name in enumerate(("1.jpg", "2.jpg"), 20):
        good_page(ordered / name, seed=seed, size=(1000, 1000))
    (ordered / "order.txt").write_text("2.jpg\n1.jpg\n")

    result = repo.ingest(ITEM, str(natural), str(listed), str(ordered))

    assert result.returncode == EXIT_OK, result.stderr
    expected = ["Page1.jpg", "page1a.jpg", "page2.jpg", "page10.jpg"]  # natural order
    expected += ["c.jpg", "a.jpg", "b.jpg", "2.jpg", "1.jpg"]  # as manifest.txt, order.txt say
    stored = repo.files()
    assert [f["filename"] for f in stored] == expected
    assert [f["name"] for f in stored] == [str(n) for n in range(1, 10)]
    assert counts(result.stdout) == {"stored": 9}
    assert repo.staged() == []


# -- exit codes ---------------------------------------------------------------------------


def test_usage_errors_exit_2_and_store_nothing(repo, tmp_path):
    page = good_page(tmp_path / "page.jpg", seed=3, size=(1000, 1000))

    no_item = repo.ingest("pns-ms-9999", str(page))
    assert no_item.returncode == EXIT_USAGE
    assert "heritage: error: no item 'pns-ms-9999'" in no_item.stderr

    no_path = repo.ingest(ITEM, str(page), str(tmp_path / "nowhere"))
    assert no_path.returncode == EXIT_USAGE
    assert "nowhere: no such file or folder" in no_path.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = repo.ingest(ITEM, str(empty))
    assert nothing.returncode == EXIT_USAGE and "no files to ingest" in nothing.stderr

    # A manifest may only name files in its own folder, and only files that are there.
    escaping = tmp_path / "escaping"
    escaping.mkdir()
    (escaping / "manifest.txt").write_text("../page.jpg\n")
    refused = repo.ingest(ITEM, str(escaping))
    assert refused.returncode == EXIT_USAGE and "'../page.jpg' is not a file" in refused.stderr
    (empty / "order.txt").write_text("nowhere.jpg\n")
    missing = repo.ingest(ITEM, str(empty))
    assert missing.returncode == EXIT_USAGE and "'nowhere.jpg' is not a file" in missing.stderr

    no_args = repo.ingest()
    assert no_args.returncode == EXIT_USAGE and "usage:" in no_args.stderr
    no_paths = repo.ingest(ITEM)
    assert no_paths.returncode == EXIT_USAGE and "usage:" in no_paths.stderr

    assert repo.files() == []
    assert repo.staged() == []
    assert not zeo_alive(str(tmp_path / "var" / "zeo.sock"))


# -- metadata -----------------------------------------------------------------------------


def test_technical_metadata_format_and_fixity_are_stored(repo, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    sources = {
        "01-rgb8.tif": good_page(batch / "01-rgb8.tif", seed=31),
        "02-grey16.tif": grey16_tiff(batch / "02-grey16.tif", seed=32),
        "03-camera.jpg": camera_jpeg(batch / "03-camera.jpg", seed=33),
        "04-page.png": good_page(batch / "04-page.png", seed=34),
        "05-interview.wav": wav_file(batch / "05-interview.wav", seconds=1.5, rate=44100),
    }

    result = repo.ingest(ITEM, str(batch), "--user", "tech:siti")

    assert result.returncode == EXIT_OK, result.stderr
    assert counts(result.stdout) == {"stored": 5}
    assert "ingest summary" in result.stdout
    for name in sources:
        assert name in result.stdout
    stored = {f["filename"]: f for f in repo.files()}
    assert list(stored) == list(sources)

    for name, path in sources.items():
        f = stored[name]
        content = path.read_bytes()
        assert f["size"] == len(content)
        assert f["sha256"] == hashlib.sha256(content).hexdigest() == f["blob_sha256"]
        assert f["md5"] == hashlib.md5(content).hexdigest()  # noqa: S324 - fixity, not security
        fmt = f["format"]
        assert fmt["tool"].startswith("fido ")
        assert re.fullmatch(r"PRONOM v\d+", fmt["signature_version"])
        assert re.match(r"\d+\.\d+", str(f["techmd"]["exiftool_version"]))

    rgb = stored["01-rgb8.tif"]
    assert rgb["format"]["puid"] == "fmt/353" and rgb["mimetype"] == "image/tiff"
    assert (
        rgb["techmd"]
        | {
            "width": 1200,
            "height": 1600,
            "bits_per_sample": 8,
            "samples_per_pixel": 3,
            "colour_space": "RGB",
            "icc_profile": "sRGB built-in",
            "ppi_x": 300.0,
            "ppi_y": 300.0,
            "compression": "LZW",
        }
        == rgb["techmd"]
    )
    assert rgb["qa"]["passed"] is True
    assert {c["name"] for c in rgb["qa"]["checks"]} == {
        "ppi",
        "dimensions",
        "bit_depth",
        "icc_profile",
        "decodes",
        "blank",
        "blur",
        "duplicate",
    }

    grey = stored["02-grey16.tif"]
    assert grey["format"]["puid"] == "fmt/353"
    assert grey["techmd"]["bits_per_sample"] == 16
    assert grey["techmd"]["colour_space"] == "BlackIsZero"
    assert grey["techmd"]["icc_profile"] == "sRGB built-in"
    assert grey["qa"]["passed"] is True

    camera = stored["03-camera.jpg"]
    assert camera["format"]["puid"] in {"fmt/43", "fmt/645"}
    assert camera["mimetype"] == "image/jpeg"
    assert (
        camera["techmd"]
        | {
            "width": 1200,
            "height": 1600,
            "orientation": 6,
            "make": "Phase One",
            "model": "IQ4",
            "software": "Capture One",
            "capture_date": "2024:05:01 10:00:00",
            "ppi_x": 300.0,
            "icc_profile": "sRGB built-in",
        }
        == camera["techmd"]
    )
    assert camera["qa"]["passed"] is True

    png = stored["04-page.png"]
    assert png["format"]["puid"] in {"fmt/11", "fmt/12", "fmt/13"}
    assert png["techmd"]["ppi_x"] == 300.0 and png["techmd"]["width"] == 1200
    assert png["techmd"]["compression"] == "Deflate/Inflate"

    wav = stored["05-interview.wav"]
    assert wav["format"]["puid"] in {"fmt/141", "fmt/142", "fmt/143", "fmt/6", "fmt/703"}
    assert wav["mimetype"] in {"audio/x-wav", "audio/wav"}
    assert (
        wav["techmd"]
        | {
            "duration": 1.5,
            "sample_rate": 44100,
            "channels": 2,
            "bits_per_sample": 16,
            "codec": "Microsoft PCM",
        }
        == wav["techmd"]
    )
    assert wav["qa"]["checks"] == []  # no image checks for a recording

    with opened_root(tmp_path) as root:
        item = root.items[ITEM]
        events = list(item.events)
        jobs = [job.params for job in root.jobs.data.values()]
    ingestions = [e for e in events if e["type"] == "ingestion"]
    assert len(ingestions) == 5
    assert all({"type": "person", "name": "tech:siti"} in e["agents"] for e in ingestions)
    fido_events = [e for e in events if e["type"] == "format identification"]
    assert all(re.search(r"fmt/\d+\); PRONOM v\d+", e["detail"]) for e in fido_events)
    # Derivatives are queued for the four images, not for the recording.
    assert sorted(j["file"] for j in jobs) == ["1", "2", "3", "4"]
    assert all(j["item_id"] == ITEM for j in jobs)


# -- QA and rejection ---------------------------------------------------------------------


def failed_checks(f: dict[str, Any]) -> set[str]:
    return {c["name"] for c in f["qa"]["checks"] if not c["passed"]}


QA_PAGE = (1000, 1000)  # the smallest size that passes the dimensions check


def qa_batch(folder: Path) -> dict[str, str]:
    """Write a batch with every kind of trouble; return the expected outcome of each file."""
    folder.mkdir()
    good = page_image(41, size=QA_PAGE)
    save_image(good, folder / "01-good.tif", format="TIFF", compression="tiff_lzw")
    (folder / "02-same-again.tif").write_bytes((folder / "01-good.tif").read_bytes())
    save_image(good, folder / "03-resaved.jpg", format="JPEG", quality=70)
    save_image(Image.new("RGB", QA_PAGE, (236, 226, 200)), folder / "04-blank.tif")
    save_image(
        page_image(42, size=QA_PAGE).filter(ImageFilter.GaussianBlur(6)), folder / "05-blurred.tif"
    )
    save_image(page_image(43, size=QA_PAGE), folder / "06-low-ppi.tif", dpi=150)
    save_image(page_image(44, size=QA_PAGE), folder / "07-no-icc.tif", icc=False)
    whole = save_image(page_image(45, size=QA_PAGE), folder / "08-truncated.tif", compression="raw")
    whole.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (folder / "09-empty.tif").write_bytes(b"")
    (folder / "10-text.tif").write_text("Scan log, batch 7: all pages captured.\n" * 40)
    save_image(page_image(46, size=(2000, 1500)), folder / "11-bomb.tif")
    # LZW as libtiff writes it: the directory comes last, so half a file has no header.
    lzw = save_image(
        page_image(47, size=QA_PAGE), folder / "12-truncated-lzw.tif", compression="tiff_lzw"
    )
    lzw.write_bytes(lzw.read_bytes()[: lzw.stat().st_size // 2])
    return {
        "01-good.tif": "stored",
        "02-same-again.tif": "skipped",
        "03-resaved.jpg": "flagged",
        "04-blank.tif": "flagged",
        "05-blurred.tif": "flagged",
        "06-low-ppi.tif": "flagged",
        "07-no-icc.tif": "flagged",
        "08-truncated.tif": "flagged",
        "09-empty.tif": "rejected",
        "10-text.tif": "rejected",
        "11-bomb.tif": "rejected",
        "12-truncated-lzw.tif": "rejected",
    }


def test_qa_flags_are_stored_and_rejected_files_are_not(tmp_path):
    repo = new_repo(tmp_path, max_image_pixels="2000000")
    batch = tmp_path / "batch"
    expected = qa_batch(batch)

    result = repo.ingest(ITEM, str(batch))

    assert result.returncode == EXIT_REJECTED, result.stderr
    assert counts(result.stdout) == {"flagged": 6, "rejected": 4, "skipped": 1, "stored": 1}
    # One stderr line per rejected file, naming the file and why.
    reasons = {
        "09-empty.tif": "the file is empty (0 bytes)",
        "10-text.tif": "not a recognised format",
        "11-bomb.tif": "over the limit of 2,000,000: refused as a possible decompression bomb",
        "12-truncated-lzw.tif": "the image header cannot be read",
    }
    for name, reason in reasons.items():
        lines = [line for line in result.stderr.splitlines() if name in line]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"{batch / name}: ") and reason in lines[0]
    for name, outcome in expected.items():
        assert f" {outcome} " in row(result.stdout, name), name  # the summary table
        if outcome != "rejected":
            assert not any(name in line for line in result.stderr.splitlines()), name

    stored = {f["filename"]: f for f in repo.files()}
    kept = [n for n, o in expected.items() if o in {"stored", "flagged"}]
    assert list(stored) == kept
    assert stored["01-good.tif"]["qa"]["passed"] is True
    assert failed_checks(stored["03-resaved.jpg"]) == {"duplicate"}
    told = row(result.stdout, "03-resaved.jpg")  # and the operator is told
    assert " flagged " in told and "nearly identical" in told
    duplicate = next(c for c in stored["03-resaved.jpg"]["qa"]["checks"] if not c["passed"])
    assert duplicate["value"]["file"] == "1" and duplicate["value"]["distance"] <= 4
    assert failed_checks(stored["04-blank.tif"]) == {"blank", "blur"}
    assert failed_checks(stored["05-blurred.tif"]) == {"blur"}
    assert failed_checks(stored["06-low-ppi.tif"]) == {"ppi"}
    assert failed_checks(stored["07-no-icc.tif"]) == {"icc_profile"}
    truncated = stored["08-truncated.tif"]
    assert {"decodes"} <= failed_checks(truncated)
    decodes = next(c for c in truncated["qa"]["checks"] if c["name"] == "decodes")
    assert "damaged or incomplete" in decodes["message"]
    assert truncated["sha256"] == sha256(batch / "08-truncated.tif") == truncated["blob_sha256"]
    for f in stored.values():
        assert f["qa"]["passed"] is not bool(failed_checks(f))
        assert f["blob_sha256"] == f["sha256"] == sha256(batch / f["filename"])
    assert repo.staged() == []  # rejected and skipped copies were removed

    with opened_root(tmp_path) as root:
        events = list(root.items[ITEM].events)
    validations = {e["objects"][0]: e for e in events if e["type"] == "validation"}
    assert len(validations) == 7
    blank_event = validations[f"{ITEM}/3"]
    assert blank_event["outcome"] == "failure" and "looks blank" in blank_event["detail"]
    assert validations[f"{ITEM}/1"]["outcome"] == "success"


def test_dry_run_reports_and_stores_nothing(tmp_path):
    repo = new_repo(tmp_path, max_image_pixels="2000000")
    batch = tmp_path / "batch"
    qa_batch(batch)

    result = repo.ingest(ITEM, str(batch), "--dry-run")

    assert result.returncode == EXIT_REJECTED
    assert "dry run: nothing stored" in result.stdout
    assert "would store" in result.stdout
    assert "ingest summary" not in result.stdout
    for name in ("09-empty.tif", "10-text.tif", "11-bomb.tif", "12-truncated-lzw.tif"):
        assert sum(name in line for line in result.stderr.splitlines()) == 1
    # It predicts the real run (test above): the copy of 01 is skipped, the rest would store.
    assert counts(result.stdout) == {"accepted": 7, "rejected": 4, "skipped": 1}
    told = row(result.stdout, "02-same-again.tif")
    assert " skipped " in told and "same as" in told
    assert repo.files() == []
    assert repo.staged() == []
    with opened_root(tmp_path) as root:
        assert len(root.items[ITEM].events) == 0
        assert len(root.jobs.data) == 0

    all_good = tmp_path / "all-good"
    all_good.mkdir()
    good_page(all_good / "p1.jpg", seed=51, size=(1000, 1000))
    assert repo.ingest(ITEM, str(all_good), "--dry-run").returncode == EXIT_OK
    assert repo.files() == []


def test_dry_run_predicts_a_near_duplicate_in_the_batch(repo, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    page = page_image(81, size=(1000, 1000))
    save_image(page, batch / "1.tif", format="TIFF", compression="tiff_lzw")
    save_image(page, batch / "2.jpg", format="JPEG", quality=70)  # the real run flags it

    dry = repo.ingest(ITEM, str(batch), "--dry-run")

    assert dry.returncode == EXIT_OK
    assert "nearly identical" in row(dry.stdout, "2.jpg")


# -- a killed ingest is re-run ------------------------------------------------------------


def kill_batch(folder: Path, pages: int) -> list[Path]:
    """Big, distinct pages (2500 × 3300 uncompressed TIFF, 25 MB each), fast to write.

    Four drawn pages, each also mirrored and turned: different pictures to the dHash.
    """
    folder.mkdir()
    turns = (None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180)
    paths = []
    for n in range(pages):
        base = page_image(70 + n // len(turns), size=(1250, 1650))
        big = base.resize((2500, 3300), Image.Resampling.BILINEAR)
        turn = turns[n % len(turns)]
        if turn is not None:
            big = big.transpose(turn)
        paths.append(save_image(big, folder / f"page{n + 1}.tif", compression="raw"))
    return paths


def committed_blobs(tmp_path: Path) -> int:
    """Count the masters in the blob directory (ZEO renames each in as it commits)."""
    blobs = tmp_path / "var" / "blobs"
    try:
        return sum(1 for p in blobs.rglob("*.blob") if "tmp" not in p.relative_to(blobs).parts)
    except OSError:  # a folder changed under the walk: look again
        return 0


@pytest.mark.slow
def test_a_killed_ingest_is_completed_by_running_it_again(repo, tmp_path):
    pages = kill_batch(tmp_path / "batch", 12)
    originals = [sha256(p) for p in pages]
    command = [HERITAGE, "ingest", ITEM, str(tmp_path / "batch"), "-c", str(repo.ini)]

    first = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the ZEO server it starts is in it
    )
    deadline = time.monotonic() + 90
    try:
        while committed_blobs(tmp_path) < 3:
            assert first.poll() is None, "the ingest ended before it could be killed"
            assert time.monotonic() < deadline, "no file was stored within 90 s"
            time.sleep(0.02)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no clean-up: the CLI and its ZEO server
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    for _ in range(100):  # the ZEO server dies with its group; wait for its socket to close
        if not zeo_alive(str(tmp_path / "var" / "zeo.sock")):
            break
        time.sleep(0.05)

    again = repo.ingest(ITEM, str(tmp_path / "batch"))

    assert again.returncode == EXIT_OK, again.stderr
    done = counts(again.stdout)
    print(f"re-run after the kill: {done}")
    assert done.get("skipped", 0) >= 2, f"the kill did not land mid-batch: {done}"
    assert done.get("stored", 0) >= 1, f"the first run finished before the kill: {done}"
    assert done["skipped"] + done["stored"] + done.get("flagged", 0) == len(pages)
    assert done.get("rejected", 0) == 0
    for n, page in enumerate(pages, 1):  # the first run stored the first pages, in order
        told = row(again.stdout, page.name)
        if n <= done["skipped"]:
            assert " skipped " in told and f"already stored as file {n}" in told
        else:
            assert " stored " in told or " flagged " in told
    stored = repo.files()
    assert len(stored) == len(pages)
    assert [f["filename"] for f in stored] == [p.name for p in pages]
    assert [f["sha256"] for f in stored] == originals
    assert all(f["blob_sha256"] == f["sha256"] for f in stored)
    with opened_root(tmp_path) as root:
        item = root.items[ITEM]
        assert len(item.files.by_sha256) == len(pages)
        ingestions = [e for e in item.events if e["type"] == "ingestion"]
        assert len(ingestions) == len(pages)
        jobs = sorted(int(j.params["file"]) for j in root.jobs.data.values())
    assert jobs == list(range(1, len(pages) + 1))  # one derivatives job per stored page
