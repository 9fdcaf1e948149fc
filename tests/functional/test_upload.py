"""Uploading masters through the API and the staff page, then building their derivatives.

The application runs in-process over a temporary FileStorage (``tests/conftest.py``). The
uploaded files are real (Pillow pages, a ``wave`` recording) and are examined by the real
exiftool and fido.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import tempfile
import wave
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import webtest
from PIL import Image, ImageCms
from support import csrf_token, login

from digitization.samples import make_sample_page
from heritage.security import hash_token
from heritage.worker import image_dir, run_worker

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
UPLOAD_LIMIT = 6 * 1024 * 1024
PREMIS_PER_FILE = {
    "capture",
    "ingestion",
    "message digest calculation",
    "format identification",
    "metadata extraction",
}


@pytest.fixture
def settings(settings: dict[str, str]) -> dict[str, str]:
    """conftest's settings, with a small upload limit."""
    return {**settings, "heritage.max_upload_bytes": str(UPLOAD_LIMIT)}


# -- real files ---------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _page(seed: int, width: int, height: int) -> Image.Image:
    with tempfile.TemporaryDirectory() as scratch:
        path = make_sample_page(
            Path(scratch) / "page.tif", seed=seed, page_no=seed, width=width, height=height
        )
        with Image.open(path) as im:
            page = im.copy()
    page.info.pop("icc_profile", None)  # the savers below decide whether it has one
    return page


def page_bytes(
    seed: int,
    *,
    fmt: str = "JPEG",
    size: tuple[int, int] = (1000, 1000),
    dpi: int = 300,
    icc: bool = True,
    **kw: Any,
) -> bytes:
    """A page that passes QA (1000 × 1000 px at least, 300 ppi, sRGB ICC, text on it)."""
    image = _page(seed, *size)
    if icc:
        kw["icc_profile"] = ICC
    if fmt == "JPEG":
        kw.setdefault("quality", 90)
    out = BytesIO()
    image.save(out, format=fmt, dpi=(dpi, dpi), **kw)
    return out.getvalue()


