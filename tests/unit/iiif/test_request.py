"""The Image API 3.0 request parser, table-driven from the spec's own examples and rules.

Most examples are the spec's (https://iiif.io/api/image/3.0/#4-image-requests): a 300×200
image, region ``125,15,120,140`` and so on. Like zimeon/iiif's tests, each table row is one
rule of the spec with the answer it asks for.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from iiif.image.request import (
    IIIFError,
    ImageRequest,
    Limits,
    parse_image_request,
    parse_quality_format,
    parse_region,
    parse_rotation,
    parse_size,
)

#: Limits as large as the defaults (heritage.iiif_max_width, heritage.iiif_max_area).
ROOMY = Limits(max_width=10_000, max_height=10_000, max_area=64_000_000)
W, H = 300, 200  # the spec's example image


def request(
    region="full", size="max", rotation="0", qf="default.jpg", *, width=W, height=H, limits=ROOMY
) -> ImageRequest:
    return parse_image_request(
        region, size, rotation, qf, width=width, height=height, limits=limits
    )


def refused(call, *args, **kw) -> IIIFError:
    with pytest.raises(IIIFError) as info:
        call(*args, **kw)
    return info.value


# -- region (§4.1) ---------------------------------------------------------------------------

REGIONS = [
    # region, image size, expected (x, y, w, h, full)
    ("full", (300, 200), (0, 0, 300, 200, True)),
    ("full", (1, 1), (0, 0, 1, 1, True)),
    # square: the shorter side, centred in the longer one
    ("square", (300, 200), (50, 0, 200, 200, False)),  # landscape
    ("square", (200, 300), (0, 50, 200, 200, False)),  # portrait
    ("square", (301, 200), (50, 0, 200, 200, False)),
    ("square", (200, 200), (0, 0, 200, 200, True)),  # a square image: the full image
    # x,y,w,h: the spec's examples 3 and 5 (the second is cropped at the edges: 175×185)
    ("125,15,120,140", (300, 200), (125, 15, 120, 140, False)),
    ("125,15,200,200", (300, 200), (125, 15, 175, 185, False)),
    ("0,0,300,200", (300, 200), (0, 0, 300, 200, True)),
    ("0,0,1000,1000", (300, 200), (0, 0, 300, 200, True)),  # cropped to the full image
    ("299,199,1,1", (300, 200), (299, 199, 1, 1, False)),  # the last pixel
    ("299,199,50,50", (300, 200), (299, 199, 1, 1, False)),
    ("0,0,1,1", (300, 200), (0, 0, 1, 1, False)),
    ("00,010,0100,0100", (300, 200), (0, 10, 100, 100, False)),  # leading zeros are digits
    # pct:x,y,w,h: the spec's examples 4 and 6
    ("pct:41.6,7.5,40,70", (300, 200), (125, 15, 120, 140, False)),
    ("pct:41.6,7.5,66.6,100", (300, 200), (125, 15, 175, 185, False)),
    ("pct:0,0,100,100", (300, 200), (0, 0, 300, 200, True)),
    ("pct:0,0,200,200", (300, 200), (0, 0, 300, 200, True)),
    ("pct:50,50,50,50", (300, 200), (150, 100, 150, 100, False)),
    ("pct:0.5,0.5,10,10", (1000, 1000), (5, 5, 100, 100, False)),
]


@pytest.mark.parametrize(("region", "image", "expected"), REGIONS)
def test_region_forms(region, image, expected):
    assert parse_region(region, *image) == expected


BAD_REGIONS = [
    "0,0,0,10",  # zero width
    "0,0,10,0",  # zero height
    "pct:0,0,0,10",
    "pct:10,10,10,0",
    "300,0,10,10",  # x at the right edge: entirely outside
    "0,200,10,10",  # y at the bottom edge
    "1000,1000,10,10",
    "pct:100,0,10,10",
    "pct:0,100,10,10",
    # syntax
    "",
    "Full",
    "FULL",
    "full ",
    " full",
    "max",
    "0,0,10",
    "0,0,10,10,10",
    "0,0,10,10,",
    ",0,10,10",
    "-1,0,10,10",
    "0,0,-10,10",
    "+1,0,10,10",
    "1e3,0,10,10",
    "0x10,0,10,10",
    "0,0,10.5,10",  # pixels are integers
    "0,0,10,10.0",
    "0 ,0,10,10",
    "pct:",
    "pct:1,2,3",
    "pct:1,2,3,4,5",
    "pct:-1,0,10,10",
    "pct:+1,0,10,10",
    "pct:1e1,0,10,10",
    "pct:1.,0,10,10",
    "pct:0x10,0,10,10",
    "PCT:0,0,10,10",
    "pct:nan,0,10,10",
    "pct:inf,0,10,10",
    "square:",
    "squares",
]


@pytest.mark.parametrize("region", BAD_REGIONS)
def test_bad_regions_are_400_for_the_region(region):
    error = refused(parse_region, region, W, H)
    assert (error.status, error.parameter) == (400, "region")
    assert error.text
    # the same through the whole request, with every other parameter fine
    error = refused(request, region=region)
    assert (error.status, error.parameter) == (400, "region")


# -- size (§4.2) -----------------------------------------------------------------------------

SIZES = [
    # size, region (w, h), limits, expected (width, height, upscaled, is_max)
    ("max", (300, 200), ROOMY, (300, 200, False, True)),
    # "Assuming that the image has a maxWidth of 200px"
    ("max", (300, 200), Limits(200, 200, 10**9), (200, 133, False, True)),
    # "Assuming that the image has a maxWidth of 360px"
    ("^max", (300, 200), Limits(360, 360, 10**9), (360, 240, True, True)),
    ("^max", (300, 200), Limits(300, 300, 10**9), (300, 200, False, True)),
    ("^max", (3000, 2000), Limits(1000, 1000, 10**9), (1000, 666, False, True)),
    ("150,", (300, 200), ROOMY, (150, 100, False, False)),
    ("^360,", (300, 200), ROOMY, (360, 240, True, False)),
    ("^150,", (300, 200), ROOMY, (150, 100, False, False)),  # ^ allows, does not force
    (",150", (300, 200), ROOMY, (225, 150, False, False)),
    ("^,240", (300, 200), ROOMY, (360, 240, True, False)),
    ("pct:50", (300, 200), ROOMY, (150, 100, False, False)),
    ("pct:100", (300, 200), ROOMY, (300, 200, False, False)),
    ("pct:0.5", (1000, 1000), ROOMY, (5, 5, False, False)),
    ("^pct:120", (300, 200), ROOMY, (360, 240, True, False)),
    ("^pct:50", (300, 200), ROOMY, (150, 100, False, False)),
    ("225,100", (300, 200), ROOMY, (225, 100, False, False)),  # distorted, as asked
    ("300,200", (300, 200), ROOMY, (300, 200, False, False)),
    ("^360,360", (300, 200), ROOMY, (360, 360, True, False)),
    ("^400,100", (300, 200), ROOMY, (400, 100, True, False)),  # up in one dimension only
    ("!225,100", (300, 200), ROOMY, (150, 100, False, False)),  # "Returned image is 150,100"
    ("!300,300", (300, 200), ROOMY, (300, 200, False, False)),
    ("!150,300", (300, 200), ROOMY, (150, 100, False, False)),
    ("^!360,360", (300, 200), ROOMY, (360, 240, True, False)),  # "Returned image is 360,240"
    ("^!225,100", (300, 200), ROOMY, (150, 100, False, False)),
    ("1,", (300, 200), ROOMY, (1, 1, False, False)),  # never below one pixel
    (",1", (300, 200), ROOMY, (2, 1, False, False)),
    ("100,", (300, 200), ROOMY, (100, 67, False, False)),
    ("0100,", (300, 200), ROOMY, (100, 67, False, False)),
    ("pct:1", (300, 200), ROOMY, (3, 2, False, False)),
    ("pct:0.1", (300, 200), ROOMY, (1, 1, False, False)),
    # the limits: exactly at them is fine
    ("200,", (300, 200), Limits(200, 200, 10**9), (200, 133, False, False)),
    ("150,", (300, 200), Limits(10_000, 10_000, 15_000), (150, 100, False, False)),
]


@pytest.mark.parametrize(("size", "region", "limits", "expected"), SIZES)
def test_size_forms(size, region, limits, expected):
    width, height, upscaled, is_max = parse_size(size, *region, limits)
    assert (width, height, upscaled, is_max) == expected


def test_max_within_max_area_keeps_the_aspect_ratio():
    width, height, upscaled, is_max = parse_size("max", 3000, 2000, Limits(10**4, 10**4, 60_000))
    assert width * height <= 60_000 and (width, height) == (300, 200)
    assert is_max and not upscaled
    width, height, upscaled, _ = parse_size("^max", 300, 200, ROOMY)
    assert width * height <= ROOMY.max_area and width <= ROOMY.max_width and upscaled
    assert abs(width / height - 1.5) < 0.01


BAD_SIZES = [
    # size, region (w, h), limits — all 400 for the size
    # upscaling without ^ (§4.2: "errors that should result in a 400")
    ("301,", (300, 200), ROOMY),
    (",201", (300, 200), ROOMY),
    ("301,200", (300, 200), ROOMY),
    ("300,201", (300, 200), ROOMY),
    ("pct:101", (300, 200), ROOMY),
    ("pct:100.5", (300, 200), ROOMY),
    ("pct:200", (300, 200), ROOMY),
    # !w,h larger than the region: the reference validator (size_noup: !2000,3000 on its
    # 1000×1000 image) reads it as upscaling, which needs ^ in 3.0
    ("!2000,3000", (1000, 1000), ROOMY),
    ("!301,300", (300, 200), ROOMY),
    # below one pixel
    ("0,", (300, 200), ROOMY),
    (",0", (300, 200), ROOMY),
    ("0,0", (300, 200), ROOMY),
    ("0,10", (300, 200), ROOMY),
    ("pct:0", (300, 200), ROOMY),
    ("^pct:0", (300, 200), ROOMY),
    ("!0,0", (300, 200), ROOMY),
    ("!0,10", (300, 200), ROOMY),
    ("^0,", (300, 200), ROOMY),
    # beyond the server's limits
    ("250,", (300, 200), Limits(200, 200, 10**9)),
    (",180", (300, 200), Limits(200, 150, 10**9)),
    ("^201,", (100, 100), Limits(200, 200, 10**9)),
    ("^20000,10", (300, 200), ROOMY),
    ("^10,20000", (300, 200), ROOMY),
    ("^pct:5000", (300, 200), ROOMY),
    ("151,", (300, 200), Limits(10_000, 10_000, 15_000)),  # over maxArea
    ("^9000,9000", (300, 200), ROOMY),  # 81 MP > maxArea
    # syntax
    ("", (300, 200), ROOMY),
    (",", (300, 200), ROOMY),
    ("^,", (300, 200), ROOMY),
    ("^", (300, 200), ROOMY),
    ("^^max", (300, 200), ROOMY),
    ("MAX", (300, 200), ROOMY),
    ("max ", (300, 200), ROOMY),
    ("full", (300, 200), ROOMY),  # the 2.x name of max
    ("!max", (300, 200), ROOMY),
    ("!^100,100", (300, 200), ROOMY),  # ^ comes first
    ("!100,", (300, 200), ROOMY),
    ("!,100", (300, 200), ROOMY),
    ("!!100,100", (300, 200), ROOMY),
    ("100", (300, 200), ROOMY),
    ("100,100,", (300, 200), ROOMY),
    ("-1,", (300, 200), ROOMY),
    ("+1,", (300, 200), ROOMY),
    ("1e3,", (300, 200), ROOMY),
    ("0x10,", (300, 200), ROOMY),
    ("1.5,", (300, 200), ROOMY),
    (",1.5", (300, 200), ROOMY),
    ("10 ,", (300, 200), ROOMY),
    ("pct:", (300, 200), ROOMY),
    ("pct:-1", (300, 200), ROOMY),
    ("pct:+1", (300, 200), ROOMY),
    ("pct:1e1", (300, 200), ROOMY),
    ("pct:nan", (300, 200), ROOMY),
    ("pct:inf", (300, 200), ROOMY),
    ("pct:50,50", (300, 200), ROOMY),
    ("pct:50%", (300, 200), ROOMY),
    ("^pct:", (300, 200), ROOMY),
]


@pytest.mark.parametrize(("size", "region", "limits"), BAD_SIZES)
def test_bad_sizes_are_400_for_the_size(size, region, limits):
    error = refused(parse_size, size, *region, limits)
    assert (error.status, error.parameter) == (400, "size")
    assert error.text


def test_upscaled_bang_size_keeps_the_aspect_ratio_within_the_limits():
    # §4.2 ^!w,h: "as large as possible but not larger than w, h, or server-imposed limits",
    # "while maintaining the aspect ratio"
    width, height, upscaled, _ = parse_size("^!2000,2000", 300, 200, Limits(1000, 1000, 10**9))
    assert (width, height, upscaled) == (1000, 667, True)  # rounded, as 1000, gives


def test_upscaled_bang_size_within_max_area():
    width, height, upscaled, _ = parse_size("^!20000,20000", 300, 200, ROOMY)
    assert upscaled and width * height <= ROOMY.max_area
    assert abs(width / height - 1.5) < 0.01 and width >= 9700


def test_bang_size_within_the_server_limits():
    width, height, upscaled, _ = parse_size("!2000,2000", 3000, 2000, Limits(1000, 1000, 10**9))
    assert (width, height, upscaled) == (1000, 667, False)


def test_bang_size_rounds_like_the_other_forms():
    assert parse_size("!163,163", 1300, 900, ROOMY)[:2] == parse_size("163,", 1300, 900, ROOMY)[:2]


# -- rotation (§4.3) -------------------------------------------------------------------------

ROTATIONS = [
    ("0", (False, 0.0)),
    ("90", (False, 90.0)),
    ("180", (False, 180.0)),
    ("270", (False, 270.0)),
    ("22.5", (False, 22.5)),
    ("0.5", (False, 0.5)),
    ("359.9", (False, 359.9)),
    ("90.0", (False, 90.0)),
    ("090", (False, 90.0)),
    ("!0", (True, 0.0)),
    ("!180", (True, 180.0)),
    ("!345", (True, 345.0)),
    ("!22.5", (True, 22.5)),
]


@pytest.mark.parametrize(("rotation", "expected"), ROTATIONS)
def test_rotation_forms(rotation, expected):
    assert parse_rotation(rotation) == expected


@pytest.mark.parametrize("rotation", ["360", "!360"])
def test_rotation_360_is_a_full_turn(rotation):
    mirror, degrees = parse_rotation(rotation)
    assert mirror == rotation.startswith("!")
    assert degrees % 360 == 0


BAD_ROTATIONS = [
    "-90",
    "-0.5",
    "361",
    "360.1",
    "720",
    "+90",
    "1e2",
    "0x10",
    "",
    "!",
    "!!90",
    "90!",
    "!-1",
    "abc",
    "nan",
    "NaN",
    "inf",
    "90deg",
    "9 0",
    "1.",
    ".",
    "90,",
    "1,5",
    "½",
]


@pytest.mark.parametrize("rotation", BAD_ROTATIONS)
def test_bad_rotations_are_400_for_the_rotation(rotation):
    error = refused(parse_rotation, rotation)
    assert (error.status, error.parameter) == (400, "rotation")
    error = refused(request, rotation=rotation)
    assert (error.status, error.parameter) == (400, "rotation")


# -- quality and format (§4.4, §4.5) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("qf", "expected"),
    [
        ("default.jpg", ("default", "jpg")),
        ("color.png", ("color", "png")),
        ("gray.webp", ("gray", "webp")),
        ("bitonal.tif", ("bitonal", "tif")),
        ("default.png", ("default", "png")),
    ],
)
def test_quality_and_format(qf, expected):
    assert parse_quality_format(qf) == expected


@pytest.mark.parametrize(
    ("qf", "parameter"),
    [
        ("grey.jpg", "quality"),
        ("native.jpg", "quality"),  # 1.x
        ("Default.jpg", "quality"),
        ("colour.jpg", "quality"),
        ("default", "quality"),
        (".jpg", "quality"),
        ("default.jpg.jpg", "quality"),
        ("default..jpg", "quality"),
        ("", "quality"),
        ("default.JPG", "format"),
        ("default.jpeg", "format"),
        ("default.tiff", "format"),
        ("default.", "format"),
        ("default.bmp", "format"),
        ("default.json", "format"),
        ("default.jpg ", "format"),
        # formats the spec names but this server does not produce: still 400 (§4.5)
        ("default.gif", "format"),
        ("default.jp2", "format"),
        ("default.pdf", "format"),
    ],
)
def test_bad_quality_or_format_is_400(qf, parameter):
    error = refused(parse_quality_format, qf)
    assert (error.status, error.parameter) == (400, parameter)
    error = refused(request, qf=qf)
    assert (error.status, error.parameter) == (400, parameter)


def test_mimetypes():
    assert request(qf="default.jpg").mimetype == "image/jpeg"
    assert request(qf="default.png").mimetype == "image/png"
    assert request(qf="default.webp").mimetype == "image/webp"
    assert request(qf="default.tif").mimetype == "image/tiff"


# -- numbers that are not the spec's numbers (§4.7) -----------------------------------------

NOT_ASCII_DIGITS = [
    ("region", "١٠,٠,١٠,١٠"),  # Arabic-Indic digits
    ("size", "１００,"),  # full-width digits
    ("rotation", "٩٠"),
    ("size", "pct:٥٠"),
]


@pytest.mark.parametrize(("parameter", "value"), NOT_ASCII_DIGITS)
def test_only_ascii_digits_are_numbers(parameter, value):
    error = refused(request, **{parameter: value})
    assert (error.status, error.parameter) == (400, parameter)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("region", "0,0,10,10\n"), ("size", "100,\n"), ("rotation", "90\n"), ("size", "pct:50\n")],
)
def test_a_trailing_newline_is_not_part_of_a_number(parameter, value):
    error = refused(request, **{parameter: value})
    assert (error.status, error.parameter) == (400, parameter)


HUGE = "9" * 400  # beyond a float (inf), an int whose arithmetic overflows a float
HUGER = "1" * 5000  # beyond Python's int-from-string limit (4300 digits)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("region", f"{HUGER},0,1,1"),
        ("region", f"pct:0,0,{HUGE},10"),
        ("size", f"{HUGE},"),
        ("size", f",{HUGE}"),
        ("size", f"^{HUGE},"),
        ("size", f"^pct:{HUGE}"),
        ("size", f"{HUGER},1"),
        ("region", f"pct:{HUGE},0,10,10"),
        ("size", f"!{HUGE},{HUGE}"),
    ],
)
def test_huge_numbers_are_400(parameter, value):
    error = refused(request, **{parameter: value})
    assert (error.status, error.parameter) == (400, parameter)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("region", f"0,0,{HUGE},{HUGE}"),  # cropped at the edges
        ("region", f"{HUGE},0,10,10"),  # outside
        ("size", f"pct:{HUGE}"),
        ("size", f"{HUGE},{HUGE}"),
        ("rotation", HUGE),
        ("rotation", HUGER),
    ],
)
def test_huge_numbers_that_are_handled(parameter, value):
    try:
        request(**{parameter: value})
    except IIIFError as error:
        assert error.status == 400 and error.parameter == parameter


# -- the order of the checks -----------------------------------------------------------------


def test_the_first_bad_parameter_is_reported():
    assert refused(request, "0,0,0,0", "junk", "junk", "junk").parameter == "region"
    assert refused(request, "full", "junk", "junk", "junk").parameter == "size"
    assert refused(request, "full", "max", "junk", "junk").parameter == "rotation"
    assert refused(request, "full", "max", "0", "junk.jpg").parameter == "quality"
    assert refused(request, "full", "max", "0", "default.gif").parameter == "format"


def test_size_applies_to_the_region_not_the_image():
    req = request("125,15,200,200", "max")  # the region is cropped to 175×185 first
    assert (req.w, req.h, req.width, req.height) == (175, 185, 175, 185)
    assert refused(request, "125,15,200,200", "176,").parameter == "size"
    req = request("pct:41.6,7.5,40,70", "90,", "!345", "gray.jpg")  # §4.6's example
    assert (req.x, req.y, req.w, req.h) == (125, 15, 120, 140)
    assert (req.width, req.height, req.mirror, req.rotation) == (90, 105, True, 345)
    assert req.quality == "gray"


# -- canonical form (§4.8) -------------------------------------------------------------------

CANONICAL = [
    # (region, size, rotation, quality.format), image size, canonical
    (("full", "max", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    # region: full when the whole image is asked for, in any form
    (("0,0,300,200", "max", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("0,0,999,999", "max", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("pct:0,0,100,100", "max", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("square", "max", "0", "default.jpg"), (200, 200), "full/max/0/default.jpg"),
    # otherwise x,y,w,h, cropped
    (("square", "max", "0", "default.jpg"), (300, 200), "50,0,200,200/max/0/default.jpg"),
    (("125,15,200,200", "max", "0", "default.jpg"), (300, 200), "125,15,175,185/max/0/default.jpg"),
    (("pct:41.6,7.5,40,70", "max", "0", "default.jpg"), (300, 200), "125,15,120,140/max/0/default.jpg"),  # noqa: E501
    # size: max when the region's own size (no upscaling) is asked for, in any form
    (("full", "300,", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", ",200", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "300,200", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "pct:100", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "!300,200", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "^300,200", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "^pct:100", "0", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    # otherwise w,h
    (("full", "150,", "0", "default.jpg"), (300, 200), "full/150,100/0/default.jpg"),
    (("full", ",150", "0", "default.jpg"), (300, 200), "full/225,150/0/default.jpg"),
    (("full", "pct:50", "0", "default.jpg"), (300, 200), "full/150,100/0/default.jpg"),
    (("full", "!225,100", "0", "default.jpg"), (300, 200), "full/150,100/0/default.jpg"),
    (("full", "225,100", "0", "default.jpg"), (300, 200), "full/225,100/0/default.jpg"),
    (("full", "^150,", "0", "default.jpg"), (300, 200), "full/150,100/0/default.jpg"),
    (("full", "^!225,100", "0", "default.jpg"), (300, 200), "full/150,100/0/default.jpg"),
    # ^w,h when the region is upscaled; ^max for the largest upscaled size
    (("full", "^360,", "0", "default.jpg"), (300, 200), "full/^360,240/0/default.jpg"),
    (("full", "^,240", "0", "default.jpg"), (300, 200), "full/^360,240/0/default.jpg"),
    (("full", "^pct:120", "0", "default.jpg"), (300, 200), "full/^360,240/0/default.jpg"),
    (("full", "^!360,360", "0", "default.jpg"), (300, 200), "full/^360,240/0/default.jpg"),
    (("full", "^360,360", "0", "default.jpg"), (300, 200), "full/^360,360/0/default.jpg"),
    (("full", "^max", "0", "default.jpg"), (300, 200), "full/^max/0/default.jpg"),
    # rotation: ! when mirrored, then an integer if possible, else no trailing zeros
    (("full", "max", "90.0", "default.jpg"), (300, 200), "full/max/90/default.jpg"),
    (("full", "max", "090", "default.jpg"), (300, 200), "full/max/90/default.jpg"),
    (("full", "max", "22.50", "default.png"), (300, 200), "full/max/22.5/default.png"),
    (("full", "max", "0.5", "default.png"), (300, 200), "full/max/0.5/default.png"),
    (("full", "max", "!0", "default.jpg"), (300, 200), "full/max/!0/default.jpg"),
    (("full", "max", "!180.00", "default.jpg"), (300, 200), "full/max/!180/default.jpg"),
    (("full", "max", "360", "default.jpg"), (300, 200), "full/max/0/default.jpg"),
    # quality: default for the server's default (colour); the others as they are
    (("full", "max", "0", "color.jpg"), (300, 200), "full/max/0/default.jpg"),
    (("full", "max", "0", "gray.jpg"), (300, 200), "full/max/0/gray.jpg"),
    (("full", "max", "0", "bitonal.png"), (300, 200), "full/max/0/bitonal.png"),
    (("full", "max", "0", "default.webp"), (300, 200), "full/max/0/default.webp"),
    # §4.6's example
    (
        ("pct:41.6,7.5,40,70", "90,", "!345", "gray.jpg"),
        (300, 200),
        "125,15,120,140/90,105/!345/gray.jpg",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("segments", "image", "canonical"), CANONICAL)
def test_canonical_form(segments, image, canonical):
    req = request(*segments, width=image[0], height=image[1])
    assert req.canonical == canonical
    # the canonical form is a request for the same image, and its own canonical form
    again = request(*canonical.split("/"), width=image[0], height=image[1])
    assert again.canonical == canonical
    assert (again.x, again.y, again.w, again.h) == (req.x, req.y, req.w, req.h)
    assert (again.width, again.height) == (req.width, req.height)
    assert (again.mirror, again.rotation, again.format) == (req.mirror, req.rotation, req.format)


def test_max_limited_by_the_server_is_still_max():
    limits = Limits(200, 200, 10**9)
    req = request("full", "max", width=300, height=200, limits=limits)
    assert (req.width, req.height) == (200, 133)
    assert req.canonical == "full/max/0/default.jpg"


# -- properties ------------------------------------------------------------------------------

#: Pieces URL segments are made of; a segment cannot hold a slash.
TOKENS = st.sampled_from(
    [
        "full", "square", "max", "^", "!", "pct:", ",", ".", ":", "-", "+", "e", "x", " ",
        "0", "1", "9", "00", "90", "100", "360", "1000", "0.5", ".5", "1.", "22.5", "300",
        "200", "default", "color", "gray", "bitonal", "jpg", "png", "gif", "webp", "tif",
        "jp2", "pdf", "nan", "inf", "\n", "%2F", "%", "٣", "１", "é", "\x00", "😀",
    ]
)  # fmt: skip
SEGMENT = st.one_of(
    st.text(alphabet=st.characters(exclude_characters="/"), max_size=30),
    st.lists(TOKENS, max_size=10).map("".join),
)
IMAGE_SIDE = st.integers(min_value=1, max_value=5000)
LIMITS = st.builds(
    Limits,
    max_width=st.integers(1, 20_000),
    max_height=st.integers(1, 20_000),
    max_area=st.integers(1, 100_000_000),
)


def check_answer(region, size, rotation, qf, width, height, limits):
    try:
        req = parse_image_request(
            region, size, rotation, qf, width=width, height=height, limits=limits
        )
    except IIIFError as error:
        assert error.status in (400, 501)
        assert error.parameter in ("region", "size", "rotation", "quality", "format")
        assert error.text
        return
    assert isinstance(req, ImageRequest)
    assert 0 <= req.x < width and 0 <= req.y < height
    assert 1 <= req.w <= width - req.x and 1 <= req.h <= height - req.y
    assert 1 <= req.width <= limits.max_width and 1 <= req.height <= limits.max_height
    assert req.width * req.height <= limits.max_area
    assert req.upscaled or (req.width <= req.w and req.height <= req.h)
    assert 0 <= req.rotation < 360
    assert req.canonical.count("/") == 3


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEGMENT, SEGMENT, SEGMENT, SEGMENT, IMAGE_SIDE, IMAGE_SIDE, LIMITS)
@example("full", "max", "0", "default.jpg", 300, 200, ROOMY)
@example("pct:0,0,1e400,1", "max", "0", "default.jpg", 300, 200, ROOMY)
@example("0,0,1,1", "^max", "!0", "gray.png", 1, 1, Limits(1, 1, 1))
def test_any_segments_give_a_request_or_a_400(region, size, rotation, qf, width, height, limits):
    """Nothing a URL can hold makes the parser fail other than with IIIFError 400/501."""
    check_answer(region, size, rotation, qf, width, height, limits)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**30).map(str) | st.sampled_from(["0", "1", "00", "99999999999"]),
    st.sampled_from(["region", "size", "rotation"]),
    st.sampled_from(["{n},0,1,1", "0,0,{n},{n}", "pct:{n},0,1,1", "pct:0,0,{n},1",
                     "{n},", ",{n}", "^{n},", "^,{n}", "!{n},{n}", "^!{n},{n}", "pct:{n}",
                     "^pct:{n}", "{n}", "!{n}", "^{n},{n}"]),
)  # fmt: skip
def test_large_but_not_huge_numbers_anywhere(n, parameter, template):
    segments = {"region": "full", "size": "max", "rotation": "0"}
    segments[parameter] = template.format(n=n)
    check_answer(
        segments["region"], segments["size"], segments["rotation"], "default.jpg", 300, 200, ROOMY
    )


@settings(max_examples=20, deadline=None, derandomize=True, phases=[Phase.generate])
@given(
    st.integers(10**310, 10**320).map(str),
    st.sampled_from(
        [("region", "pct:0,0,{n},1"), ("size", "{n},"), ("size", ",{n}"), ("size", "^{n},"),
         ("size", "^pct:{n}")]
    ),
)  # fmt: skip
def test_huge_numbers_anywhere(n, where):
    parameter, template = where
    segments = {"region": "full", "size": "max"}
    segments[parameter] = template.format(n=n)
    check_answer(segments["region"], segments["size"], "0", "default.jpg", 300, 200, ROOMY)


@st.composite
def valid_requests(draw):
    width, height = draw(IMAGE_SIDE), draw(IMAGE_SIDE)
    x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
    w, h = draw(st.integers(1, 2 * width)), draw(st.integers(1, 2 * height))
    rw, rh = min(w, width - x), min(h, height - y)
    size = draw(
        st.one_of(
            st.just("max"),
            st.integers(1, rw).map(lambda n: f"{n},"),
            st.integers(1, rh).map(lambda n: f",{n}"),
            st.tuples(st.integers(1, rw), st.integers(1, rh)).map(lambda t: f"{t[0]},{t[1]}"),
            st.tuples(st.integers(1, rw), st.integers(1, rh)).map(lambda t: f"!{t[0]},{t[1]}"),
            st.integers(1, 100).map(lambda n: f"pct:{n}"),
        )
    )
    return f"{x},{y},{w},{h}", size, width, height, (rw, rh)


@settings(max_examples=300, deadline=None)
@given(valid_requests(), st.sampled_from([ROOMY, Limits(10**6, 10**6, 10**12)]))
def test_sizes_within_the_region_are_at_least_one_pixel_and_within_the_limits(case, limits):
    region, size, width, height, (rw, rh) = case
    req = request(region, size, width=width, height=height, limits=limits)
    assert (req.w, req.h) == (rw, rh)
    assert 1 <= req.width <= min(rw, limits.max_width)
    assert 1 <= req.height <= min(rh, limits.max_height)
    assert req.width * req.height <= limits.max_area
    assert not req.upscaled
    # the canonical form asks for the same thing
    again = request(*req.canonical.split("/"), width=width, height=height, limits=limits)
    assert (again.x, again.y, again.w, again.h, again.width, again.height) == (
        req.x,
        req.y,
        req.w,
        req.h,
        req.width,
        req.height,
    )
