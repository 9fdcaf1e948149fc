"""The Image API over HTTP (WebTest): info.json, images, caching headers, access and errors.

Every item of the ``consortium`` fixture gets a generated page; the worker builds the
pyramids in this process (``processes=0``), as ``heritage worker`` would.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webtest
from PIL import Image
from support import login

from heritage.worker import derivatives_root, image_dir, run_worker
from iiif.image.info import CONTEXT

LD_JSON = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
PROFILE = "http://iiif.io/api/image/3/level2.json"
RIGHTS = "http://rightsstatements.org/vocab/NoC-NKC/1.0/"
WIDTH, HEIGHT = 1300, 900
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 40)


def quadrants(width: int, height: int) -> Image.Image:
    im = Image.new("RGB", (width, height), RED)
    im.paste(GREEN, (width // 2, 0, width, height // 2))
    im.paste(BLUE, (0, height // 2, width // 2, height))
    im.paste(YELLOW, (width // 2, height // 2, width, height))
    return im


@dataclass
class Images:
    public: str
    pending: str  # on the public item, its pyramid not built
    unpublished: str
    staff_only: str
    metadata_only: str
    community: str


@pytest.fixture
def extra_settings() -> dict[str, str]:
    return {}


@pytest.fixture
def settings(settings: dict[str, str], extra_settings: dict[str, str]) -> dict[str, str]:
    """conftest's settings, plus what a test parametrizes ``extra_settings`` with."""
    return {**settings, **extra_settings}


@pytest.fixture
def images(consortium, arrange, app, db, tmp_path) -> Images:
    staging = tmp_path / "to-stage"
    staging.mkdir()
    items = {
        "public": consortium.public,
        "unpublished": consortium.unpublished,
        "staff_only": consortium.staff_only,
        "metadata_only": consortium.metadata_only,
        "community": consortium.community,
    }

    def stage(name: str, size: tuple[int, int]) -> Path:
        path = staging / f"{name}.png"
        quadrants(*size).save(path)
        return path

    def work(root: Any) -> dict[str, str]:
        ids = {}
        for key, item_id in items.items():
            item = root.items[item_id]
            size = (WIDTH, HEIGHT) if key == "public" else (300, 200)
            f = item.add_file(stage(key, size), f"{key}.png")
            root.jobs.add("derivatives", item_id=item_id, file=f.__name__)
            ids[key] = item.image_id(f)
        item = root.items[consortium.public]
        f = item.add_file(stage("pending", (300, 200)), "pending.png")  # no job: no pyramid
        ids["pending"] = item.image_id(f)
        return ids

    ids = arrange(work)
    assert run_worker(db, app.registry.heritage, processes=0, once=True) == 5
    return Images(**ids)


def url(image_id: str, rest: str = "") -> str:
    return f"/iiif/3/{image_id}" + (f"/{rest}" if rest else "")


def decoded(response: webtest.TestResponse) -> Image.Image:
    im = Image.open(io.BytesIO(response.body))
    im.load()
    return im


def cache_files(app: Any, image_id: str) -> list[Path]:
    folder = derivatives_root(app.registry.heritage) / "cache" / image_id
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- info.json ------------------------------------------------------------------------------


def test_info_json(testapp, images):
    res = testapp.get(url(images.public, "info.json"))
    assert res.headers["Content-Type"] == LD_JSON
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    info = json.loads(res.body)
    assert next(iter(info)) == "@context"  # "should appear as the very first key-value pair"
    assert info["@context"] == CONTEXT
    assert info["id"] == f"http://localhost/iiif/3/{images.public}"
    assert info["type"] == "ImageService3"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"] == "level2"
    assert (info["width"], info["height"]) == (WIDTH, HEIGHT)
    # 1, 2, 4 are tiled levels; 8 is the smallest size, one tile: declared so that
    # OpenSeadragon never mistakes the sizes for the levels (it would draw the page cut)
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8]}]
    assert info["sizes"] and all(
        s["width"] <= info["maxWidth"]
        and s["height"] <= info["maxHeight"]
        and s["width"] * s["height"] <= info["maxArea"]
        for s in info["sizes"]
    )
    assert {"width": 650, "height": 450} in info["sizes"]
    assert set(info["extraFormats"]) == {"webp", "tif"}
    assert set(info["extraQualities"]) == {"color", "gray", "bitonal"}
    for feature in (
        "baseUriRedirect",
        "canonicalLinkHeader",
        "cors",
        "jsonldMediaType",
        "mirroring",
        "regionSquare",
        "rotationArbitrary",
        "sizeUpscaling",
    ):
        assert feature in info["extraFeatures"]
    assert info["rights"] == RIGHTS
    assert res.headers["Cache-Control"] == "public, max-age=604800"
    assert res.etag and res.headers["Last-Modified"]


