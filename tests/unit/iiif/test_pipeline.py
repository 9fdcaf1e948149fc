"""Image responses from a real pyramid: stored files, computed images, and the disk cache.

The test image is 1300×900 in four quadrants of distinct colours split at (650, 450): its
pyramid has 512-px tiles at scale factors 1, 2 and 4, so most regions span several tiles and
the quadrant borders do not fall on tile borders.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from digitization.derivatives import build_pyramid, tile_path
from iiif.image import cache as cache_module
from iiif.image.cache import DiskCache
from iiif.image.pipeline import render, stored_file
from iiif.image.request import IIIFError, Limits, parse_image_request

WIDTH, HEIGHT = 1300, 900
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 40)
#: The colour of each quadrant: top left, top right, bottom left, bottom right.
TL, TR, BL, BR = RED, GREEN, BLUE, YELLOW
LIMITS = Limits(max_width=10_000, max_height=10_000, max_area=64_000_000)


def quadrants(width: int, height: int) -> Image.Image:
    im = Image.new("RGB", (width, height), TL)
    im.paste(TR, (width // 2, 0, width, height // 2))
    im.paste(BL, (0, height // 2, width // 2, height))
    im.paste(BR, (width // 2, height // 2, width, height))
    return im


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple:
    folder = tmp_path_factory.mktemp("pyramid")
    master = folder / "master.png"
    quadrants(WIDTH, HEIGHT).save(master)
    out = folder / "iiif" / "3" / "page_1"
    return build_pyramid(master, out), out


@pytest.fixture
def small(tmp_path) -> tuple:
    """A 300×200 image: one tile, so full/max is stored too."""
    master = tmp_path / "small.png"
    quadrants(300, 200).save(master)
    out = tmp_path / "small"
    return build_pyramid(master, out), out


def req(path: str, width: int = WIDTH, height: int = HEIGHT, limits: Limits = LIMITS):
    region, size, rotation, qf = path.split("/")
    return parse_image_request(
        region, size, rotation, qf, width=width, height=height, limits=limits
    )


def close(colour, expected, tolerance: int = 12) -> bool:
    if isinstance(colour, int):
        colour = (colour,)
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def grey(rgb) -> int:
    """The ITU-R 601-2 luma that Pillow's convert("L") gives."""
    r, g, b = rgb
    return round((r * 299 + g * 587 + b * 114) / 1000)


def decoded(payload: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(payload))
    im.load()
    return im


def corners(im: Image.Image, inset: float = 0.2) -> tuple:
    """The colours near the four corners: top left, top right, bottom left, bottom right."""
    w, h = im.size
    left, right = int(w * inset), int(w * (1 - inset))
    top, bottom = int(h * inset), int(h * (1 - inset))
    rgb = im.convert("RGB")
    points = ((left, top), (right, top), (left, bottom), (right, bottom))
    return tuple(rgb.getpixel(p) for p in points)


def assert_corners(im: Image.Image, expected: tuple) -> None:
    got = corners(im)
    assert all(close(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)


# -- the pyramid under test ------------------------------------------------------------------


def test_the_pyramid(built):
    pyramid, out = built
    assert (pyramid.width, pyramid.height, pyramid.tile_size) == (WIDTH, HEIGHT, 512)
    assert pyramid.scale_factors == (1, 2, 4)
    assert (650, 450) in pyramid.sizes
    assert tile_path(out, "0,0,512,512", "512,512").is_file()


# -- stored files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "region", "size"),
    [
        ("0,0,512,512/512,512/0/default.jpg", "0,0,512,512", "512,512"),
        ("0,0,512,512/512,/0/default.jpg", "0,0,512,512", "512,512"),
        ("0,0,512,512/,512/0/default.jpg", "0,0,512,512", "512,512"),
        ("0,0,512,512/max/0/default.jpg", "0,0,512,512", "512,512"),
        ("0,0,512,512/max/0/color.jpg", "0,0,512,512", "512,512"),  # color is the default
        ("512,512,512,388/512,388/0/default.jpg", "512,512,512,388", "512,388"),
        ("1024,512,276,388/max/0/default.jpg", "1024,512,276,388", "276,388"),
        ("1024,512,1000,1000/max/0/default.jpg", "1024,512,276,388", "276,388"),  # cropped
        ("0,0,1024,900/512,/0/default.jpg", "0,0,1024,900", "512,450"),  # scale factor 2
        ("1024,0,276,900/138,450/0/default.jpg", "1024,0,276,900", "138,450"),
        ("full/650,450/0/default.jpg", "full", "650,450"),
        ("full/650,/0/default.jpg", "full", "650,450"),
        ("full/325,225/0/default.jpg", "full", "325,225"),  # scale factor 4: one tile
        ("full/163,113/0/default.jpg", "full", "163,113"),
        ("full/pct:50/0/default.jpg", "full", "650,450"),
        ("0,0,1300,900/650,450/0/default.jpg", "full", "650,450"),
    ],
)
def test_stored_file_for_exact_requests(built, path, region, size):
    pyramid, out = built
    assert stored_file(req(path), pyramid, out) == tile_path(out, region, size)


