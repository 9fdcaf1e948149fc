"""Synthetic sample pages and photographs: right size, 300 dpi, reproducible, not blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat

from digitization.samples import LABEL, make_sample_page, make_sample_photo

SMALL = {"width": 300, "height": 400}


def stddev(path: Path) -> float:
    with Image.open(path) as im:
        return ImageStat.Stat(im.convert("L")).stddev[0]


def test_page_is_written_at_the_asked_size_and_300_dpi(tmp_path: Path) -> None:
    path = make_sample_page(tmp_path / "p.jpg", seed=1, page_no=1)
    assert path == tmp_path / "p.jpg"
    with Image.open(path) as im:
        assert im.format == "JPEG"
        assert im.size == (1200, 1600)
        assert im.mode == "RGB"
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = make_sample_page(tmp_path / "a.jpg", seed=42, page_no=3, **SMALL)
    b = make_sample_page(tmp_path / "b.jpg", seed=42, page_no=3, **SMALL)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("other", [{"seed": 43, "page_no": 3}, {"seed": 42, "page_no": 4}])
def test_different_seed_or_page_differs(tmp_path: Path, other: dict[str, int]) -> None:
    a = make_sample_page(tmp_path / "a.jpg", seed=42, page_no=3, **SMALL)
    b = make_sample_page(tmp_path / "b.jpg", **other, **SMALL)
    assert a.read_bytes() != b.read_bytes()


@pytest.mark.parametrize("script", ["latin", "jawi"])
def test_page_is_not_blank(tmp_path: Path, script: str) -> None:
    path = make_sample_page(tmp_path / "p.jpg", seed=7, page_no=2, script=script)
    assert stddev(path) > 15


def test_jawi_text_hugs_the_right_margin(tmp_path: Path) -> None:
    """Jawi lines start at the right: the text block's right edge is darker than its left."""
    latin = make_sample_page(tmp_path / "l.jpg", seed=5, page_no=1, script="latin")
    jawi = make_sample_page(tmp_path / "j.jpg", seed=5, page_no=1, script="jawi")

    def ink(path: Path, box: tuple[int, int, int, int]) -> float:
        with Image.open(path) as im:
            return 255 - ImageStat.Stat(im.convert("L").crop(box)).mean[0]

    # The last line of a page is short; compare a band of full lines near the top.
    left_strip, right_strip = (150, 250, 260, 700), (940, 250, 1050, 700)
    assert ink(jawi, right_strip) > ink(jawi, left_strip) * 0.8
    assert ink(latin, left_strip) > ink(latin, right_strip) * 0.8


def test_tiff(tmp_path: Path) -> None:
    path = make_sample_page(tmp_path / "p.tif", seed=1, page_no=1, fmt="TIFF", **SMALL)
    with Image.open(path) as im:
        assert im.format == "TIFF"
        assert im.size == (300, 400)
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="script"):
        make_sample_page(tmp_path / "p.jpg", seed=1, page_no=1, script="kawi")
    with pytest.raises(ValueError, match="fmt"):
        make_sample_page(tmp_path / "p.png", seed=1, page_no=1, fmt="PNG")


def test_label_is_visible_in_the_bottom_margin(tmp_path: Path) -> None:
    """The label is red on a pale box: look for strongly red pixels in the bottom margin."""
    assert LABEL.startswith("SAMPLE")
    path = make_sample_page(tmp_path / "p.jpg", seed=3, page_no=1)
    with Image.open(path) as im:
        margin = im.crop((0, 1400, 1200, 1600))
        red = sum(1 for r, g, b in margin.getdata() if r > 130 and g < 90 and b < 90)
    assert red > 500


def test_photo(tmp_path: Path) -> None:
    a = make_sample_photo(tmp_path / "a.jpg", seed=9)
    b = make_sample_photo(tmp_path / "b.jpg", seed=9)
    c = make_sample_photo(tmp_path / "c.jpg", seed=10, width=800, height=600)
    assert a.read_bytes() == b.read_bytes()
    with Image.open(a) as im:
        assert im.size == (1600, 1200)
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
    with Image.open(c) as im:
        assert im.size == (800, 600)
    assert stddev(a) > 15
