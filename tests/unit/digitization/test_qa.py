"""Image QA: capture settings, complete decoding, blank and blurred pages, near duplicates.

Pages are drawn here with Pillow (paper shaded top to bottom as under copy-stand lights, with
grain, and lines of pseudo-words) and ``techmd`` is written by hand, as the exiftool layer
would give it.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import (
    Image,
    ImageChops,
    ImageCms,
    ImageDraw,
    ImageFile,
    ImageFilter,
    ImageFont,
    ImageOps,
    ImageStat,
)

from digitization.qa import (
    CHECK_NAMES,
    Check,
    ImageQA,
    QAError,
    Thresholds,
    check_duplicate,
    check_image,
    dhash_distance,
)

T = Thresholds()
SHA = "ab" * 32
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
#: What exiftool reports for a good 1200 × 1600 RGB master.
GOOD: dict[str, Any] = {
    "width": 1200,
    "height": 1600,
    "bits_per_sample": 8,
    "samples_per_pixel": 3,
    "colour_space": "RGB",
    "icc_profile": "sRGB IEC61966-2.1",
    "ppi_x": 300.0,
    "ppi_y": 300.0,
    "compression": "Uncompressed",
}


def paper(size: tuple[int, int], seed: int) -> Image.Image:
    """Warm paper, lighter towards the bottom, with a faint grain."""
    w, h = size
    rng = random.Random(seed)
    shade = Image.linear_gradient("L").resize((w, h)).point(lambda v: 232 + v * 16 // 255)
    grain = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(lambda v: v * 8 // 255)
    return ImageOps.colorize(
        ImageChops.subtract(shade, grain), black=(40, 30, 20), white=(246, 236, 212)
    )


def page_image(seed: int = 1, size: tuple[int, int] = (1200, 1600)) -> Image.Image:
    """A page of pseudo-words in brown ink, about 30 lines in a text block."""
    w, h = size
    rng = random.Random(seed)
    page = paper(size, seed)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=h // 50)
    for y in range(h // 10, int(h * 0.86), h // 30):
        x = w // 10 + rng.randint(0, 40)
        while x < w * 0.85:
            word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
            draw.text((x, y), word, fill=(50, 38, 30), font=font)
            x += draw.textlength(word + " ", font=font)
    return page


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return page_image()


def save(im: Image.Image, path: Path, *, dpi: float | None = 300, icc: bool = True, **kw: Any):
    if dpi is not None:
        kw["dpi"] = (dpi, dpi)
    if icc and im.mode in ("RGB", "RGBA"):
        kw["icc_profile"] = SRGB
    if path.suffix == ".png":
        kw.setdefault("compress_level", 1)  # the grain makes zlib's default slow
    im.save(path, **kw)
    return path


def failed(qa: ImageQA) -> dict[str, str]:
    return {c.name: c.message for c in qa.failed}


# -- a good page --------------------------------------------------------------------------------


def test_good_page_passes_every_check(tmp_path: Path, page: Image.Image) -> None:
    qa = check_image(save(page, tmp_path / "p001.tif"), GOOD, T)
    assert failed(qa) == {}
    assert qa.passed
    assert [c.name for c in qa.checks] == list(CHECK_NAMES[:-1])
    assert qa.check("ppi").value == 300
    assert qa.check("dimensions").value == [1200, 1600]
    assert qa.check("icc_profile").value == "sRGB IEC61966-2.1"
    assert qa.dhash is not None
    assert 0 <= qa.dhash < 1 << 64


@pytest.mark.parametrize("name", ["p001.tif", "p001.jpg", "p001.png"])
def test_good_page_passes_from_what_pillow_reads(
    tmp_path: Path, page: Image.Image, name: str
) -> None:
    qa = check_image(save(page, tmp_path / name), {}, T)
    assert failed(qa) == {}
    assert qa.check("ppi").value == 300
    assert qa.check("dimensions").value == [1200, 1600]
    assert qa.check("bit_depth").value == 8
    assert qa.check("icc_profile").value == "sRGB built-in"


def test_jpeg_and_tiff_of_one_page_measure_alike(tmp_path: Path, page: Image.Image) -> None:
    tif = check_image(save(page, tmp_path / "p.tif"), GOOD, T)
    jpg = check_image(save(page, tmp_path / "p.jpg", quality=90), GOOD, T)
    assert jpg.check("blank").value == pytest.approx(tif.check("blank").value, rel=0.02)
    assert jpg.check("blur").value == pytest.approx(tif.check("blur").value, rel=0.05)
    assert dhash_distance(tif.dhash, jpg.dhash) <= T.duplicate_distance


# -- pixels -------------------------------------------------------------------------------------


def test_blank_page_fails_blank_and_blur(tmp_path: Path) -> None:
    qa = check_image(save(paper((1200, 1600), seed=7), tmp_path / "blank.tif"), GOOD, T)
    assert set(failed(qa)) == {"blank", "blur"}  # nothing in focus on a blank page either
    blank = qa.check("blank")
    assert blank.value < T.blank_stddev
    assert blank.threshold == T.blank_stddev
    assert "looks blank" in blank.message
    assert qa.dhash is not None


def test_blurred_page_fails_blur_but_not_blank(tmp_path: Path, page: Image.Image) -> None:
    # Radius 8 on 1600 px is radius 5 at the 1000-px measurement scale.
    blurred = page.filter(ImageFilter.GaussianBlur(8))
    qa = check_image(save(blurred, tmp_path / "blurred.tif"), GOOD, T)
    assert set(failed(qa)) == {"blur"}
    assert qa.check("blur").value < T.blur_variance
    assert "out of focus" in qa.check("blur").message
    assert qa.check("blank").value > T.blank_stddev


def test_sharp_page_is_far_above_the_blur_threshold(tmp_path: Path, page: Image.Image) -> None:
    qa = check_image(save(page, tmp_path / "p.tif"), GOOD, T)
    assert qa.check("blur").value > 10 * T.blur_variance


# -- capture settings ---------------------------------------------------------------------------


def test_low_resolution_fails_ppi_naming_both_numbers(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.tif", dpi=150)
    for techmd in ({**GOOD, "ppi_x": 150.0, "ppi_y": 150.0}, {}):
        ppi = check_image(path, techmd, T).check("ppi")
        assert not ppi.passed
        assert (ppi.value, ppi.threshold) == (150, 300)
        assert ppi.message == "300 ppi needed, 150 ppi found"


def test_ppi_names_both_axes_when_they_differ(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.tif")
    ppi = check_image(path, {**GOOD, "ppi_y": 200.0}, T).check("ppi")
    assert not ppi.passed
    assert ppi.message == "300 ppi needed, 300 × 200 ppi found"


def test_ppi_stored_in_centimetres_is_rounded(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.tif")
    ppi = check_image(path, {**GOOD, "ppi_x": 118.11 * 2.54, "ppi_y": 118.11 * 2.54}, T)
    assert ppi.check("ppi").passed


def test_missing_resolution_fails_ppi(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.png", dpi=None)
    for techmd in ({**GOOD, "ppi_x": None, "ppi_y": None}, {}):
        ppi = check_image(path, techmd, T).check("ppi")
        assert not ppi.passed
        assert ppi.value is None
        assert "no resolution recorded" in ppi.message


def test_small_page_fails_dimensions(tmp_path: Path, page: Image.Image) -> None:
    small = page.resize((600, 800), Image.Resampling.LANCZOS)
    path = save(small, tmp_path / "small.tif")
    for techmd in ({**GOOD, "width": 600, "height": 800}, {}):
        qa = check_image(path, techmd, T)
        assert set(failed(qa)) == {"dimensions"}
        dims = qa.check("dimensions")
        assert (dims.value, dims.threshold) == ([600, 800], [1000, 1000])
        assert dims.message == "at least 1000 × 1000 px needed, 600 × 800 px found"


def test_missing_icc_profile_fails_unless_not_required(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.tif", icc=False)
    techmd = {**GOOD, "icc_profile": None}
    icc = check_image(path, techmd, T).check("icc_profile")
    assert not icc.passed
    assert icc.message == "no ICC colour profile embedded"

    relaxed = check_image(path, techmd, Thresholds(require_icc=False))
    assert relaxed.passed
    assert relaxed.check("icc_profile").message == "no ICC colour profile embedded (not required)"


def test_unreadable_icc_profile_fails(tmp_path: Path, page: Image.Image) -> None:
    path = tmp_path / "p.tif"
    page.save(path, dpi=(300, 300), icc_profile=b"not a profile")
    icc = check_image(path, {}, T).check("icc_profile")
    assert not icc.passed
    assert "cannot be read" in icc.message


def test_16_bit_greyscale_tiff(tmp_path: Path, page: Image.Image) -> None:
    grey8 = page.convert("L")
    grey16 = grey8.convert("I").point(lambda v: v * 257).convert("I;16")
    path = save(grey16, tmp_path / "p16.tif")
    with Image.open(path) as im:
        assert im.mode == "I;16"
    techmd = {**GOOD, "bits_per_sample": 16, "samples_per_pixel": 1, "icc_profile": "Gray"}
    for qa in (check_image(path, techmd, T), check_image(path, {}, Thresholds(require_icc=False))):
        assert failed(qa) == {}
        assert qa.check("bit_depth").value == 16
        assert qa.check("bit_depth").message == "16 bits per channel (8 needed)"
    # Scaled to 8 bits for measuring, not clipped: it measures as the 8-bit page does.
    eight = check_image(save(grey8, tmp_path / "p8.tif"), techmd, T)
    assert qa.check("blank").value == pytest.approx(eight.check("blank").value, abs=0.1)
    assert qa.check("blur").value == pytest.approx(eight.check("blur").value, rel=0.01)
    assert dhash_distance(qa.dhash, eight.dhash) <= 1


def test_low_bit_depth_fails(tmp_path: Path, page: Image.Image) -> None:
    path = save(page.convert("1"), tmp_path / "bitonal.tif")
    for techmd in ({**GOOD, "bits_per_sample": 1, "samples_per_pixel": 1}, {}):
        bits = check_image(path, techmd, Thresholds(require_icc=False)).check("bit_depth")
        assert not bits.passed
        assert bits.message == "8 bits per channel needed, 1 found"


def test_bits_per_sample_as_exiftool_lists_them(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.tif")
    for bps in ("8 8 8", [8, 8, 8], (16, 16, 16)):
        assert check_image(path, {**GOOD, "bits_per_sample": bps}, T).check("bit_depth").passed
    low = check_image(path, {**GOOD, "bits_per_sample": "4 4 4"}, T).check("bit_depth")
    assert low.value == 4


@pytest.mark.parametrize(
    ("mode", "name"),
    [
        ("CMYK", "p.tif"),
        ("CMYK", "p.jpg"),
        ("P", "p.png"),
        ("P", "p.tif"),
        ("RGBA", "p.png"),
        ("LA", "p.png"),
        ("L", "p.jpg"),
        ("1", "p.tif"),
    ],
)
def test_every_mode_goes_through_the_checks(
    tmp_path: Path, page: Image.Image, hashes: dict[str, int], mode: str, name: str
) -> None:
    im = page.convert(mode)
    qa = check_image(save(im, tmp_path / name), {}, Thresholds(require_icc=False))
    assert qa.check("decodes").passed
    assert qa.check("blank").passed, qa.check("blank").message
    assert qa.check("blur").passed, qa.check("blur").message
    assert qa.dhash is not None
    assert dhash_distance(qa.dhash, hashes["p001.tif"]) <= 6  # the same page, in colour


def _lab(page: Image.Image) -> Image.Image:
    srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    return ImageCms.applyTransform(page, ImageCms.buildTransform(srgb, lab, "RGB", "LAB"))


def _transparent_palette(page: Image.Image) -> Image.Image:
    im = page.convert("P")
    im.info["transparency"] = 255  # an index no pixel of this page uses
    return im


EXOTIC = {
    "I, 16-bit values": lambda page: page.convert("L").convert("I").point(lambda v: v * 257),
    "I, 8-bit values": lambda page: page.convert("L").convert("I"),
    "F, 0 to 1": lambda page: page.convert("L").convert("F").point(lambda v: v / 255),
    "F, 0 to 255": lambda page: page.convert("L").convert("F"),
    "LAB": _lab,
    "P with transparency": _transparent_palette,
}


@pytest.mark.parametrize("kind", EXOTIC)
def test_unusual_modes_measure_like_the_8_bit_page(
    tmp_path: Path, page: Image.Image, kind: str
) -> None:
    im = EXOTIC[kind](page)
    path = tmp_path / ("p.png" if im.mode == "P" else "p.tif")
    qa = check_image(save(im, path, dpi=None), GOOD, T)
    reference = check_image(save(page.convert("L"), tmp_path / "ref.tif"), GOOD, T)
    assert qa.check("decodes").passed
    assert qa.check("blank").value == pytest.approx(reference.check("blank").value, abs=1)
    assert qa.check("blur").passed
    assert dhash_distance(qa.dhash, reference.dhash) <= 2


def test_resolution_as_text(tmp_path: Path, page: Image.Image) -> None:
    path = save(page, tmp_path / "p.png", dpi=None)
    assert check_image(path, {**GOOD, "ppi_x": "300", "ppi_y": "300 "}, T).check("ppi").passed
    for ppi_x, ppi_y in (("unknown", ""), (0, None), (-300, [300])):
        ppi = check_image(path, {**GOOD, "ppi_x": ppi_x, "ppi_y": ppi_y}, T).check("ppi")
        assert "no resolution recorded" in ppi.message


def test_large_page_measures_like_the_small_one(
    tmp_path: Path, page: Image.Image, hashes: dict[str, int]
) -> None:
    large = page.resize((2400, 3200), Image.Resampling.LANCZOS)  # reduced 3× for measuring
    qa = check_image(save(large, tmp_path / "large.tif"), {}, T)
    small = check_image(save(page, tmp_path / "small.tif"), {}, T)
    assert failed(qa) == {}
    assert qa.check("blank").value == pytest.approx(small.check("blank").value, rel=0.05)
    assert dhash_distance(qa.dhash, hashes["p001.tif"]) <= T.duplicate_distance


def test_transparent_areas_measure_as_white_paper(tmp_path: Path, page: Image.Image) -> None:
    rgba = page.convert("RGBA")
    rgba.putalpha(0)  # see-through everywhere: nothing on the page
    qa = check_image(save(rgba, tmp_path / "clear.png"), GOOD, T)
    assert qa.check("blank").value == 0


# -- decoding -----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    ("name", "options"),
    [("p.tif", {}), ("p.tif", {"compression": "tiff_lzw"}), ("p.jpg", {"quality": 90})],
)
def test_truncated_file_fails_decodes(
    tmp_path: Path, page: Image.Image, name: str, options: dict[str, Any]
) -> None:
    path = save(page, tmp_path / name, **options)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    qa = check_image(path, GOOD, T)
    assert set(failed(qa)) == {"decodes", "blank", "blur"}
    decodes = qa.check("decodes")
    assert decodes.value is False
    assert "damaged" in decodes.message  # a cut LZW TIFF loses its directory: it won't even open
    for name in ("blank", "blur"):
        assert qa.check(name).message == "not checked: the file does not decode"
        assert qa.check(name).value is None
    assert qa.dhash is None


@pytest.mark.parametrize("setting", [True, False])
def test_truncation_is_caught_whatever_the_global_setting(
    tmp_path: Path, page: Image.Image, monkeypatch: pytest.MonkeyPatch, setting: bool
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", setting)
    path = save(page, tmp_path / "p.tif")
    path.write_bytes(path.read_bytes()[:-1000])
    assert not check_image(path, GOOD, T).check("decodes").passed
    assert ImageFile.LOAD_TRUNCATED_IMAGES is setting


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "p.tif"
    path.write_bytes(b"II*\x00 not really a TIFF")
    qa = check_image(path, {}, T)
    assert qa.dhash is None
    assert "cannot be opened as an image" in qa.check("decodes").message
    assert "no resolution recorded" in qa.check("ppi").message
    assert "not recorded" in qa.check("dimensions").message
    assert "not recorded" in qa.check("bit_depth").message
    # What exiftool still read is used.
    assert check_image(path, GOOD, T).check("dimensions").passed


def test_image_over_the_pixel_limit_fails_decodes(
    tmp_path: Path, page: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(page, tmp_path / "p.tif")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500_000)  # the application sets it
    qa = check_image(path, GOOD, T)
    assert "too large to open safely" in qa.check("decodes").message
    assert qa.dhash is None


def test_missing_file_is_the_callers_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        check_image(tmp_path / "nowhere.tif", GOOD, T)


# -- duplicates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hashes(tmp_path_factory: pytest.TempPathFactory, page: Image.Image) -> dict[str, int]:
    d = tmp_path_factory.mktemp("dup")
    files = {
        "p001.tif": page,
        "p001-q70.jpg": page,
        "p001-shifted.tif": ImageChops.offset(page, 1, 0),
        "p002.tif": page_image(seed=2),
    }
    out = {}
    for name, im in files.items():
        qa = check_image(save(im, d / name, **({"quality": 70} if "q70" in name else {})), GOOD, T)
        assert qa.dhash is not None
        out[name] = qa.dhash
    return out


def test_same_checksum_is_identical() -> None:
    dup = check_duplicate(SHA, 0, same_sha="p001.tif", near=[], thresholds=T)
    assert not dup.passed
    assert dup.message == "identical to file p001.tif"
    assert dup.value == {"file": "p001.tif", "distance": 0, "sha256": SHA}


@pytest.mark.parametrize("copy", ["p001-q70.jpg", "p001-shifted.tif"])
def test_resaved_or_shifted_page_is_nearly_identical(hashes: dict[str, int], copy: str) -> None:
    distance = dhash_distance(hashes["p001.tif"], hashes[copy])
    assert distance <= T.duplicate_distance
    near = [(hashes["p002.tif"], "p002.tif"), (hashes["p001.tif"], "p001.tif")]
    dup = check_duplicate(SHA, hashes[copy], same_sha=None, near=near, thresholds=T)
    assert not dup.passed
    assert dup.message == f"nearly identical to file p001.tif (distance {distance})"
    assert dup.value == {"file": "p001.tif", "distance": distance}


def test_different_page_is_not_a_duplicate(hashes: dict[str, int]) -> None:
    assert dhash_distance(hashes["p001.tif"], hashes["p002.tif"]) > 2 * T.duplicate_distance
    near = [(hashes["p001.tif"], "p001.tif")]
    dup = check_duplicate(SHA, hashes["p002.tif"], same_sha=None, near=near, thresholds=T)
    assert dup.passed
    assert dup.value["file"] == "p001.tif"
    assert dup.value["distance"] > T.duplicate_distance
    assert "not a duplicate" in dup.message


def test_duplicate_reports_the_nearest_and_counts_the_rest() -> None:
    near = [(0b11111, "far.tif"), (0b1, "near.tif"), (0b11, "also.tif"), (0b1111, "edge.tif")]
    dup = check_duplicate(SHA, 0, same_sha=None, near=near, thresholds=T)
    assert dup.message == "nearly identical to file near.tif (distance 1; 2 more within 4)"


def test_duplicate_with_nothing_to_compare() -> None:
    alone = check_duplicate(SHA, 123, same_sha=None, near=[], thresholds=T)
    assert alone.passed
    assert alone.value is None
    undecoded = check_duplicate(SHA, None, same_sha=None, near=[(123, "a.tif")], thresholds=T)
    assert undecoded.passed
    assert "does not decode" in undecoded.message
    # An exact copy is found even when the file does not decode.
    assert not check_duplicate(SHA, None, same_sha="a.tif", near=[], thresholds=T).passed


def test_duplicate_distance_is_a_setting() -> None:
    near = [(0b111, "p001.tif")]
    strict = check_duplicate(SHA, 0, same_sha=None, near=near, thresholds=T)
    loose = Thresholds(duplicate_distance=2)
    assert not strict.passed
    assert check_duplicate(SHA, 0, same_sha=None, near=near, thresholds=loose).passed


# -- dHash distance -----------------------------------------------------------------------------

hashes64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


@given(hashes64, hashes64, hashes64)
def test_dhash_distance_is_a_metric(a: int, b: int, c: int) -> None:
    assert dhash_distance(a, a) == 0
    assert dhash_distance(a, b) == dhash_distance(b, a)
    assert (dhash_distance(a, b) == 0) == (a == b)
    assert 0 <= dhash_distance(a, b) <= 64
    assert dhash_distance(a, c) <= dhash_distance(a, b) + dhash_distance(b, c)


@pytest.mark.parametrize("bad", [-1, 1 << 64, True, "ff"])
def test_dhash_distance_rejects_what_is_not_a_64_bit_hash(bad: Any) -> None:
    with pytest.raises(ValueError, match="64-bit"):
        dhash_distance(0, bad)


# -- thresholds ---------------------------------------------------------------------------------


def test_thresholds_round_trip() -> None:
    assert Thresholds.from_mapping(T.to_mapping()) == T
    t = Thresholds.from_mapping({"min_ppi": 400, "require_icc": False})
    assert t.min_ppi == 400.0
    assert isinstance(t.min_ppi, float)
    assert t.to_mapping() == {**T.to_mapping(), "min_ppi": 400.0, "require_icc": False}
    json.dumps(t.to_mapping())


def test_unknown_thresholds_are_named() -> None:
    with pytest.raises(QAError, match="unknown QA threshold\\(s\\): blurr, minppi"):
        Thresholds.from_mapping({"min_ppi": 400, "minppi": 1, "blurr": 2})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_ppi", "300"),
        ("min_ppi", True),
        ("min_ppi", None),
        ("min_width", 1000.0),
        ("require_icc", 1),
        ("duplicate_distance", 4.5),
    ],
)
def test_thresholds_of_the_wrong_type(name: str, value: Any) -> None:
    with pytest.raises(QAError, match=name):
        Thresholds.from_mapping({name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_ppi", -1),
        ("min_width", -5),
        ("blank_stddev", -0.1),
        ("blur_variance", float("nan")),
        ("min_ppi", float("inf")),
        ("min_bit_depth", 0),
        ("duplicate_distance", 65),
    ],
)
def test_thresholds_out_of_range(name: str, value: Any) -> None:
    with pytest.raises(QAError, match=name):
        Thresholds.from_mapping({name: value})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(QAError) as err:
        Thresholds(min_ppi=-1, min_width="wide")  # type: ignore[arg-type]
    assert "min_ppi" in str(err.value)
    assert "min_width" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_thresholds_must_be_a_mapping() -> None:
    with pytest.raises(QAError, match="mapping"):
        Thresholds.from_mapping([("min_ppi", 300)])  # type: ignore[arg-type]


# -- results ------------------------------------------------------------------------------------


def test_results_are_json(tmp_path: Path, page: Image.Image) -> None:
    qa = check_image(save(page, tmp_path / "p.tif", dpi=150), GOOD, T)
    dup = check_duplicate(SHA, qa.dhash, same_sha="p000.tif", near=[], thresholds=T)
    qa = qa.with_check(dup)
    assert [c.name for c in qa.checks] == list(CHECK_NAMES)
    assert not qa.passed
    data = json.loads(json.dumps(qa.to_json()))
    assert data["passed"] is False
    assert data["dhash"] == format(qa.dhash, "016x")
    assert data["checks"][-1] == {
        "name": "duplicate",
        "passed": False,
        "value": {"file": "p000.tif", "distance": 0, "sha256": SHA},
        "threshold": 4,
        "message": "identical to file p000.tif",
    }
    assert Check(**data["checks"][0]) == qa.checks[0]
    with pytest.raises(KeyError):
        qa.check("colour")


def test_small_greyscale_page_is_measured_as_is(tmp_path: Path, page: Image.Image) -> None:
    """Measured after the file is closed: Pillow may have memory-mapped an uncompressed TIFF."""
    small = page.convert("L").resize((600, 800), Image.Resampling.LANCZOS)
    qa = check_image(save(small, tmp_path / "small.tif"), {}, T)
    assert qa.check("blank").value == pytest.approx(ImageStat.Stat(small).stddev[0], abs=0.01)
    assert qa.check("blur").passed