def test_every_size_and_tile_in_info_json_is_served_from_a_stored_file(testapp, app, images):
    info = testapp.get(url(images.public, "info.json")).json
    for size in info["sizes"]:
        res = testapp.get(
            url(images.public, f"full/{size['width']},{size['height']}/0/default.jpg")
        )
        assert decoded(res).size == (size["width"], size["height"])
    tiles = info["tiles"][0]
    tile = tiles["width"]
    count = 0
    for s in tiles["scaleFactors"]:  # the spec's implementation notes, as OpenSeadragon does
        for y in range(0, HEIGHT, tile * s):
            for x in range(0, WIDTH, tile * s):
                w, h = min(tile * s, WIDTH - x), min(tile * s, HEIGHT - y)
                sw, sh = -(-w // s), -(-h // s)
                region = "full" if (w, h) == (WIDTH, HEIGHT) else f"{x},{y},{w},{h}"
                res = testapp.get(url(images.public, f"{region}/{sw},/0/default.jpg"))
                assert decoded(res).size == (sw, sh)
                count += 1
    assert count == 6 + 2 + 1 + 1  # the last: the one-tile level of scale factor 8
    assert cache_files(app, images.public) == []  # nothing needed computing


def test_info_json_id_follows_the_request_host(testapp, images):
    res = testapp.get(
        url(images.public, "info.json"),
        extra_environ={"HTTP_HOST": "iiif.example.org:8080", "wsgi.url_scheme": "https"},
    )
    assert res.json["id"] == f"https://iiif.example.org:8080/iiif/3/{images.public}"


def test_forwarded_host_is_not_trusted_by_the_app_itself(testapp, images):
    # X-Forwarded-* are waitress's business (trusted_proxy in the ini); the app sees Host.
    res = testapp.get(url(images.public, "info.json"), headers={"X-Forwarded-Host": "evil.example"})
    assert res.json["id"] == f"http://localhost/iiif/3/{images.public}"


PUBLIC_URL = "https://heritage.example.org/archive"


@pytest.mark.parametrize("extra_settings", [{"heritage.public_url": PUBLIC_URL + "/"}])
def test_public_url_setting_makes_the_ids(testapp, images, extra_settings):
    base = f"{PUBLIC_URL}/iiif/3/{images.public}"
    assert testapp.get(url(images.public, "info.json")).json["id"] == base
    res = testapp.get(url(images.public), status=303)
    assert res.location == f"{base}/info.json"
    res = testapp.get(url(images.public, "0,0,512,512/512,/0/default.jpg"))
    assert f'<{base}/0,0,512,512/max/0/default.jpg>;rel="canonical"' in res.headers["Link"]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, LD_JSON),
        ("application/ld+json", LD_JSON),
        (f'application/ld+json;profile="{CONTEXT}"', LD_JSON),
        ("application/json", "application/json"),
        ("application/json, application/ld+json", LD_JSON),
        ("*/*", LD_JSON),
        ("text/html", LD_JSON),
    ],
)
def test_info_json_content_negotiation(testapp, images, accept, content_type):
    headers = {"Accept": accept} if accept else {}
    res = testapp.get(url(images.public, "info.json"), headers=headers)
    assert res.headers["Content-Type"] == content_type
    assert res.json["type"] == "ImageService3"


