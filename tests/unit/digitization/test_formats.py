"""Format identification with fido's PRONOM signatures, by content, cross-checked."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from PIL import Image, features

from digitization.formats import ACCEPTED, FormatError, Identification, Identifier


@pytest.fixture(scope="module")
def identifier() -> Identifier:
    return Identifier()


def page(size: tuple[int, int] = (120, 80)) -> Image.Image:
    im = Image.new("RGB", size, (230, 220, 200))
    im.paste((30, 20, 10), (10, 10, 60, 30))
    return im


def write_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\0\0\0\0" * 4410)
    return path


def check_provenance(ident: Identification, identifier: Identifier) -> None:
    assert re.fullmatch(r"fido \d+(\.\d+)+\S*", ident.tool), ident.tool
    assert re.fullmatch(r"PRONOM v\d+", ident.signature_version), ident.signature_version
    assert (ident.tool, ident.signature_version) == (
        identifier.tool,
        identifier.signature_version,
    )


def test_tiff(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.tif"
    page().save(path, dpi=(300, 300))
    ident = identifier.identify(path, exiftool_mime="image/tiff")
    assert ident.puid == "fmt/353"
    assert ident.mimetype == "image/tiff"
    assert ident.kind == "image"
    assert "Tagged Image File Format" in ident.name
    check_provenance(ident, identifier)


def test_jpeg(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.jpg"
    page().save(path, quality=90, dpi=(300, 300))
    ident = identifier.identify(path, exiftool_mime="image/jpeg")
    assert ident.puid in ("fmt/43", "fmt/44", "fmt/645")
    assert (ident.mimetype, ident.kind) == ("image/jpeg", "image")
    check_provenance(ident, identifier)


def test_jpeg_with_exif(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "camera.jpg"
    exif = Image.Exif()
    exif[0x010F] = "Phase One"
    page().save(path, quality=90, exif=exif)
    ident = identifier.identify(path)
    assert ident.puid in ("fmt/43", "fmt/645")
    assert ident.mimetype == "image/jpeg"


def test_png(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.png"
    page().save(path)
    ident = identifier.identify(path, exiftool_mime="image/png")
    assert ident.puid in ("fmt/11", "fmt/12", "fmt/13")
    assert ident.name == "Portable Network Graphics"
    assert (ident.mimetype, ident.kind) == ("image/png", "image")
    check_provenance(ident, identifier)


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow built without openjpeg")
def test_jpeg2000(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.jp2"
    page().save(path)
    ident = identifier.identify(path, exiftool_mime="image/jp2")
    assert ident.puid == "x-fmt/392"
    assert (ident.mimetype, ident.kind) == ("image/jp2", "image")


def test_wav(tmp_path: Path, identifier: Identifier) -> None:
    path = write_wav(tmp_path / "interview.wav")
    ident = identifier.identify(path, exiftool_mime="audio/x-wav")  # exiftool's MIME type
    assert ident.puid in ("fmt/141", "fmt/6", "fmt/142", "fmt/143")
    assert ident.mimetype in ("audio/x-wav", "audio/wav")
    assert ident.kind == "audio"
    check_provenance(ident, identifier)


def test_wav_with_standard_mime_from_exiftool(tmp_path: Path, identifier: Identifier) -> None:
    path = write_wav(tmp_path / "interview.wav")
    assert identifier.identify(path, exiftool_mime="audio/wav").kind == "audio"


def test_identification_is_by_content_not_name(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "really-a-png.tif"
    page().save(path, "PNG")
    assert identifier.identify(path).mimetype == "image/png"


def test_to_json(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.tif"
    page().save(path)
    data = identifier.identify(path).to_json()
    assert data["puid"] == "fmt/353"
    assert set(data) == {
        "puid",
        "name",
        "version",
        "mimetype",
        "kind",
        "tool",
        "signature_version",
        "other_matches",
    }
    assert isinstance(data["other_matches"], list)


def test_one_identifier_for_many_files(tmp_path: Path, identifier: Identifier) -> None:
    results = []
    for i, fmt in enumerate(["TIFF", "PNG", "JPEG", "TIFF"]):
        path = tmp_path / f"p{i}"
        page().save(path, fmt)
        results.append(identifier.identify(path).mimetype)
    assert results == ["image/tiff", "image/png", "image/jpeg", "image/tiff"]


# -- refused -----------------------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match=r"empty \(0 bytes\)"):
        identifier.identify(path)


def test_text_file_named_tif(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.tif"
    path.write_text("Scanned by station 3, batch 12.\nThis is not an image.\n")
    with pytest.raises(FormatError) as info:
        identifier.identify(path, exiftool_mime="text/plain")
    message = str(info.value)
    assert "not a recognised format" in message
    assert "tiff" in message  # says what is taken
    assert "Element" not in message and "<" not in message  # no internals leak


def test_pdf(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    # A transcript or translation: kept, as a document (no image QA, no canvas).
    ident = identifier.identify(path, exiftool_mime="application/pdf")
    assert ident.kind == "document" and ident.puid.startswith("fmt/")
    assert ident.mimetype == "application/pdf"


def test_gif_is_not_kept_as_a_master(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "scan.gif"
    Image.new("P", (40, 40)).save(path)
    with pytest.raises(FormatError) as info:
        identifier.identify(path, exiftool_mime="image/gif")
    message = str(info.value)
    assert "GIF" in message or "Graphics Interchange" in message
    assert "fmt/" in message  # the PRONOM id of what it is
    assert "not a format we keep as a master" in message


def test_exiftool_mime_that_disagrees(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.tif"
    page().save(path)
    with pytest.raises(FormatError) as info:
        identifier.identify(path, exiftool_mime="image/jpeg")
    message = str(info.value)
    assert "disagrees" in message
    assert "image/tiff" in message and "image/jpeg" in message


def test_no_exiftool_mime_is_not_a_disagreement(tmp_path: Path, identifier: Identifier) -> None:
    path = tmp_path / "page.tif"
    page().save(path)
    assert identifier.identify(path, exiftool_mime=None).puid == "fmt/353"
    assert identifier.identify(path, exiftool_mime="").puid == "fmt/353"


def test_a_refusal_does_not_leak_into_the_next_file(tmp_path: Path, identifier: Identifier) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_text("text")
    good = tmp_path / "good.tif"
    page().save(good)
    with pytest.raises(FormatError):
        identifier.identify(bad)
    assert identifier.identify(good).puid == "fmt/353"
    with pytest.raises(FormatError):
        identifier.identify(bad)


def test_accepted_kinds() -> None:
    assert set(ACCEPTED.values()) == {"image", "audio", "document"}