@pytest.mark.parametrize(
    "path",
    [
        "0,0,512,512/512,512/90/default.jpg",  # rotated
        "0,0,512,512/512,512/!0/default.jpg",  # mirrored
        "0,0,512,512/512,512/0/gray.jpg",
        "0,0,512,512/512,512/0/bitonal.jpg",
        "0,0,512,512/512,512/0/default.png",
        "0,0,512,512/512,512/0/default.webp",
        "0,0,512,512/512,512/0/default.tif",
        "0,0,512,512/256,/0/default.jpg",  # another size
        "0,0,512,512/512,511/0/default.jpg",
        "0,0,256,256/max/0/default.jpg",  # not a tile
        "1,0,512,512/max/0/default.jpg",
        "0,0,256,256/^512,512/0/default.jpg",  # upscaled
        "full/max/0/default.jpg",  # no full-size file of a many-tile image
        "full/651,450/0/default.jpg",
        "full/600,/0/default.jpg",
        "full/326,225/0/default.jpg",
    ],
)
def test_no_stored_file_for_other_requests(built, path):
    pyramid, out = built
    assert stored_file(req(path), pyramid, out) is None


def test_stored_full_max_of_a_one_tile_image(small):
    pyramid, out = small
    found = stored_file(req("full/max/0/default.jpg", 300, 200), pyramid, out)
    # two files of the same image: full/max (what OpenSeadragon asks for) and full/300,200
    assert found in (tile_path(out, "full", "max"), tile_path(out, "full", "300,200"))
    found = stored_file(req("full/300,200/0/default.jpg", 300, 200), pyramid, out)
    assert found is not None and found.is_file()
    assert stored_file(req("full/150,/0/default.jpg", 300, 200), pyramid, out) is not None


def test_stored_file_missing_on_disk_is_none(small):
    pyramid, out = small
    tile_path(out, "full", "150,100").unlink()
    assert stored_file(req("full/150,/0/default.jpg", 300, 200), pyramid, out) is None


# -- computed images -------------------------------------------------------------------------


def test_a_region_over_four_tiles_at_full_resolution(built):
    pyramid, out = built
    # x 400–900 crosses the tile border at 512 and the quadrant border at 650; y 300–700
    # crosses the quadrant border at 450 and the tile border at 512.
    im = decoded(render(req("400,300,500,400/max/0/default.jpg"), pyramid, out))
    assert im.format == "JPEG" and im.size == (500, 400) and im.mode == "RGB"
    assert close(im.getpixel((50, 50)), TL)  # (450, 350)
    assert close(im.getpixel((400, 50)), TR)  # (800, 350)
    assert close(im.getpixel((50, 300)), BL)  # (450, 600)
    assert close(im.getpixel((400, 300)), BR)  # (800, 600)
    # right beside the tile borders (x 512, y 512): no seam, no white gap
    assert close(im.getpixel((111, 100)), TL) and close(im.getpixel((113, 100)), TL)
    assert close(im.getpixel((100, 211)), BL) and close(im.getpixel((100, 213)), BL)
    # and the quadrant borders are where they should be (x 650 → 250, y 450 → 150)
    assert close(im.getpixel((245, 100)), TL) and close(im.getpixel((255, 100)), TR)
    assert close(im.getpixel((100, 145)), TL) and close(im.getpixel((100, 155)), BL)


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("full/max/0/default.jpg", (1300, 900)),  # all six full-resolution tiles
        ("full/1000,/0/default.jpg", (1000, 692)),
        ("full/600,/0/default.jpg", (600, 415)),  # from scale factor 2
        ("full/pct:10/0/default.jpg", (130, 90)),  # from scale factor 4
        ("full/100,100/0/default.jpg", (100, 100)),  # distorted
        ("401,301,601,401/250,/0/default.jpg", (250, 167)),  # not on level pixels
        ("300,200,700,500/!350,350/0/default.jpg", (350, 250)),
    ],
)
def test_scaled_images_keep_the_quadrants(built, path, size):
    pyramid, out = built
    r = req(path)
    im = decoded(render(r, pyramid, out))
    assert im.size == size
    # the quadrant colours at the points of the region they come from
    for fx, fy in ((0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9), (0.5, 0.3)):
        src_x, src_y = r.x + fx * r.w, r.y + fy * r.h
        if abs(src_x - WIDTH / 2) < 15 or abs(src_y - HEIGHT / 2) < 15:
            continue
        expected = (TL, TR, BL, BR)[(src_y > HEIGHT / 2) * 2 + (src_x > WIDTH / 2)]
        pixel = im.getpixel((int(fx * (size[0] - 1)), int(fy * (size[1] - 1))))
        assert close(pixel, expected), (fx, fy, pixel, expected)