def test_info_json_conditional_requests(testapp, images):
    res = testapp.get(url(images.public, "info.json"))
    testapp.get(url(images.public, "info.json"), headers={"If-None-Match": res.etag}, status=304)
    testapp.get(
        url(images.public, "info.json"),
        headers={"If-Modified-Since": res.headers["Last-Modified"]},
        status=304,
    )


def test_base_uri_redirects_to_info_json(testapp, images):
    res = testapp.get(url(images.public), status=303)
    assert res.location == f"http://localhost/iiif/3/{images.public}/info.json"
    assert res.headers["Access-Control-Allow-Origin"] == "*"


# -- images ---------------------------------------------------------------------------------


def test_a_tile_is_the_stored_file_with_caching_headers(testapp, app, images):
    res = testapp.get(url(images.public, "0,0,512,512/512,512/0/default.jpg"))
    stored = image_dir(app.registry.heritage, images.public) / "0,0,512,512/512,512/0/default.jpg"
    assert res.body == stored.read_bytes()
    assert res.headers["Content-Type"] == "image/jpeg"
    assert int(res.headers["Content-Length"]) == len(res.body)
    assert res.etag
    assert res.headers["Last-Modified"]
    assert res.headers["Cache-Control"] == "public, max-age=604800"
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    links = res.headers["Link"]
    base = f"http://localhost/iiif/3/{images.public}"
    assert f'<{base}/0,0,512,512/max/0/default.jpg>;rel="canonical"' in links
    assert f'<{PROFILE}>;rel="profile"' in links
    im = decoded(res)
    assert im.size == (512, 512)
    assert all(abs(a - b) < 10 for a, b in zip(im.getpixel((10, 10)), RED, strict=True))

    etag = res.headers["ETag"]
    again = testapp.get(url(images.public, "0,0,512,512/512,/0/default.jpg"))
    assert again.headers["ETag"] == etag  # the same file by another name
    not_modified = testapp.get(
        url(images.public, "0,0,512,512/512,512/0/default.jpg"),
        headers={"If-None-Match": etag},
        status=304,
    )
    assert not not_modified.body
    testapp.get(
        url(images.public, "0,0,512,512/512,512/0/default.jpg"),
        headers={"If-Modified-Since": res.headers["Last-Modified"]},
        status=304,
    )
    testapp.get(
        url(images.public, "0,0,512,512/512,512/0/default.jpg"),
        headers={"If-None-Match": '"something-else"'},
        status=200,
    )


def test_computed_images_are_cached(testapp, app, images):
    path = "full/200,/90/gray.png"
    assert cache_files(app, images.public) == []
    first = testapp.get(url(images.public, path))
    assert first.headers["Content-Type"] == "image/png"
    im = decoded(first)
    assert im.size == (138, 200) and im.mode == "L"  # rotated: 200×138 on its side
    canonical = "full/200,138/90/gray.png"
    assert f'/{images.public}/{canonical}>;rel="canonical"' in first.headers["Link"]
    (cached,) = cache_files(app, images.public)
    # below the image's folder, one per pyramid build (a rebuild starts afresh), then the path
    assert cached.relative_to(
        derivatives_root(app.registry.heritage) / "cache" / images.public
    ).parts[1:] == tuple(canonical.split("/"))
    assert cached.read_bytes() == first.body
    # the second request, in any form with the same canonical form, is the cached file
    cached.write_bytes(b"from the cache")
    second = testapp.get(url(images.public, "0,0,1300,900/200,138/90/gray.png"))
    assert second.body == b"from the cache"
    assert second.headers["Content-Length"] == str(len(b"from the cache"))
    assert second.etag and second.headers["Cache-Control"] == "public, max-age=604800"


def test_a_cached_image_keeps_its_etag(testapp, images):
    path = url(images.public, "full/200,/90/gray.png")
    testapp.get(path)  # computed and cached
    cached = testapp.get(path)
    again = testapp.get(path, headers={"If-None-Match": cached.headers["ETag"]}, status="*")
    assert (again.status_int, again.headers.get("ETag")) == (304, cached.headers["ETag"])


