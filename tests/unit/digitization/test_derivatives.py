"""Tile pyramids: canonical IIIF paths, level sizes, colour and orientation, failures."""

from __future__ import annotations

import io
import json
import math
import os
import stat
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from digitization.derivatives import (
    PYRAMID_JSON,
    DerivativeError,
    Pyramid,
    build_pyramid,
    plan_pyramid,
    read_pyramid,
    tile_path,
)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# -- helpers --------------------------------------------------------------------------------


def quadrants(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Return an image: red top left, green top right, blue bottom left, white bottom right."""
    im = Image.new(mode, (width, height), WHITE)
    half_w, half_h = width // 2, height // 2
    im.paste(RED, (0, 0, half_w, half_h))
    im.paste(GREEN, (half_w, 0, width, half_h))
    im.paste(BLUE, (0, half_h, half_w, height))
    return im


def files_below(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def pixel(path: Path, xy: tuple[int, int]) -> tuple[int, ...] | int:
    with Image.open(path) as im:
        return im.getpixel(xy)


def near(actual: tuple[int, ...] | int, expected: tuple[int, ...] | int, tol: int = 8) -> bool:
    actual = actual if isinstance(actual, tuple) else (actual,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    return len(actual) == len(expected) and all(
        abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)
    )


def only_file(out: Path) -> Path:
    """Return the whole-image file of a pyramid that has a single level of tiles."""
    pyramid = read_pyramid(out)
    assert pyramid is not None and pyramid.scale_factors == (1,)
    return tile_path(out, "full", f"{pyramid.width},{pyramid.height}")


def png_header_only(width: int, height: int) -> bytes:
    """Return a PNG claiming ``width × height`` with one row of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * (1 + 3 * width))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)