def camera_jpeg(seed: int) -> bytes:
    """A camera back's JPEG: EXIF orientation 6 (the picture is turned when shown)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Phase One"
    exif[0x0110] = "IQ4"
    exif[0x0131] = "Capture One"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:00:00"
    return page_bytes(seed, size=(1000, 1400), exif=exif)


def grey16_tiff(seed: int) -> bytes:
    """A 16-bit greyscale page (LZW TIFF), as a greyscale scanner writes it."""
    grey = _page(seed, 1000, 1000).convert("L").convert("I").point(lambda v: v * 257)
    out = BytesIO()
    grey.convert("I;16").save(
        out, format="TIFF", dpi=(300, 300), icc_profile=ICC, compression="tiff_lzw"
    )
    return out.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 22050) -> bytes:
    out = BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(seconds * rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 220 * i / rate)))
                for i in range(frames)
            )
        )
    return out.getvalue()


TEXT_AS_TIFF = b"Scan log, batch 7: all pages captured.\n" * 40


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- people and helpers -------------------------------------------------------------------


def page_token(testapp: webtest.TestApp, item_id: str) -> str:
    """The CSRF token of the logged-in session, from the staff item page."""
    return csrf_token(testapp, f"/staff/items/{item_id}")


def upload(
    testapp: webtest.TestApp,
    item_id: str,
    files: list[tuple[str, bytes]],
    *,
    token: str | None,
    status: int | str = "*",
    **kw: Any,
) -> webtest.TestResponse:
    headers = kw.pop("headers", {})
    if token is not None:
        headers["X-CSRF-Token"] = token
    return testapp.post(
        f"/api/items/{item_id}/files",
        upload_files=[("file", name, data) for name, data in files],
        headers=headers,
        status=status,
        **kw,
    )


def stored_files(arrange, item_id: str) -> list[dict[str, Any]]:
    def work(root: Any) -> list[dict[str, Any]]:
        out = []
        for f in root.items[item_id].files:
            with f.blob.open("r") as blob:
                content = blob.read()
            out.append(
                {
                    "name": f.__name__,
                    "filename": f.filename,
                    "sha256": f.sha256,
                    "blob_sha256": sha256(content),
                    "qa": dict(f.qa),
                    "derivatives": f.derivatives,
                }
            )
        return out

    return arrange(work)


def item_events(arrange, item_id: str) -> list[dict[str, Any]]:
    return arrange(lambda root: list(root.items[item_id].events))


def staging(settings: dict[str, str]) -> list[Path]:
    folder = Path(settings["heritage.var_dir"]) / "staging"
    return sorted(folder.iterdir()) if folder.exists() else []


# -- uploading ----------------------------------------------------------------------------


def test_a_digitizer_uploads_several_files_at_once(
    testapp, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    token = page_token(testapp, item)
    sent = [
        ("folio-1r.tif", page_bytes(1, fmt="TIFF", compression="tiff_lzw")),
        ("folio-1v.jpg", page_bytes(2, dpi=150)),
        ("interview.wav", wav_bytes()),
    ]

    answer = upload(testapp, item, sent, token=token, status=201)

    results = answer.json["files"]
    assert answer.json["item"] == item
    assert [(r["filename"], r["outcome"]) for r in results] == [
        ("folio-1r.tif", "stored"),
        ("folio-1v.jpg", "flagged"),
        ("interview.wav", "stored"),
    ]
    assert [r["file"] for r in results] == ["1", "2", "3"]
    assert [r["sha256"] for r in results] == [sha256(data) for _, data in sent]
    assert results[0]["qa"] == []
    assert [c["name"] for c in results[1]["qa"]] == ["ppi"]
    assert results[1]["qa"][0]["message"] == "300 ppi needed, 150 ppi found"

    listing = testapp.get(f"/api/items/{item}/files").json["files"]
    assert [f["filename"] for f in listing] == ["folio-1r.tif", "folio-1v.jpg", "interview.wav"]
    tif, jpg, wav = listing
    assert tif["format"]["puid"] == "fmt/353" and tif["mimetype"] == "image/tiff"
    assert tif["format"]["tool"].startswith("fido ")
    assert tif["format"]["signature_version"].startswith("PRONOM v")
    assert tif["techmd"]["width"] == 1000 and tif["techmd"]["height"] == 1000
    assert tif["techmd"]["icc_profile"] == "sRGB built-in"
    assert tif["techmd"]["compression"] == "LZW"
    assert tif["qa"]["passed"] is True
    assert {c["name"] for c in tif["qa"]["checks"]} >= {"ppi", "blank", "blur", "duplicate"}
    assert jpg["format"]["puid"] in {"fmt/43", "fmt/645"}
    assert jpg["techmd"]["ppi_x"] == 150.0 and jpg["qa"]["passed"] is False
    assert wav["format"]["puid"] == "fmt/141" and wav["mimetype"] in {"audio/x-wav", "audio/wav"}
    assert wav["techmd"]["duration"] == pytest.approx(1.0, abs=0.002)  # see the xfail below
    assert wav["techmd"]["sample_rate"] == 22050 and wav["techmd"]["channels"] == 1
    for f, (_, data) in zip(listing, sent, strict=True):
        assert f["size"] == len(data)
        assert f["sha256"] == sha256(data)
        assert f["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - fixity
        assert f["derivatives"] is None
    for f, (_, data) in zip(stored_files(arrange, item), sent, strict=True):
        assert f["blob_sha256"] == sha256(data)

    page = testapp.get(f"/staff/items/{item}")
    assert "3 files" in page.text and "1 flagged by QA" in page.text
    for name, _ in sent:
        assert name in page.text
    assert "fmt/353" in page.text and "1000×1000 px" in page.text
    assert "✓ Resolution" in page.text  # the check names a technician reads
    assert "✓ Not blank" in page.text and "✓ Sharp" in page.text
    assert "✗ Resolution: 300 ppi needed, 150 ppi found" in page.text
    assert "22050 Hz" in page.text
    assert staging(settings) == []

    # PREMIS events for every stored file; image QA is a validation event.
    events = item_events(arrange, item)
    for name in ("1", "2", "3"):
        mine = [e for e in events if e["objects"] == (f"{item}/{name}",)]
        types = {e["type"] for e in mine}
        expected = PREMIS_PER_FILE | ({"validation"} if name != "3" else set())
        assert types == expected, name
    ingestion = next(e for e in events if e["type"] == "ingestion")
    assert {"type": "person", "name": "user:pns-digitizer"} in ingestion["agents"]
    validation = {e["objects"][0]: e for e in events if e["type"] == "validation"}
    assert validation[f"{item}/1"]["outcome"] == "success"
    assert validation[f"{item}/2"]["outcome"] == "failure"
    assert "150 ppi found" in validation[f"{item}/2"]["detail"]


def test_rejected_and_repeated_files_are_reported_and_not_stored(
    testapp, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    token = page_token(testapp, item)
    good = page_bytes(3)

    mixed = upload(
        testapp, item, [("page.jpg", good), ("notes.tif", TEXT_AS_TIFF)], token=token, status=201
    )
    assert [r["outcome"] for r in mixed.json["files"]] == ["stored", "rejected"]
    assert "not a recognised format" in mixed.json["files"][1]["reason"]
    assert [f["filename"] for f in stored_files(arrange, item)] == ["page.jpg"]

    only_bad = upload(
        testapp,
        item,
        [("notes.tif", TEXT_AS_TIFF), ("empty.tif", b"")],
        token=token,
        status=400,
    )
    assert [(r["filename"], r["outcome"]) for r in only_bad.json["files"]] == [
        ("notes.tif", "rejected"),
        ("empty.tif", "rejected"),
    ]
    assert only_bad.json["files"][1]["reason"] == "the file is empty (0 bytes)"

    again = upload(testapp, item, [("page-again.jpg", good)], token=token, status=200)
    assert again.json["files"] == [
        {"filename": "page-again.jpg", "outcome": "skipped", "reason": "already stored as file 1"}
    ]

    assert [f["filename"] for f in stored_files(arrange, item)] == ["page.jpg"]
    events = item_events(arrange, item)
    assert {e["objects"] for e in events} == {(f"{item}/1",)}
    assert staging(settings) == []

    # The same page twice in one upload, and once more re-saved as JPEG q 70.
    other = page_bytes(4)
    twice = upload(
        testapp,
        item,
        [("a.jpg", other), ("b.jpg", other), ("c.jpg", page_bytes(4, quality=70))],
        token=token,
        status=201,
    )
    outcomes = [(r["filename"], r["outcome"]) for r in twice.json["files"]]
    assert outcomes == [("a.jpg", "stored"), ("b.jpg", "skipped"), ("c.jpg", "flagged")]
    assert twice.json["files"][1]["reason"] == "already stored as file 2"
    assert [c["name"] for c in twice.json["files"][2]["qa"]] == ["duplicate"]
    assert "nearly identical to file 2" in twice.json["files"][2]["qa"][0]["message"]
    assert [f["filename"] for f in stored_files(arrange, item)] == ["page.jpg", "a.jpg", "c.jpg"]
    assert staging(settings) == []


def test_the_browser_form_uploads_and_shows_the_results(
    testapp, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    page = testapp.get(f"/staff/items/{item}")
    form = page.forms["upload-form"]
    assert form.enctype == "multipart/form-data"
    assert "multiple" in form.fields["file"][0].attrs
    form["file"] = [webtest.Upload("folio-2r.jpg", page_bytes(5), "image/jpeg")]

    done = form.submit(status=302)

    assert done.location.endswith(f"/staff/items/{item}")
    shown = done.follow()
    assert "Upload results" in shown.text
    assert re.search(r"<strong>folio-2r\.jpg</strong>: stored", shown.text)
    assert "No files yet." not in shown.text
    assert "Upload results" not in testapp.get(f"/staff/items/{item}").text  # shown once

    # Several files at once, as a browser sends a multiple file input.
    form = testapp.get(f"/staff/items/{item}").forms["upload-form"]
    form["file"] = [
        webtest.Upload("folio-2v.jpg", page_bytes(6, dpi=150), "image/jpeg"),
        webtest.Upload("folio-3r.tif", TEXT_AS_TIFF, "image/tiff"),
        webtest.Upload("folio-3v.jpg", page_bytes(7), "image/jpeg"),
    ]
    several = form.submit(status=302).follow()
    assert re.search(r"<strong>folio-2v\.jpg</strong>: flagged", several.text)
    assert "Resolution: 300 ppi needed, 150 ppi found" in several.text
    assert re.search(r"<strong>folio-3r\.tif</strong>: rejected — not a recognised", several.text)
    assert re.search(r"<strong>folio-3v\.jpg</strong>: stored", several.text)
    assert "✗ Resolution: 300 ppi needed" in several.text  # in the file table too
    stored = [f["filename"] for f in stored_files(arrange, item)]
    assert stored == ["folio-2r.jpg", "folio-2v.jpg", "folio-3v.jpg"]

    # upload.js posts the same form and asks for JSON.
    js = testapp.post(
        f"/staff/items/{item}/upload",
        params={"csrf_token": form["csrf_token"].value},
        upload_files=[("file", "folio-4r.jpg", page_bytes(8))],
        headers={"Accept": "application/json"},
        status=201,
    )
    assert json.loads(js.body)["files"][0]["outcome"] == "stored"  # served as text/html: below
    assert staging(settings) == []


def test_the_upload_answer_for_upload_js_is_json(testapp, consortium):
    login(testapp, "admin")
    item = consortium.unpublished
    token = page_token(testapp, item)
    answer = testapp.post(
        f"/staff/items/{item}/upload",
        params={"csrf_token": token},
        upload_files=[("file", "folio-5r.jpg", page_bytes(30))],
        headers={"Accept": "application/json"},
        status=201,
    )
    assert answer.content_type == "application/json"
    assert answer.json["files"][0]["outcome"] == "stored"


# -- who may upload -----------------------------------------------------------------------


def test_only_digitizers_of_the_institution_may_upload(
    testapp, arrange, consortium, digitizer, settings
):
    files = [("page.jpg", page_bytes(9))]
    public, unpublished = consortium.public, consortium.unpublished

    # Anonymous: the unpublished item does not exist for them; the public one is forbidden.
    upload(testapp, unpublished, files, token=None, status=404)
    denied = upload(testapp, public, files, token=None, status=403)
    assert "error" in denied.json
    form_post = testapp.post(
        f"/staff/items/{unpublished}/upload", upload_files=[("file", *files[0])], status=302
    )
    assert "/staff/login" in form_post.location

    # A curator of pns sees the item but may not upload to it.
    login(testapp, "pns-curator")
    token = page_token(testapp, unpublished)
    assert 'id="upload-form"' not in testapp.get(f"/staff/items/{unpublished}").text
    upload(testapp, unpublished, files, token=token, status=403)
    testapp.post(
        f"/staff/items/{unpublished}/upload",
        params={"csrf_token": token},
        upload_files=[("file", *files[0])],
        status=403,
    )
    testapp.post("/staff/logout", params={"csrf_token": token}, status=302)

    # Staff of another institution: pns's unpublished item is not there.
    login(testapp, "kaltim-curator")
    token = page_token(testapp, consortium.other_unpublished)
    upload(testapp, unpublished, files, token=token, status=404)
    upload(testapp, public, files, token=token, status=403)

    assert stored_files(arrange, unpublished) == []
    assert stored_files(arrange, public) == []
    assert staging(settings) == []


def test_a_session_upload_needs_the_csrf_token_a_bearer_token_does_not(
    testapp, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    files = [("page.jpg", page_bytes(10))]
    missing = upload(testapp, item, files, token=None, status=400)
    assert "CSRF" in missing.json["error"]
    upload(testapp, item, files, token="not-the-token", status=400)
    testapp.post(f"/staff/items/{item}/upload", upload_files=[("file", *files[0])], status=400)
    assert stored_files(arrange, item) == []
    assert staging(settings) == []

    arrange(lambda root: root.users.add_token(digitizer, hash_token("digitizer-token")))
    api = webtest.TestApp(testapp.app)  # no cookies: a script
    answer = upload(
        api,
        item,
        files,
        token=None,
        headers={"Authorization": "Bearer digitizer-token"},
        status=201,
    )
    assert answer.json["files"][0]["outcome"] == "stored"
    assert stored_files(arrange, item)[0]["sha256"] == sha256(files[0][1])


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    testapp, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    token = page_token(testapp, item)
    big = page_bytes(11, fmt="TIFF", size=(1500, 1500), compression="raw")  # 6.75 MB
    assert len(big) > UPLOAD_LIMIT

    refused = upload(testapp, item, [("big.tif", big)], token=token, status=413)

    assert "too large" in refused.json["error"]
    testapp.post(
        f"/staff/items/{item}/upload",
        params={"csrf_token": token},
        upload_files=[("file", "big.tif", big)],
        status=413,
    )
    assert stored_files(arrange, item) == []
    assert staging(settings) == []
    # Below the limit, the same item takes a file (other bodies stay under max_body_bytes).
    upload(testapp, item, [("small.jpg", page_bytes(11))], token=token, status=201)


def test_the_sent_file_name_is_never_a_path(
    testapp, arrange, consortium, digitizer, settings, tmp_path
):
    item = consortium.unpublished
    login(testapp, digitizer)
    names = {  # sent → kept
        "../../evil.tif": "evil.tif",
        "..\\..\\evil2.tif": "evil2.tif",
        "/etc/evil3.tif": "evil3.tif",
        "..": "file",
        ".htaccess.tif": "htaccess.tif",
        "Hikayat Raja-raja (salinan).tif": "Hikayat_Raja-raja__salinan_.tif",
    }
    sent = [(name, page_bytes(20 + n)) for n, name in enumerate(names)]

    answer = upload(testapp, item, sent, token=page_token(testapp, item), status=201)

    assert [r["filename"] for r in answer.json["files"]] == list(names.values())
    assert {r["outcome"] for r in answer.json["files"]} == {"stored"}
    stored = stored_files(arrange, item)
    assert [f["filename"] for f in stored] == list(names.values())
    assert [f["blob_sha256"] for f in stored] == [sha256(data) for _, data in sent]
    for escaped in ("evil.tif", "evil2.tif"):
        assert not (tmp_path.parent / escaped).exists()
        assert not (tmp_path.parent.parent / escaped).exists()
    assert not Path("/etc/evil3.tif").exists()
    var = Path(settings["heritage.var_dir"])
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    outside = [
        p
        for p in written
        if not p.is_relative_to(var)
        and not p.is_relative_to(tmp_path / "blobs")
        and not p.name.startswith("Data.fs")
    ]
    assert outside == []
    assert staging(settings) == []


# -- after the upload: derivatives --------------------------------------------------------


def test_the_worker_builds_a_pyramid_for_each_uploaded_image(
    testapp, app, db, arrange, consortium, digitizer, settings
):
    item = consortium.unpublished
    login(testapp, digitizer)
    upload(
        testapp,
        item,
        [
            ("folio-1r.tif", page_bytes(13, fmt="TIFF", compression="tiff_lzw")),
            ("camera.jpg", camera_jpeg(14)),
            ("interview.wav", wav_bytes()),
            ("folio-1v-grey16.tif", grey16_tiff(15)),
        ],
        token=page_token(testapp, item),
        status=201,
    )
    hs = app.registry.heritage
    jobs = arrange(lambda root: sorted(j.params["file"] for j in root.jobs.data.values()))
    assert jobs == ["1", "2", "4"]  # none for the recording

    assert run_worker(db, hs, processes=0, once=True) == 3

    base = Path(settings["heritage.var_dir"]) / "derivatives" / "iiif" / "3"
    stored = stored_files(arrange, item)
    for f in (stored[0], stored[1], stored[3]):
        folder = base / f"{item}_{f['name']}"
        assert folder == image_dir(hs, f"{item}_{f['name']}")
        described = json.loads((folder / "pyramid.json").read_text())
        assert f["derivatives"] == described
        for width, height in described["sizes"]:
            with Image.open(folder / "full" / f"{width},{height}" / "0" / "default.jpg") as im:
                assert im.format == "JPEG" and im.size == (width, height)
    assert (stored[0]["derivatives"]["width"], stored[0]["derivatives"]["height"]) == (1000, 1000)
    # EXIF orientation 6 is applied: the 1000 × 1400 capture is shown 1400 wide.
    assert (stored[1]["derivatives"]["width"], stored[1]["derivatives"]["height"]) == (1400, 1000)
    assert stored[2]["derivatives"] is None
    assert not (base / f"{item}_3").exists()
    assert stored[3]["derivatives"]["width"] == 1000
    states = arrange(lambda root: [j.state for j in root.jobs.data.values()])
    assert states == ["done", "done", "done"]

    assert run_worker(db, hs, processes=0, once=True) == 0


def junk_chunk_wav(seconds: float = 1.0, rate: int = 22050) -> bytes:
    """A WAV with a 1-second-sized JUNK chunk before its data, as many recorders write."""
    plain = wav_bytes(seconds, rate)
    fmt_end = 12 + 8 + 16  # RIFF header, then the 16-byte PCM fmt chunk
    junk = b"JUNK" + struct.pack("<I", rate * 2) + bytes(rate * 2)
    body = plain[8:fmt_end] + junk + plain[fmt_end:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_wav_duration_counts_only_its_sound(testapp, arrange, consortium):
    arrange(lambda root: root.users.add_token("admin", hash_token("admin-token")))
    answer = upload(
        testapp,
        consortium.unpublished,
        [("interview.wav", junk_chunk_wav(1.0))],
        token=None,
        headers={"Authorization": "Bearer admin-token"},
        status=201,
    )
    assert answer.json["files"][0]["outcome"] == "stored"
    listing = testapp.get(
        f"/api/items/{consortium.unpublished}/files",
        headers={"Authorization": "Bearer admin-token"},
    )
    techmd = listing.json["files"][0]["techmd"]
    assert techmd["sample_rate"] == 22050 and techmd["channels"] == 1
    assert techmd["duration"] == 1.0


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_rejection_reason_does_not_show_server_paths(testapp, arrange, consortium, settings):
    arrange(lambda root: root.users.add_token("admin", hash_token("admin-token")))
    whole = page_bytes(31, fmt="TIFF", compression="tiff_lzw")  # libtiff: directory last
    answer = upload(
        testapp,
        consortium.unpublished,
        [("half.tif", whole[: len(whole) // 2])],
        token=None,
        headers={"Authorization": "Bearer admin-token"},
        status=400,
    )
    (result,) = answer.json["files"]
    assert result["outcome"] == "rejected"
    assert result["reason"].startswith("the image header cannot be read")
    assert settings["heritage.var_dir"] not in result["reason"]
    assert "staging" not in result["reason"]