@pytest.mark.parametrize(
    ("path", "size", "content_type"),
    [
        ("square/max/0/default.jpg", (900, 900), "image/jpeg"),
        ("pct:50,50,50,50/max/0/default.png", (650, 450), "image/png"),
        ("600,400,100,100/^200,/0/default.jpg", (200, 200), "image/jpeg"),
        ("full/!260,260/!180/bitonal.png", (260, 180), "image/png"),
        ("full/130,/22.5/color.webp", None, "image/webp"),
        ("full/130,/0/default.tif", (130, 90), "image/tiff"),
    ],
)
def test_computed_image_forms(testapp, images, path, size, content_type):
    res = testapp.get(url(images.public, path))
    assert res.headers["Content-Type"] == content_type
    assert int(res.headers["Content-Length"]) == len(res.body)
    im = decoded(res)
    if size:
        assert im.size == size


@pytest.mark.parametrize("extra_settings", [{"heritage.x_accel_prefix": "/_tiles"}])
def test_x_accel_redirect_leaves_the_sending_to_nginx(testapp, images, extra_settings):
    res = testapp.get(url(images.public, "0,0,512,512/512,512/0/default.jpg"))
    assert res.headers["X-Accel-Redirect"] == (
        f"/_tiles/iiif/3/{images.public}/0,0,512,512/512,512/0/default.jpg"
    )
    assert res.body == b""
    res = testapp.get(url(images.public, "full/100,/0/gray.jpg"))
    redirect = res.headers["X-Accel-Redirect"]
    assert redirect.startswith(f"/_tiles/cache/{images.public}/")
    assert redirect.endswith("/full/100,69/0/gray.jpg")


# -- errors ---------------------------------------------------------------------------------

BAD_PARAMETERS = [
    ("0,0,0,0/max/0/default.jpg", "region"),
    ("1300,0,10,10/max/0/default.jpg", "region"),
    ("junk/max/0/default.jpg", "region"),
    ("full/0,/0/default.jpg", "size"),
    ("full/1301,/0/default.jpg", "size"),  # upscaling without ^
    ("full/pct:101/0/default.jpg", "size"),
    ("full/^20000,/0/default.jpg", "size"),  # beyond maxWidth
    ("full/^9000,9000/0/default.jpg", "size"),  # beyond maxArea
    ("full/max/361/default.jpg", "rotation"),
    ("full/max/-90/default.jpg", "rotation"),
    ("full/max/0/grey.jpg", "quality"),
    ("full/max/0/default", "quality"),
    ("full/max/0/default.gif", "format"),
    ("full/max/0/default.jp2", "format"),
    ("full/max/0/default.pdf", "format"),
    ("full/max/0/default.bmp", "format"),
]


def test_bad_parameters_are_400_with_a_short_reason(testapp, images):
    for path, parameter in BAD_PARAMETERS:
        res = testapp.get(url(images.public, path), status=400)
        assert res.headers["Content-Type"].startswith("text/plain"), path
        assert res.headers["Access-Control-Allow-Origin"] == "*"
        assert res.text.startswith(f"{parameter}: "), (path, res.text)
        assert len(res.text) < 300 and res.text.count("\n") == 1, path
        assert "<html" not in res.text.lower(), path


UNKNOWN_IDS = [
    "nope_1",
    "pns-ms-0001_99",
    "pns-ms-0001",
    "pns-ms-0001_",
    "_1",
    "_",
    "pns-ms-0001_1_1",
    "pns-ms-0001_0",
    "pns-ms-0001_-1",
    "pns-ms-0001_x",
    "pns-ms-0001%2F1",
    "..%2Fpns-ms-0001_1",
    "pns-ms-0001_1%2F..",
    "%2E%2E",
]


def test_unknown_ids_are_404(testapp, images):
    for image_id in UNKNOWN_IDS:
        for rest in ("info.json", "", "full/max/0/default.jpg", "0,0,512,512/512,/0/default.jpg"):
            res = testapp.get(url(image_id, rest), status=404)
            assert res.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("alias", ["01", "+1", "%201", "1%20", "%EF%BC%91"])