def tiff_rgb16(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return an uncompressed little-endian TIFF with 16 bits per sample, filled with ``rgb``.

    Pillow cannot write 48-bit RGB, so the file is put together by hand.
    """
    data = struct.pack("<3H", *rgb) * (width * height)
    bits_at = 8 + len(data)
    ifd_at = bits_at + 6 + (bits_at % 2)
    entries = [  # tag, type (3 short, 4 long), count, value or offset
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, bits_at),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, 8),
        (277, 3, 1, 3),
        (278, 3, 1, height),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    out = b"II" + struct.pack("<HI", 42, ifd_at) + data + struct.pack("<3H", 16, 16, 16)
    out += b"\0" * (ifd_at - len(out)) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if kind == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    return out + struct.pack("<I", 0)


# ICC profiles built by hand: Pillow can only create sRGB, LAB and XYZ profiles.
D50 = (0.9642, 1.0, 0.8249)
SRGB_TO_XYZ_D50 = (
    (0.4360747, 0.3850649, 0.1430804),
    (0.2225045, 0.7168786, 0.0606169),
    (0.0139322, 0.0971045, 0.7141733),
)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 78


def _icc(device_class: bytes, space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """Return an ICC v2 profile with PCS XYZ and the given tags."""
    start = 128 + 4 + 12 * len(tags)
    table, body = [], b""
    for signature, data in tags:
        body += b"\0" * (-(start + len(body)) % 4)
        table.append(struct.pack(">4sII", signature, start + len(body), len(data)))
        body += data
    header = struct.pack(
        ">I4sI4s4s4s", start + len(body), b"\0" * 4, 0x02100000, device_class, space, b"XYZ "
    )
    header += b"\0" * 12 + b"acsp" + b"\0" * 28 + b"".join(_s15(v) for v in D50)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + b"".join(table) + body


def adobe_rgb_like_profile() -> bytes:
    """Return a matrix/TRC profile with the Adobe RGB (1998) primaries and gamma 2.2."""
    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"
    return _icc(
        b"mntr",
        b"RGB ",
        [
            (b"desc", _desc("Adobe RGB-like test profile")),
            (b"wtpt", _xyz(*D50)),
            (b"rXYZ", _xyz(0.60974, 0.31111, 0.01947)),
            (b"gXYZ", _xyz(0.20528, 0.62567, 0.06087)),
            (b"bXYZ", _xyz(0.14919, 0.06322, 0.74457)),
            (b"rTRC", gamma),
            (b"gTRC", gamma),
            (b"bTRC", gamma),
        ],
    )


def cmyk_on_paper_profile(paper: tuple[int, int, int] = (250, 238, 210)) -> bytes:
    """Return a CMYK profile (lut16, 2-point grid) printing on a tinted paper.

    Inks subtract from the paper colour, so full cyan comes out ``(0, 238, 210)`` where
    Pillow's plain conversion gives ``(0, 255, 255)``.
    """

    def linear(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    tint = [linear(v) for v in paper]
    grid = b""
    for c in (0, 1):  # the first channel varies slowest
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    rgb = [(1 - ink) * (1 - k) * t for ink, t in zip((c, m, y), tint, strict=True)]
                    xyz = [
                        sum(a * b for a, b in zip(row, rgb, strict=True)) for row in SRGB_TO_XYZ_D50
                    ]
                    grid += struct.pack(">3H", *(min(65535, round(v * 32768)) for v in xyz))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = b"mft2\0\0\0\0" + bytes([4, 3, 2, 0]) + identity + struct.pack(">HH", 2, 2)
    lut += struct.pack(">2H", 0, 65535) * 4 + grid + struct.pack(">2H", 0, 65535) * 3
    return _icc(
        b"prtr",
        b"CMYK",
        [
            (b"desc", _desc("CMYK on tinted paper test profile")),
            (b"wtpt", _xyz(*D50)),
            (b"A2B0", lut),
        ],
    )


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def osd_requests(width: int, height: int, tile: int, scale_factors: list[int]) -> set[str]:
    """Return every ``region/size`` OpenSeadragon's IIIFTileSource (v3) asks for.

    A port of ``getTileUrl`` and ``getNumTiles`` in OpenSeadragon 5 (src/iiiftilesource.js),
    for ``tiles: [{width: tile, scaleFactors}]``.
    """
    max_level = round(math.log2(max(scale_factors)))
    urls = set()
    for level in range(max_level + 1):
        scale = 0.5 ** (max_level - level)
        level_w, level_h = math.ceil(width * scale), math.ceil(height * scale)
        region_tile = round(tile / scale)
        for y in range(math.ceil(level_h / tile)):
            for x in range(math.ceil(level_w / tile)):
                if level_w < tile and level_h < tile:
                    region = "full"
                    size = (
                        "max" if (level_w, level_h) == (width, height) else f"{level_w},{level_h}"
                    )
                else:
                    rx, ry = x * region_tile, y * region_tile
                    rw, rh = min(region_tile, width - rx), min(region_tile, height - ry)
                    whole = (rx, ry, rw, rh) == (0, 0, width, height)
                    region = "full" if whole else f"{rx},{ry},{rw},{rh}"
                    sw, sh = min(tile, level_w - x * tile), min(tile, level_h - y * tile)
                    size = "max" if (sw, sh) == (width, height) else f"{sw},{sh}"
                urls.add(f"{region}/{size}")
    return urls


# -- layout ---------------------------------------------------------------------------------

#: 1300×900 with 512-px tiles, written out by hand from the spec's implementation note.
EXPECTED_1300x900 = {
    # scale factor 1: 3 × 2 tiles, the last column 276 wide, the last row 388 high
    "0,0,512,512/512,512",
    "512,0,512,512/512,512",
    "1024,0,276,512/276,512",
    "0,512,512,388/512,388",
    "512,512,512,388/512,388",
    "1024,512,276,388/276,388",
    # scale factor 2 (level 650×450): 2 × 1 tiles
    "0,0,1024,900/512,450",
    "1024,0,276,900/138,450",
    # scale factor 4 (level 325×225): one tile, the whole image
    "full/325,225",
    # whole-image sizes: 650×450, 325×225 (above), and 163×113 (longer side <= 256)
    "full/650,450",
    "full/163,113",
}


def test_tiles_lie_at_their_canonical_iiif_paths(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(1300, 900).save(master)
    out = tmp_path / "iiif" / "3" / "img1"
    pyramid = build_pyramid(master, out)
    assert pyramid == Pyramid(
        width=1300,
        height=900,
        tile_size=512,
        scale_factors=(1, 2, 4),
        sizes=((163, 113), (325, 225), (650, 450)),
        quality=85,
    )
    assert files_below(out) == {f"{p}/0/default.jpg" for p in EXPECTED_1300x900} | {PYRAMID_JSON}
    assert {f"{r}/{s}" for r, s in pyramid.stored_requests()} == EXPECTED_1300x900


@pytest.mark.parametrize(
    ("width", "height"),
    [(1300, 900), (900, 1300), (512, 512), (513, 100), (100, 40), (1025, 1024), (6000, 8000)],
)
def test_every_tile_openseadragon_asks_for_is_a_file(width: int, height: int) -> None:
    pyramid = plan_pyramid(width, height)
    requests = osd_requests(width, height, pyramid.tile_size, list(pyramid.scale_factors))
    stored = {f"{r}/{s}" for r, s in pyramid.stored_requests()}
    assert requests <= stored
    assert {f"{t.region}/{t.size}" for t in pyramid.tiles()} <= requests | {
        f"full/{width},{height}"
    }


def test_tiles_decode_at_their_size_with_the_right_content(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(1300, 900).save(master)
    out = tmp_path / "out"
    pyramid = build_pyramid(master, out, quality=90)
    for tile in pyramid.tiles():
        with Image.open(tile_path(out, tile.region, tile.size)) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            assert "icc_profile" not in im.info and "exif" not in im.info
            assert im.size == tuple(int(v) for v in tile.size.split(","))
    assert near(pixel(tile_path(out, "0,0,512,512", "512,512"), (256, 256)), RED)
    assert near(pixel(tile_path(out, "1024,0,276,512", "276,512"), (200, 200)), GREEN)
    assert near(pixel(tile_path(out, "0,512,512,388", "512,388"), (100, 300)), BLUE)
    assert near(pixel(tile_path(out, "1024,512,276,388", "276,388"), (275, 387)), WHITE)
    half = tile_path(out, "0,0,1024,900", "512,450")
    assert near(pixel(half, (10, 10)), RED)
    assert near(pixel(half, (10, 440)), BLUE)
    for w, h in pyramid.sizes:
        whole = tile_path(out, "full", f"{w},{h}")
        assert near(pixel(whole, (w // 4, h // 4)), RED)
        assert near(pixel(whole, (3 * w // 4, h // 4)), GREEN)
        assert near(pixel(whole, (w // 4, 3 * h // 4)), BLUE)
        assert near(pixel(whole, (3 * w // 4, 3 * h // 4)), WHITE)


def test_levels_halve_down_to_one_tile_and_a_thumbnail() -> None:
    page = plan_pyramid(6000, 8000)
    assert page.scale_factors == (1, 2, 4, 8, 16)
    assert page.sizes == ((188, 250), (375, 500), (750, 1000), (1500, 2000), (3000, 4000))
    assert sum(1 for _ in page.tiles()) == 257
    small = plan_pyramid(400, 300)
    assert small.scale_factors == (1,)
    assert small.sizes == ((200, 150), (400, 300))
    assert ("full", "max") in small.stored_requests()
    assert plan_pyramid(100, 40).sizes == ((100, 40),)
    assert plan_pyramid(3000, 100, tile_size=256).sizes == (
        (188, 7),
        (375, 13),
        (750, 25),
        (1500, 50),
    )


def test_an_image_within_one_tile_is_also_full_max(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(300, 200).save(master)
    out = tmp_path / "out"
    build_pyramid(master, out)
    assert files_below(out) == {
        "full/300,200/0/default.jpg",
        "full/150,100/0/default.jpg",
        "full/max/0/default.jpg",
        PYRAMID_JSON,
    }
    assert tile_path(out, "full", "max").read_bytes() == only_file(out).read_bytes()


def test_files_are_readable_by_a_front_server(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(40, 30).save(master)
    old = os.umask(0o022)
    try:
        build_pyramid(master, tmp_path / "out")
    finally:
        os.umask(old)
    for path in (only_file(tmp_path / "out"), tmp_path / "out" / PYRAMID_JSON):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_tile_path_is_the_canonical_request_path() -> None:
    out = Path("var/derivatives/iiif/3/abc")
    assert tile_path(out, "0,0,512,512", "512,512") == out / "0,0,512,512/512,512/0/default.jpg"
    assert tile_path(out, "full", "max") == out / "full/max/0/default.jpg"


# -- colour and orientation -----------------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    master = tmp_path / "m.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: turn 90° clockwise to display
    quadrants(60, 40).save(master, quality=95, exif=exif)
    out = tmp_path / "out"
    pyramid = build_pyramid(master, out)
    assert (pyramid.width, pyramid.height) == (40, 60)
    whole = only_file(out)
    with Image.open(whole) as im:
        assert im.size == (40, 60)
        assert im.getexif().get(0x0112) is None
    assert near(pixel(whole, (5, 5)), BLUE)  # stored bottom left
    assert near(pixel(whole, (34, 5)), RED)  # stored top left
    assert near(pixel(whole, (34, 54)), GREEN)
    assert near(pixel(whole, (5, 54)), WHITE)


@pytest.mark.parametrize(
    ("mode", "fmt"), [("I;16", "PNG"), ("I;16", "TIFF"), ("I;16B", "TIFF"), ("I", "TIFF")]
)
def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path: Path, mode: str, fmt: str) -> None:
    order = "big" if mode == "I;16B" else "little"
    row = b"".join(v.to_bytes(2, order) for v in [0x4000] * 16 + [0xC000] * 16)
    master = tmp_path / f"m.{fmt.lower()}"
    im = Image.frombytes("I;16B" if mode == "I;16B" else "I;16", (32, 8), row * 8)
    (im.convert("I") if mode == "I" else im).save(master, fmt)
    out = tmp_path / "out"
    build_pyramid(master, out)
    with Image.open(only_file(out)) as tile:
        assert tile.mode == "L"
        assert near(tile.getpixel((4, 4)), 64, 3)  # mid-grey, not white
        assert near(tile.getpixel((28, 4)), 192, 3)


def test_16_bit_rgb_tiff_keeps_the_high_byte(tmp_path: Path) -> None:
    # Pillow 12 opens 48-bit RGB TIFFs as 8-bit RGB (unpacker RGB;16L: high byte).
    master = tmp_path / "m.tif"
    master.write_bytes(tiff_rgb16(24, 16, (0x8000, 0x4000, 0xFFFF)))
    out = tmp_path / "out"
    build_pyramid(master, out, quality=95)
    with Image.open(only_file(out)) as tile:
        assert tile.mode == "RGB"
        assert near(tile.getpixel((12, 8)), (128, 64, 255), 4)


def test_cmyk_without_a_profile_is_converted_plainly(tmp_path: Path) -> None:
    master = tmp_path / "m.jpg"
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(master, quality=95)
    out = tmp_path / "out"
    build_pyramid(master, out)
    with Image.open(only_file(out)) as tile:
        assert tile.mode == "RGB"
        assert near(tile.getpixel((16, 16)), RED)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_with_a_profile_goes_through_the_profile(tmp_path: Path, fmt: str) -> None:
    master = tmp_path / f"m.{fmt.lower()}"
    Image.new("CMYK", (32, 32), (255, 0, 0, 0)).save(
        master,
        fmt,
        icc_profile=cmyk_on_paper_profile(),
        **({"quality": 95} if fmt == "JPEG" else {}),
    )
    out = tmp_path / "out"
    build_pyramid(master, out)
    with Image.open(only_file(out)) as tile:
        assert tile.mode == "RGB"
        # cyan ink on the profile's paper, not Pillow's plain (0, 255, 255)
        assert near(tile.getpixel((16, 16)), (0, 238, 210), 6)


def test_rgb_with_a_wide_gamut_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    colour = (100, 150, 100)
    adobe, srgb = tmp_path / "adobe.png", tmp_path / "srgb.png"
    Image.new("RGB", (32, 32), colour).save(adobe, icc_profile=adobe_rgb_like_profile())
    Image.new("RGB", (32, 32), colour).save(srgb, icc_profile=srgb_profile())
    build_pyramid(adobe, tmp_path / "a", quality=95)
    build_pyramid(srgb, tmp_path / "s", quality=95)
    converted = pixel(only_file(tmp_path / "a"), (16, 16))
    assert near(converted, (66, 151, 97), 4)  # more saturated in sRGB numbers
    assert near(pixel(only_file(tmp_path / "s"), (16, 16)), colour, 3)


def test_a_broken_profile_falls_back_to_the_pixels(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    Image.new("RGB", (32, 32), (100, 150, 100)).save(master, icc_profile=b"not a profile")
    build_pyramid(master, tmp_path / "out", quality=95)
    assert near(pixel(only_file(tmp_path / "out"), (16, 16)), (100, 150, 100), 3)


def transparent_palette() -> Image.Image:
    im = Image.new("RGB", (16, 16), BLUE).convert("P")
    im.info["transparency"] = im.getpixel((0, 0))
    return im


def signed_ramp() -> Image.Image:
    im = Image.new("I", (16, 16), -1000)
    im.paste(1000, (8, 0, 16, 16))
    return im


@pytest.mark.parametrize(
    ("image", "fmt", "mode", "expected"),
    [
        (Image.new("1", (16, 16), 1), "PNG", "L", 255),
        (Image.new("L", (16, 16), 90), "PNG", "L", 90),
        (Image.new("LA", (16, 16), (0, 0)), "PNG", "L", 255),  # transparent: white
        (Image.new("RGBA", (16, 16), (255, 0, 0, 255)), "PNG", "RGB", RED),
        (Image.new("RGBA", (16, 16), (255, 0, 0, 0)), "PNG", "RGB", WHITE),
        (Image.new("RGB", (16, 16), BLUE).convert("P"), "PNG", "RGB", BLUE),
        (transparent_palette(), "PNG", "RGB", WHITE),
        (Image.new("F", (16, 16), 0.5), "TIFF", "L", 127),  # floats in 0..1
        (signed_ramp(), "TIFF", "L", 0),  # stretched from its own range: -1000 → 0
        (Image.new("LAB", (16, 16), (128, 128, 128)), "TIFF", "RGB", (119, 119, 119)),
    ],
    ids=["1", "L", "LA", "RGBA", "RGBA-clear", "P", "P-clear", "F", "I-signed", "LAB"],
)
def test_other_modes_become_rgb_or_grey(
    tmp_path: Path, image: Image.Image, fmt: str, mode: str, expected: tuple[int, ...] | int
) -> None:
    master = tmp_path / f"m.{fmt.lower()}"
    image.save(master, fmt)
    build_pyramid(master, tmp_path / "out", quality=95)
    with Image.open(only_file(tmp_path / "out")) as tile:
        assert tile.mode == mode
        assert near(tile.getpixel((4, 8)), expected, 4)


def test_a_profile_for_another_colour_space_is_ignored(tmp_path: Path) -> None:
    master = tmp_path / "m.tif"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(master, icc_profile=srgb_profile())
    build_pyramid(master, tmp_path / "out", quality=95)
    assert near(pixel(only_file(tmp_path / "out"), (8, 8)), RED, 4)


# -- failures -------------------------------------------------------------------------------


def test_a_master_over_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    master = tmp_path / "huge.png"
    master.write_bytes(png_header_only(5000, 5000))  # no pixel data: decoding would fail
    out = tmp_path / "out"
    with pytest.raises(DerivativeError, match=r"huge\.png: 5000×5000 .* over the limit"):
        build_pyramid(master, out, max_pixels=1_000_000)
    assert not out.exists()


def test_pillows_decompression_bomb_error_becomes_a_derivative_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    master = tmp_path / "m.png"
    quadrants(100, 100).save(master)
    with pytest.raises(DerivativeError, match="Pillow's pixel limit"):
        build_pyramid(master, tmp_path / "out")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_a_truncated_master_is_refused(tmp_path: Path, fmt: str) -> None:
    master = tmp_path / f"m.{fmt.lower()}"
    buffer = io.BytesIO()
    Image.radial_gradient("L").convert("RGB").save(buffer, fmt)
    master.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    out = tmp_path / "out"
    with pytest.raises(DerivativeError, match=rf"m\.{fmt.lower()}: cannot decode: .*truncated"):
        build_pyramid(master, out)
    assert read_pyramid(out) is None


def test_a_file_that_is_no_image_or_missing_is_refused(tmp_path: Path) -> None:
    master = tmp_path / "notes.tif"
    master.write_text("not an image")
    with pytest.raises(DerivativeError, match="cannot identify"):
        build_pyramid(master, tmp_path / "out")
    with pytest.raises(DerivativeError, match=r"missing\.tif"):
        build_pyramid(tmp_path / "missing.tif", tmp_path / "out")


@pytest.mark.parametrize(
    "kwargs", [{"tile_size": 0}, {"quality": 0}, {"quality": 101}, {"max_pixels": 0}]
)
def test_arguments_out_of_range_are_programming_errors(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        build_pyramid(tmp_path / "m.png", tmp_path / "out", **kwargs)


# -- pyramid.json, rebuilding ---------------------------------------------------------------


def test_pyramid_json_round_trips_and_marks_completion(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(1300, 900).save(master)
    out = tmp_path / "out"
    assert read_pyramid(out) is None
    pyramid = build_pyramid(master, out, tile_size=256, quality=80)
    assert read_pyramid(out) == pyramid
    assert json.loads((out / PYRAMID_JSON).read_text()) == pyramid.to_json()
    assert Pyramid.from_json(json.loads(json.dumps(pyramid.to_json()))) == pyramid
    (out / PYRAMID_JSON).write_text("{")  # cannot happen (atomic), but is not a pyramid
    assert read_pyramid(out) is None
    (out / PYRAMID_JSON).unlink()
    assert read_pyramid(out) is None


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"version": 2},
        {"width": "1"},
        {"tile_size": 0},
        {"sizes": [[1]]},
        {"scale_factors": []},
        {"quality": True},
    ],
)
def test_from_json_rejects_what_is_not_a_pyramid(bad: dict) -> None:
    good = plan_pyramid(1300, 900).to_json()
    with pytest.raises(ValueError):
        Pyramid.from_json({**good, **bad} if bad else bad)


def test_rebuilding_is_idempotent_and_drops_stale_tiles(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(1300, 900).save(master)
    out = tmp_path / "out"
    first = build_pyramid(master, out)
    files = files_below(out)
    assert build_pyramid(master, out) == first
    assert files_below(out) == files  # no temp file left either
    keep = {out / "notes.txt", out / "full/max/0/gray.jpg", out / "0,0,1,1/1,1/90/default.jpg"}
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not ours")

    quadrants(700, 600).save(master)  # rescanned at another size
    second = build_pyramid(master, out)
    expected = {f"{r}/{s}/0/default.jpg" for r, s in second.stored_requests()}
    assert files_below(out) == expected | {PYRAMID_JSON} | {
        p.relative_to(out).as_posix() for p in keep
    }
    assert not (out / "1024,0,276,512").exists()  # emptied folders go too


def test_temp_files_of_a_crashed_build_are_cleared_when_old(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    quadrants(40, 30).save(master)
    out = tmp_path / "out"
    build_pyramid(master, out)
    folder = only_file(out).parent
    old, fresh = folder / ".default.jpg.1-dead.tmp", folder / ".default.jpg.2-live.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written by another build")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    build_pyramid(master, out)
    assert not old.exists()
    assert fresh.exists()
