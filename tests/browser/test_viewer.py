"""Mirador on the item page, in a partner site's iframe, and on /compare, in real Chromium.

"Drawn" means: the Image API answered the page's tile requests with 200, no tile was asked
for stretched, and a screenshot of Mirador's OpenSeadragon canvas is not one flat colour
and shows the whole page with the image's proportions, fitted to the canvas. Screenshots
are kept in pytest's temporary folder; their paths are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

pytestmark = pytest.mark.browser

#: A published public Jawi manuscript of the sample data, and its first page's image.
SAMPLE_ITEM = "pns-ms-0001"
SAMPLE_IMAGE = f"{SAMPLE_ITEM}_1"

#: A canvas counts as drawn above these (a blank one is one colour, deviation 0).
MIN_STDDEV = 12.0
MIN_COLOURS = 64
DRAW_SECONDS = 20
QUIET_MS = 600
#: Red minus blue above this: paper or ink of the sample page, not Mirador's grey.
PAPER = 24
CANVAS = ".openseadragon-canvas"


def is_tile(response: Any, base: str, image_id: str = SAMPLE_IMAGE) -> bool:
    """An Image API image (not info.json) of ``image_id`` from ``base``, answered 200."""
    prefix = f"{base}/iiif/3/{image_id}/"
    return (
        response.url.startswith(prefix)
        and not response.url.endswith("/info.json")
        and response.status == 200
    )


def distorted(url: str, width: int, height: int) -> bool:
    """Whether an Image API URL asks for a size whose aspect is not its region's.

    OpenSeadragon asks for ``x,y,w,h/sw,sh`` tiles; a tile whose width and height are
    scaled differently means the viewer misread info.json (a wrong level size, say) and
    draws the page stretched, cut or in pieces.
    """
    region, size = url.split("?")[0].split("/")[-4:-2]
    size = size.lstrip("^!")
    if "," not in size or "" in size.split(",") or region.startswith(("square", "pct:")):
        return False
    rw, rh = (width, height) if region == "full" else map(int, region.split(",")[2:])
    sw, sh = map(int, size.split(","))
    return abs(sw / rw - sh / rh) * max(rw, rh) > 1.0  # more than a pixel of rounding


def info_size(base: str, image_id: str = SAMPLE_IMAGE) -> tuple[int, int]:
    url = f"{base}/iiif/3/{image_id}/info.json"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        info = json.load(response)
    return info["width"], info["height"]


def assert_tiles_undistorted(urls: list[str], base: str) -> None:
    width, height = info_size(base)
    bad = [u.rsplit("/iiif/3/", 1)[1] for u in urls if distorted(u, width, height)]
    assert not bad, (
        f"the viewer asked for stretched tiles of a {width}x{height} image, so it misread "
        f"info.json (OpenSeadragon takes `sizes` as the pyramid's levels when there are as "
        f"many sizes as scale factors): {bad}"
    )


def page_box(png: bytes) -> tuple[int, int, int, int] | None:
    """Return the box of the drawn page in a canvas screenshot, or None.

    The sample pages are warm paper and ink (red well above blue); Mirador's background,
    buttons and bars are neutral grey, so they do not count.
    """
    red, _, blue = Image.open(io.BytesIO(png)).convert("RGB").split()
    return ImageChops.subtract(red, blue).point(lambda v: 255 if v > PAPER else 0).getbbox()


def assert_whole_page_shown(png: bytes, base: str) -> None:
    """The page is drawn whole, with its own proportions, fitted to the canvas."""
    width, height = info_size(base)
    canvas = Image.open(io.BytesIO(png)).size
    box = page_box(png)
    assert box, "no page drawn"
    shown_w, shown_h = box[2] - box[0], box[3] - box[1]
    assert abs(shown_w / shown_h - width / height) < 0.03 * width / height, (
        f"the page is drawn {shown_w}x{shown_h} in a {canvas[0]}x{canvas[1]} canvas: not the "
        f"proportions of the {width}x{height} image (cut off or stretched)"
    )
    assert shown_h >= 0.9 * canvas[1] or shown_w >= 0.9 * canvas[0], (box, canvas)


def canvas_stats(png: bytes) -> tuple[float, int]:
    """Return the grey-level standard deviation and the number of distinct colours."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    return ImageStat.Stat(image.convert("L")).stddev[0], len(colours)


def wait_until_drawn(page: Any, locator: Any, tiles: list, seconds: float = DRAW_SECONDS) -> tuple:
    """Wait until ``locator`` is not blank and no tile has come for a moment; screenshot it.

    Returns (png, stddev, colours). OpenSeadragon first draws the smallest level, then the
    sharper tiles: the moment with no new tile is when the page is drawn as it will stay.
    """
    deadline = time.monotonic() + seconds
    count = -1
    while True:
        png = locator.screenshot()
        stddev, colours = canvas_stats(png)
        drawn = stddev > MIN_STDDEV and colours > MIN_COLOURS
        if (drawn and len(tiles) == count) or time.monotonic() > deadline:
            return png, stddev, colours
        count = len(tiles)
        page.wait_for_timeout(QUIET_MS)  # lets Playwright deliver the response events