def test_other_spellings_of_a_file_number_are_404(testapp, images, alias):
    image_id = images.public.rpartition("_")[0] + "_" + alias
    testapp.get(url(image_id, "info.json"), status=404)


ACCESS = {
    # user: {image: status of info.json, a stored tile and a computed image}
    None: {
        "public": 200,
        "unpublished": 404,
        "staff_only": 404,
        "metadata_only": 404,
        "community": 404,
    },
    "reader": {
        "public": 200,
        "unpublished": 404,
        "staff_only": 404,
        "metadata_only": 404,
        "community": 200,
    },
    "pns-curator": {
        "public": 200,
        "unpublished": 200,
        "staff_only": 200,
        "metadata_only": 200,
        "community": 200,
    },
    "kaltim-curator": {
        "public": 200,
        "unpublished": 404,
        "staff_only": 404,
        "metadata_only": 404,
        "community": 404,
    },
    "admin": {
        "public": 200,
        "unpublished": 200,
        "staff_only": 200,
        "metadata_only": 200,
        "community": 200,
    },
}


@pytest.mark.parametrize("user", list(ACCESS))
def test_images_by_access_level(testapp, images, user):
    if user:
        login(testapp, user)
    for which, status in ACCESS[user].items():
        image_id = getattr(images, which)
        size = (WIDTH, HEIGHT) if which == "public" else (300, 200)
        for rest in (
            "info.json",
            "full/max/0/default.jpg" if which != "public" else "full/650,/0/default.jpg",
            "full/100,/!90/gray.png",
            "junk/junk/junk/junk",  # hidden: 404 before the parameters are even read
        ):
            expected = 400 if rest.startswith("junk") and status == 200 else status
            res = testapp.get(url(image_id, rest), status=expected)
            assert res.headers["Access-Control-Allow-Origin"] == "*"
            if expected == 404:  # just like an image that does not exist, never a 403
                ghost = image_id.rpartition("_")[0] + "_99"
                nothing = testapp.get(url(ghost, rest), status=404)
                assert res.text == nothing.text.replace(ghost, image_id)
                assert res.headers["Content-Type"] == nothing.headers["Content-Type"]
        testapp.get(url(image_id), status=303 if status == 200 else 404)
        if status == 200:
            info = testapp.get(url(image_id, "info.json")).json
            assert (info["width"], info["height"]) == size
            public = which == "public"
            res = testapp.get(url(image_id, "full/100,/!90/gray.png"))
            if public:
                assert res.headers["Cache-Control"] == "public, max-age=604800"
            else:  # never in a shared cache
                assert res.headers["Cache-Control"].startswith("private")
                assert "Cookie" in res.headers["Vary"]


def test_a_cached_image_is_not_given_to_those_who_may_not_see_it(app, images):
    staff = webtest.TestApp(app)
    login(staff, "pns-curator")
    staff.get(url(images.staff_only, "full/100,/0/gray.png"))
    assert cache_files(app, images.staff_only)
    anonymous = webtest.TestApp(app)
    anonymous.get(url(images.staff_only, "full/100,/0/gray.png"), status=404)
    reader = webtest.TestApp(app)
    login(reader, "reader")
    reader.get(url(images.staff_only, "full/100,/0/gray.png"), status=404)
    reader.get(url(images.community, "full/100,/0/gray.png"), status=200)


def test_metadata_only_images_are_404_even_though_the_record_is_public(testapp, images):
    item_id = images.metadata_only.rpartition("_")[0]
    testapp.get(f"/items/{item_id}", status=200)
    testapp.get(url(images.metadata_only, "info.json"), status=404)
    testapp.get(url(images.metadata_only, "full/max/0/default.jpg"), status=404)


def test_not_yet_built_is_503_with_retry_after(testapp, images):
    for rest in ("info.json", "full/max/0/default.jpg", "0,0,100,100/50,/0/default.jpg"):
        res = testapp.get(url(images.pending, rest), status=503)
        assert int(res.headers["Retry-After"]) > 0
        assert res.headers["Access-Control-Allow-Origin"] == "*"
        assert res.headers["Content-Type"].startswith("text/plain")
    testapp.get(url(images.pending), status=303)  # it exists; its info.json is not ready