def test_upscaling(built):
    pyramid, out = built
    im = decoded(render(req("0,0,100,100/^200,/0/default.jpg"), pyramid, out))
    assert im.size == (200, 200) and close(im.getpixel((100, 100)), TL)
    im = decoded(render(req("600,400,100,100/^300,300/0/default.png"), pyramid, out))
    assert im.size == (300, 300)
    assert_corners(im, (TL, TR, BL, BR))
    im = decoded(render(req("full/^1400,/0/default.jpg"), pyramid, out))
    assert im.size == (1400, 969)


@pytest.mark.parametrize(
    ("rotation", "size", "expected"),
    [
        ("0", (130, 90), (TL, TR, BL, BR)),
        ("90", (90, 130), (BL, TL, BR, TR)),  # clockwise: the top left goes top right
        ("180", (130, 90), (BR, BL, TR, TL)),
        ("270", (90, 130), (TR, BR, TL, BL)),
        ("!0", (130, 90), (TR, TL, BR, BL)),  # mirrored on the vertical axis
        ("!90", (90, 130), (BR, TR, BL, TL)),  # mirrored first, then rotated
        ("!180", (130, 90), (BL, BR, TL, TR)),
        ("!270", (90, 130), (TL, BL, TR, BR)),
        ("360", (130, 90), (TL, TR, BL, BR)),
    ],
)
def test_rotation_and_mirroring(built, rotation, size, expected):
    pyramid, out = built
    im = decoded(render(req(f"full/130,/{rotation}/default.png"), pyramid, out))
    assert im.size == size
    assert_corners(im, expected)


def test_arbitrary_rotation_png_is_transparent_outside_the_image(built):
    pyramid, out = built
    im = decoded(render(req("full/130,/22.5/default.png"), pyramid, out))
    assert im.mode == "RGBA"
    # the bounding box of the rotated 130×90: 130·cos + 90·sin by 130·sin + 90·cos
    assert abs(im.size[0] - 154.5) <= 2 and abs(im.size[1] - 132.9) <= 2
    w, h = im.size
    for corner in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        assert im.getpixel(corner)[3] == 0
    centre = im.getpixel((w // 2, h // 2 + 20))
    assert centre[3] == 255
    # nothing is cut off and hardly any space is added: the opaque part reaches to within
    # a pixel of each side of the box
    left, top, right, bottom = im.getchannel("A").getbbox()
    assert left <= 1 and top <= 1 and right >= w - 1 and bottom >= h - 1


def test_arbitrary_rotation_jpg_is_white_outside_the_image(built):
    pyramid, out = built
    im = decoded(render(req("full/130,/!22.5/default.jpg"), pyramid, out))
    assert im.mode == "RGB"
    assert close(im.getpixel((0, 0)), (255, 255, 255))
    assert close(im.getpixel((im.size[0] - 1, im.size[1] - 1)), (255, 255, 255))


@pytest.mark.parametrize(
    ("qf", "pillow_format"),
    [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("tif", "TIFF")],
)
def test_each_format(built, qf, pillow_format):
    pyramid, out = built
    im = decoded(render(req(f"400,300,500,400/250,/0/default.{qf}"), pyramid, out))
    assert im.format == pillow_format and im.size == (250, 200)
    assert_corners(im, (TL, TR, BL, BR))


def test_gray(built):
    pyramid, out = built
    for fmt in ("jpg", "png", "webp", "tif"):
        im = decoded(render(req(f"full/130,/0/gray.{fmt}"), pyramid, out))
        if fmt == "webp":  # WebP has no greyscale mode: Pillow decodes it as RGB
            assert all(abs(r - g) <= 3 and abs(g - b) <= 3 for r, g, b in im.getdata())
            im = im.convert("L")
        assert im.mode == "L", fmt
        assert_corners(im, tuple((grey(c),) * 3 for c in (TL, TR, BL, BR)))
    rotated = decoded(render(req("full/130,/22.5/gray.png"), pyramid, out))
    assert rotated.mode == "LA"
    assert rotated.getpixel((0, 0))[1] == 0


def test_bitonal(built):
    pyramid, out = built
    for path in ("full/130,/0/bitonal.png", "full/130,/0/bitonal.tif", "full/130,/30/bitonal.png"):
        im = decoded(render(req(path), pyramid, out))
        assert im.mode in ("1", "L"), path
        assert set(im.convert("L").getdata()) <= {0, 255}, path
    im = decoded(render(req("full/130,/0/bitonal.png"), pyramid, out))
    # light yellow is white; red, green and blue are darker than the 128 threshold
    values = [im.convert("L").getpixel(p) for p in ((26, 18), (104, 18), (26, 72), (104, 72))]
    assert values == [0 if grey(c) < 128 else 255 for c in (TL, TR, BL, BR)]
    # JPEG cannot keep exactly two values, but nearly every pixel is black or white
    jpeg = decoded(render(req("full/130,/0/bitonal.jpg"), pyramid, out)).convert("L")
    near = sum(1 for v in jpeg.getdata() if v < 16 or v > 239)
    assert near >= 0.95 * 130 * 90


@pytest.mark.parametrize("quality", ["default", "color", "gray", "bitonal"])
@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "tif"])
@pytest.mark.parametrize("rotation", ["0", "!90", "22.5"])
def test_every_quality_format_and_rotation_decodes(built, quality, fmt, rotation):
    pyramid, out = built
    r = req(f"500,400,300,200/60,/{rotation}/{quality}.{fmt}")
    im = decoded(render(r, pyramid, out))
    expected = {"0": (60, 40), "!90": (40, 60)}.get(rotation)
    if expected:
        assert im.size == expected
    else:
        assert im.size[0] > 60 and im.size[1] > 40