def save(png: bytes, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(png)
    print(f"\nscreenshot: {path}")
    return path


def test_item_page_viewer_draws_the_first_page(heritage_server, page, tmp_path):
    base = heritage_server
    tiles: list[str] = []
    page.on("response", lambda r: tiles.append(r.url) if is_tile(r, base) else None)
    started = time.monotonic()
    with page.expect_response(lambda r: is_tile(r, base), timeout=30_000):
        page.goto(f"{base}/items/{SAMPLE_ITEM}")
    png, stddev, colours = wait_until_drawn(page, page.locator(f"#mirador {CANVAS}"), tiles)
    drawn = time.monotonic() - started
    save(page.locator(".viewer-box").screenshot(), tmp_path, "item-viewer.png")
    save(png, tmp_path, "item-canvas.png")
    print(f"tiles drawn in {drawn:.1f}s: {len(tiles)} image responses; stddev {stddev:.1f}")
    assert stddev > MIN_STDDEV and colours > MIN_COLOURS, (stddev, colours)
    assert tiles
    assert_tiles_undistorted(tiles, base)
    assert_whole_page_shown(png, base)

    # The share section: manifest link, drag-and-drop link, iframe snippet.
    manifest = f"{base}/iiif/manifests/{SAMPLE_ITEM}"
    assert page.locator("a.iiif-manifest").get_attribute("href") == manifest
    drag = page.locator("a.iiif-drag").get_attribute("href")
    assert drag.startswith(f"{manifest}?manifest=")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(drag).query)["manifest"] == [manifest]
    snippet = page.locator("#share-embed").input_value()
    assert snippet.startswith(f'<iframe src="{base}/embed/{SAMPLE_ITEM}"')


PARTNER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A partner museum</title></head>
<body>
<h1>Our partner's manuscript</h1>
<iframe id="viewer" src="{embed}" title="Viewer" width="900" height="650"
        style="border:0" allowfullscreen></iframe>
</body></html>
"""


def test_embed_in_an_iframe_on_another_origin(heritage_server, partner_site, page, tmp_path):
    base = heritage_server
    partner, folder = partner_site
    embed = f"{base}/embed/{SAMPLE_ITEM}"
    (folder / "partner.html").write_text(PARTNER_PAGE.format(embed=embed))
    seen: dict[str, Any] = {}  # every response from the heritage origin, by URL
    tiles: list[str] = []

    def record(response: Any) -> None:
        if response.url.startswith(base):
            seen.setdefault(response.url, response)
        if is_tile(response, base):
            tiles.append(response.url)

    page.on("response", record)
    with page.expect_response(lambda r: is_tile(r, base), timeout=30_000):
        page.goto(f"{partner}/partner.html")
    frame = page.frame_locator("#viewer")
    png, stddev, colours = wait_until_drawn(page, frame.locator(f"#mirador {CANVAS}"), tiles)
    save(page.locator("#viewer").screenshot(), tmp_path, "embed-iframe.png")
    print(f"embedded canvas stddev {stddev:.1f}, {colours} colours")
    assert stddev > MIN_STDDEV and colours > MIN_COLOURS, (stddev, colours)
    assert_tiles_undistorted(tiles, base)
    assert_whole_page_shown(png, base)

    # Nothing forbids the framing, and the IIIF JSON may be read from any origin.
    embed_headers = seen[embed].all_headers()
    assert embed_headers.get("content-security-policy") == "frame-ancestors *"
    assert "x-frame-options" not in embed_headers
    manifest = f"{base}/iiif/manifests/{SAMPLE_ITEM}"
    info = f"{base}/iiif/3/{SAMPLE_IMAGE}/info.json"
    for url in (manifest, info):
        assert url in seen, f"Mirador did not ask for {url}"
        assert seen[url].status == 200
        assert seen[url].all_headers().get("access-control-allow-origin") == "*", url
    # A script on the partner's own page may fetch the manifest too (CORS).
    kind = page.evaluate("async (url) => (await (await fetch(url)).json()).type", manifest)
    assert kind == "Manifest"


def test_compare_opens_two_windows_side_by_side(heritage_server, page):
    base = heritage_server
    page.goto(f"{base}/compare?items={SAMPLE_ITEM},kaltim-ms-0001,no-such-item")
    windows = page.locator(".mirador-window")
    windows.nth(1).wait_for()
    assert windows.count() == 2
    first, second = windows.nth(0).bounding_box(), windows.nth(1).bounding_box()
    assert first["x"] + first["width"] <= second["x"] + 1  # side by side, not stacked
    assert "no-such-item" in page.locator(".compare-bar .skipped").inner_text()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_embed_and_compare_hide_what_may_not_be_seen(heritage_server):
    base = heritage_server
    # Unpublished (staff only), and published with the record only: 404 for everyone else.
    assert get(f"{base}/embed/pns-ms-0002")[0] == 404
    assert get(f"{base}/embed/sabahlib-fl-0002")[0] == 404
    assert get(f"{base}/embed/no-such-item")[0] == 404
    assert get(f"{base}/compare")[0] == 400
    assert get(f"{base}/compare?items=pns-ms-0002,no-such-item")[0] == 404
    status, body = get(f"{base}/compare?items={SAMPLE_ITEM},a,b,c,too-many")
    assert status == 200 and "too-many" in body  # named as left out: four at most
    status, body = get(f"{base}/compare?items={SAMPLE_ITEM},pns-ms-0002")
    assert status == 200
    assert "pns-ms-0002" in body  # said to be skipped, not shown
    config = json.loads(body.split("data-mirador='", 1)[1].split("'", 1)[0])
    assert [w["manifestId"] for w in config["windows"]] == [f"{base}/iiif/manifests/{SAMPLE_ITEM}"]
