"""Technical metadata through one real exiftool process, normalised per format."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms, features

from digitization.techmd import ExifTool, TechMDError

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture(scope="module")
def et() -> Iterator[ExifTool]:
    with ExifTool() as tool:
        yield tool


def rgb(size: tuple[int, int] = (300, 200)) -> Image.Image:
    im = Image.new("RGB", size, (200, 180, 150))
    im.paste((40, 30, 20), (20, 20, 120, 60))
    return im


# -- images ------------------------------------------------------------------------------------


def test_tiff_8bit_rgb_with_icc_at_300_dpi(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "page.tif"
    rgb().save(path, dpi=(300, 300), icc_profile=SRGB)
    md = et.extract(path)
    assert md["file_type"] == "TIFF"
    assert md["mimetype"] == "image/tiff"
    assert (md["width"], md["height"]) == (300, 200)
    assert md["bits_per_sample"] == 8
    assert md["samples_per_pixel"] == 3
    assert md["colour_space"] == "RGB"
    assert md["icc_profile"] == "sRGB built-in"  # LittleCMS's description of its sRGB
    assert md["ppi_x"] == pytest.approx(300) and md["ppi_y"] == pytest.approx(300)
    assert md["compression"] == "Uncompressed"
    assert md["orientation"] is None and md["make"] is None
    assert md["exiftool_version"]


def test_tiff_16bit_greyscale(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "grey16.tif"
    Image.new("I;16", (64, 48), 40000).save(path, dpi=(600, 600))
    md = et.extract(path)
    assert (md["width"], md["height"]) == (64, 48)
    assert md["bits_per_sample"] == 16
    assert md["colour_space"] in ("BlackIsZero", "Grayscale")
    assert md["icc_profile"] is None
    assert md["ppi_x"] == pytest.approx(600)


def test_tiff_compression_is_named(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "lzw.tif"
    rgb().save(path, compression="tiff_lzw", dpi=(300, 300))
    assert et.extract(path)["compression"] == "LZW"


def test_tiff_resolution_in_centimetres_is_converted_to_ppi(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "cm.tif"
    rgb().save(path, tiffinfo={296: 3, 282: 118.11, 283: 118.11})  # 118.11 px/cm = 300 ppi
    md = et.extract(path)
    assert md["ppi_x"] == pytest.approx(300, abs=0.5)
    assert md["ppi_y"] == pytest.approx(300, abs=0.5)


def test_tiff_without_resolution_unit_defaults_to_inches(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "nounit.tif"
    rgb().save(path, tiffinfo={282: 400.0, 283: 400.0})
    md = et.extract(path)
    assert md["ppi_x"] == pytest.approx(400)


def test_jpeg_with_jfif_dpi(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "page.jpg"
    rgb().save(path, quality=90, dpi=(300, 300))
    md = et.extract(path)
    assert md["mimetype"] == "image/jpeg"
    assert (md["width"], md["height"]) == (300, 200)
    assert md["bits_per_sample"] == 8
    assert md["samples_per_pixel"] == 3
    assert md["colour_space"] == "RGB"
    assert (md["ppi_x"], md["ppi_y"]) == (pytest.approx(300), pytest.approx(300))


def test_jpeg_with_jfif_density_in_centimetres(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "cm.jpg"
    rgb().save(path, quality=90, dpi=(72, 72))
    data = bytearray(path.read_bytes())
    assert data[6:11] == b"JFIF\0"
    data[13] = 2  # units: dots per cm
    data[14:18] = (118).to_bytes(2, "big") * 2
    path.write_bytes(bytes(data))
    md = et.extract(path)
    assert md["ppi_x"] == pytest.approx(299.7, abs=0.5)


def test_jpeg_with_jfif_aspect_ratio_only_has_no_ppi(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "aspect.jpg"
    rgb().save(path, quality=90)  # Pillow writes JFIF units 0, density 1:1
    md = et.extract(path)
    assert md["ppi_x"] is None and md["ppi_y"] is None


def exif_camera() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "Phase One"  # Make
    exif[0x0110] = "IQ4 150MP"  # Model
    exif[0x0131] = "Capture One 23"  # Software
    exif.get_ifd(0x8769)[0x9003] = "2023:05:06 07:08:09"  # DateTimeOriginal, Exif IFD
    return exif


def test_jpeg_with_exif_camera_tags(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "camera.jpg"
    rgb().save(path, quality=90, exif=exif_camera())
    md = et.extract(path)
    assert md["orientation"] == 6
    assert md["make"] == "Phase One"
    assert md["model"] == "IQ4 150MP"
    assert md["software"] == "Capture One 23"
    assert md["capture_date"] == "2023:05:06 07:08:09"
    assert (md["width"], md["height"]) == (300, 200)  # as stored, not as displayed


def test_jpeg_with_exif_resolution(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "exifres.jpg"
    exif = exif_camera()
    exif[282], exif[283], exif[296] = 400.0, 400.0, 2
    rgb().save(path, quality=90, exif=exif)
    md = et.extract(path)
    assert (md["ppi_x"], md["ppi_y"]) == (pytest.approx(400), pytest.approx(400))


def test_jpeg_with_jfif_and_exif_resolution_in_different_units(
    tmp_path: Path, et: ExifTool
) -> None:
    path = tmp_path / "both.jpg"
    exif = Image.Exif()
    exif[282], exif[283], exif[296] = 118.11, 118.11, 3
    rgb().save(path, quality=90, dpi=(300, 300), exif=exif)
    md = et.extract(path)
    assert md["ppi_x"] == pytest.approx(300, abs=0.5)


def test_png_with_phys(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "page.png"
    rgb().save(path, dpi=(300, 300))
    md = et.extract(path)
    assert md["mimetype"] == "image/png"
    assert (md["width"], md["height"]) == (300, 200)
    assert md["bits_per_sample"] == 8
    assert md["colour_space"] == "RGB"
    assert md["ppi_x"] == pytest.approx(300, abs=0.5)
    assert md["ppi_y"] == pytest.approx(300, abs=0.5)
    assert md["compression"] == "Deflate/Inflate"


def test_png_with_icc_profile(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "icc.png"
    rgb().save(path, icc_profile=SRGB)
    md = et.extract(path)
    assert md["icc_profile"] == "sRGB built-in"
    assert md["ppi_x"] is None  # no pHYs chunk


def test_png_greyscale_16bit(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "grey16.png"
    Image.new("I;16", (40, 30), 1000).save(path)
    md = et.extract(path)
    assert md["bits_per_sample"] == 16
    assert md["colour_space"] == "Grayscale"


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow built without openjpeg")
def test_jpeg2000(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "page.jp2"
    rgb().save(path)
    md = et.extract(path)
    assert md["mimetype"] == "image/jp2"
    assert (md["width"], md["height"]) == (300, 200)
    assert md["bits_per_sample"] == 8
    assert md["compression"] == "JPEG 2000"
    assert md["colour_space"] == "sRGB"


# -- audio -------------------------------------------------------------------------------------


def write_wav(path: Path, *, seconds: float = 1.5, rate: int = 44100, channels: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * channels * round(rate * seconds))
    return path


def test_wav(tmp_path: Path, et: ExifTool) -> None:
    md = et.extract(write_wav(tmp_path / "interview.wav"))
    assert md["mimetype"] in ("audio/x-wav", "audio/wav")
    assert md["duration"] == pytest.approx(1.5, abs=0.01)
    assert md["sample_rate"] == 44100
    assert md["channels"] == 2
    assert md["bits_per_sample"] == 16
    assert md["codec"] == "Microsoft PCM"
    assert "width" not in md  # no image keys for audio


def test_wav_mono_48k(tmp_path: Path, et: ExifTool) -> None:
    md = et.extract(write_wav(tmp_path / "mono.wav", seconds=0.25, rate=48000, channels=1))
    assert md["duration"] == pytest.approx(0.25, abs=0.01)
    assert (md["sample_rate"], md["channels"]) == (48000, 1)


# -- the process -------------------------------------------------------------------------------


def test_values_are_json_types(tmp_path: Path, et: ExifTool) -> None:
    path = tmp_path / "camera.jpg"
    rgb().save(path, quality=90, exif=exif_camera(), dpi=(300, 300))
    for value in et.extract(path).values():
        assert value is None or isinstance(value, (str, int, float)), value


def test_extract_many_keeps_order(tmp_path: Path, et: ExifTool) -> None:
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"p{i}.png")
        Image.new("L", (10 + i, 20)).save(paths[-1])
    assert [md["width"] for md in et.extract_many(paths)] == [10, 11, 12, 13, 14]


@pytest.fixture
def popen_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every subprocess started while the test runs (exiftool's included)."""
    calls: list[Any] = []
    real = subprocess.Popen

    class CountingPopen(real):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, *a: Any, **kw: Any) -> None:
            calls.append(args)
            super().__init__(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", CountingPopen)
    return calls


def test_one_exiftool_process_for_a_batch(tmp_path: Path, popen_calls: list[Any]) -> None:
    paths = []
    for i in range(50):
        paths.append(tmp_path / f"page-{i:02}.png")
        Image.new("L", (20 + i, 10)).save(paths[-1])
    with ExifTool() as tool:
        process = tool._helper._process
        started = len(popen_calls)
        many = tool.extract_many(paths)
        singles = [tool.extract(p) for p in paths]  # one session, file by file
        assert tool._helper._process is process
        assert process.poll() is None  # still the same running process
        assert len(popen_calls) == started  # nothing else was started
    assert started == 1
    assert [m["width"] for m in many] == [20 + i for i in range(50)]
    assert singles == many
    assert process.poll() is not None  # ended with the context


def test_exiftool_error_raises_techmd_error_and_the_process_carries_on(
    tmp_path: Path, et: ExifTool
) -> None:
    garbage = tmp_path / "noise.tif"
    garbage.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(TechMDError):
        et.extract(garbage)
    good = tmp_path / "ok.png"
    Image.new("L", (7, 9)).save(good)
    assert et.extract(good)["width"] == 7


def test_version(et: ExifTool) -> None:
    assert et.version[0].isdigit()


def test_exiftool_dying_at_start_raises_techmd_error(monkeypatch: pytest.MonkeyPatch) -> None:
    tool = ExifTool()

    def dies_at_once() -> None:  # what ExifTool.run() raises when poll() shows an exit
        raise RuntimeError("exiftool did not execute successfully")

    monkeypatch.setattr(tool._helper, "run", dies_at_once)
    with pytest.raises(TechMDError, match="exiftool"), tool:
        pass


def test_missing_executable_raises_techmd_error(tmp_path: Path) -> None:
    with pytest.raises(TechMDError, match="libimage-exiftool-perl"):
        with ExifTool(str(tmp_path / "no-such-exiftool")):
            pass