NASTY = [
    "/iiif/3/x/../../etc/passwd",
    "/iiif/3/../../etc/passwd",
    "/iiif/3/%00/info.json",
    "/iiif/3/pns-ms-0001_1%00/info.json",
    "/iiif/3/pns-ms-0001_1/%00/max/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/max/0/default.jpg%00.png",
    "/iiif/3/pns-ms-0001_1/full/max/0/%00.jpg",
    "/iiif/3/..%2F..%2Fetc%2Fpasswd/info.json",
    "/iiif/3/pns-ms-0001_1/..%2F..%2F..%2Fetc/max/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/%2e%2e/%2e%2e/%2e%2e/%2e%2e",
    "/iiif/3/pns-ms-0001_1/full/max/0/..",
    "/iiif/3/pns-ms-0001_1/full/max/0/default.jpg/extra",
    "/iiif/3/pns-ms-0001_1/info.json/extra",
    "/iiif/3/pns-ms-0001_1/info.json/../info.json",
    "/iiif/3/pns-ms-0001_1//max/0/default.jpg",
    "/iiif/3//info.json",
    "/iiif/3/",
    "/iiif/3",
    "/iiif/",
    "/iiif/3/" + "a" * 5000 + "/info.json",
    "/iiif/3/pns-ms-0001_1/" + "full," * 2000 + "/max/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/max/0/" + "d" * 10000 + ".jpg",
    "/iiif/3/pns-ms-0001_1/full/max/" + "9" * 400 + "/default.jpg",
    "/iiif/3/pns-ms-0001_1/0,0," + "9" * 30 + "," + "9" * 30 + "/max/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/" + "9" * 30 + ",/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/pct:" + "9" * 400 + "/0/default.jpg",
    "/iiif/3/%E2%80%AE1_1000-sm-snp/info.json",  # right-to-left override
    "/iiif/3/%F0%9F%98%80/info.json",
    "/iiif/3/pns-ms-0001_1/full/max/0/d%C3%A9fault.jpg",
    "/iiif/3/pns-ms-0001_1/full/%D9%A1%D9%A0%D9%A0,/0/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/max/0/default.jpg?<script>alert(1)</script>",
    "/iiif/3/pns-ms-0001_1/full/max/0/%3Cscript%3E.jpg",
    "/iiif/3/pns-ms-0001_1/full/max/%0A/default.jpg",
    "/iiif/3/pns-ms-0001_1/full/max/0/default.jpg%0D%0ASet-Cookie:%20x=1",
]


def test_nasty_urls_never_500(testapp, images):
    failures = []
    for path in NASTY:
        try:
            res = testapp.get(path, status="*", expect_errors=True)
        except Exception as exc:  # an exception out of the app is a 500 too
            failures.append((path[:80], repr(exc)[:200]))
            continue
        if res.status_int >= 500 or b"Traceback" in res.body or "x=1" in str(res.headers):
            failures.append((path[:80], res.status))
    assert failures == []


@pytest.mark.parametrize(
    "path", ["/iiif/3/%FF%FE/info.json", "/iiif/3/pns-ms-0001_1/full/max/0/default.%FF"]
)
def test_paths_that_are_not_utf8_are_not_500(testapp, images, path):
    res = testapp.get(path, status="*", expect_errors=True)
    assert res.status_int in (400, 404)


@pytest.mark.parametrize(
    "path",
    [
        "full/" + "9" * 400 + ",/0/default.jpg",
        "full/^pct:" + "9" * 400 + "/0/default.jpg",
        "1" * 5000 + ",0,1,1/max/0/default.jpg",
        "pct:0,0," + "9" * 400 + ",10/max/0/default.jpg",
    ],
)
def test_huge_numbers_are_400_not_500(testapp, images, path):
    testapp.get(url(images.public, path), status=400)