def test_a_missing_tile_is_a_503(small):
    pyramid, out = small
    tile_path(out, "full", "300,200").unlink()
    with pytest.raises(IIIFError) as error:
        render(req("0,0,100,100/max/90/default.jpg", 300, 200), pyramid, out)
    assert error.value.status == 503


# -- the disk cache --------------------------------------------------------------------------


def test_cache_put_and_get(tmp_path):
    cache = DiskCache(tmp_path / "cache", 10_000)
    assert cache.get("img_1", "full/max/90/default.jpg") is None
    path = cache.put("img_1", "full/max/90/default.jpg", b"payload")
    assert path == tmp_path / "cache" / "img_1" / "full" / "max" / "90" / "default.jpg"
    assert path.read_bytes() == b"payload"
    assert cache.get("img_1", "full/max/90/default.jpg") == path
    assert cache.get("img_2", "full/max/90/default.jpg") is None
    cache.put("img_1", "full/max/90/default.jpg", b"again")  # replaced in place
    assert path.read_bytes() == b"again"
    leftovers = [p for p in path.parent.iterdir() if p.name != "default.jpg"]
    assert leftovers == []  # no temporary files


def test_cache_get_touches_the_entry(tmp_path):
    cache = DiskCache(tmp_path, 10_000)
    path = cache.put("img_1", "full/max/90/default.jpg", b"x")
    os.utime(path, (1_000_000, 1_000_000))
    assert cache.get("img_1", "full/max/90/default.jpg") == path
    assert path.stat().st_mtime > time.time() - 60


def _fill(cache: DiskCache, n: int, size: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = cache.put("img_1", f"full/{i + 1},/0/default.png", bytes(size))
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # put in order, oldest first
        paths.append(path)
    return paths


def test_cache_eviction_removes_the_least_recently_used(tmp_path):
    cache = DiskCache(tmp_path, 1000)
    paths = _fill(cache, 10, 200)  # 2000 bytes
    assert cache.get("img_1", "full/1,/0/default.png") == paths[0]  # the oldest is used again
    removed = cache.evict()
    remaining = [p for p in paths if p.exists()]
    total = sum(p.stat().st_size for p in remaining)
    assert total <= 1000
    assert removed == len(paths) - len(remaining)
    # the most recently used survive: the one just read, and the newest puts
    assert paths[0] in remaining and paths[9] in remaining and paths[8] in remaining
    assert not paths[1].exists() and not paths[2].exists()
    assert remaining == [paths[0], *paths[10 - (len(remaining) - 1) :]]


def test_cache_eviction_under_the_bound_removes_nothing(tmp_path):
    cache = DiskCache(tmp_path, 10_000)
    paths = _fill(cache, 5, 200)
    assert cache.evict() == 0
    assert all(p.exists() for p in paths)


def test_cache_evicts_by_itself_while_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "EVICT_EVERY", 1)
    cache = DiskCache(tmp_path, 1000)
    for i in range(20):
        cache.put("img_1", f"full/{i + 1},/0/default.png", bytes(200))
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in files) <= 1000
    assert (tmp_path / "img_1" / "full" / "20," / "0" / "default.png").exists()
