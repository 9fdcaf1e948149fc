"""IIIF Presentation 3 and Change Discovery 1.0 conformance of the SAMPLE site, over HTTP.

The sample consortium (``heritage.sample_data``) is loaded once per module through the real
application (``heritage.main`` over a FileStorage with blobs, conftest's ``Arranger``), and
the worker builds every pyramid in this process; each test then gets its own copy of that
storage under conftest's ``settings`` (so conftest's ``app``, ``db``, ``arrange`` and
``testapp`` work on it as on any other), and nothing one test changes is seen by another.

Every collection and manifest reachable from ``/iiif/collection`` by an anonymous client is
validated against the official JSON Schema (``../shared/specs/iiif/iiif_3_0.json``, one
class at a time for readable errors) and iiif-prezi3's models (a round trip through the
model must give the document back unchanged: the models coerce what they do not reject).
Change Discovery has no official schema; its documents are compared with the shapes of the
spec's own examples (``../shared/specs/iiif/discovery-1.0/``). Without ``../shared/specs``
those tests skip, saying why, unless the environment variable ``CI`` is set: then they fail.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import shutil
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import iiif_prezi3
import pytest
import webtest
from argon2 import PasswordHasher
from jsonschema import Draft7Validator
from support import SPECS, Arranger, make_item

from digitization.techmd import wav_duration
from heritage import main
from heritage.manifests import ManifestCache
from heritage.resources import users
from heritage.sample_data import ITEMS, load_sample_data
from heritage.worker import run_worker
from iiif.presentation.manifest import MEDIA_TYPE
from workflows.states import PUBLISHED

SCHEMA = SPECS / "iiif" / "iiif_3_0.json"
DISCOVERY = SPECS / "iiif" / "discovery-1.0"
DISCOVERY_CONTEXT = "http://iiif.io/api/discovery/1/context.json"
HOST, SCHEME = "iiif.example.net:8443", "https"
BASE = f"{SCHEME}://{HOST}"
PUBLIC_URL = "https://heritage.example.org/archive"
#: The schema's own pattern for ``rights`` (../shared/specs/README.md).
RIGHTS_RE = re.compile(
    r"^http://(creativecommons\.org/licenses/|creativecommons\.org/publicdomain/"
    r"|rightsstatements\.org/vocab/).+"
)
#: A language map key: a BCP 47 tag (as the schema's pattern allows) or ``none``.
LANG_KEY_RE = re.compile(r"^(none|[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*)$")
#: The spec's example of each activity we publish (a Delete is shaped as a Create is).
ACTIVITY_EXAMPLES = {
    "Create": "activity-level2-create",
    "Update": "activity-level1-update",
    "Delete": "activity-level2-create",
}
#: Where a ``value`` is a language map: metadata entries and the required statement.
LANG_VALUE_AT = re.compile(r"(/metadata/\d+|/requiredStatement)$")
END_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MANIFEST_ID_RE = re.compile(r"/iiif/manifests/([a-z0-9-]+)$")

PUBLIC_ITEMS = {
    spec["id"]: spec
    for spec in ITEMS
    if spec["state"] == PUBLISHED and spec["access"] == "public" and spec["pages"]
}
HIDDEN_ITEMS = {spec["id"] for spec in ITEMS} - set(PUBLIC_ITEMS)
JAWI_ITEMS = {
    i for i, spec in PUBLIC_ITEMS.items() if "ms-Arab" in spec["metadata"].get("language", ())
}
MULTI_PAGE = {
    i
    for i, spec in PUBLIC_ITEMS.items()
    if isinstance(spec["pages"], tuple) and spec["pages"][0] > 1
}


def require_specs(path: Path) -> Path:
    """Return ``path``; skip (fail under CI) if ../shared/specs is not there."""
    if not path.exists():
        message = f"{path} is absent: ../shared/specs (the official schemas) is not checked out"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so this is a failure, not a skip")
        pytest.skip(message)
    return path


# -- the sample site ----------------------------------------------------------------------


def _storage_paths(settings: dict[str, str]) -> tuple[Path, Path, Path]:
    """Return (Data.fs, blob dir, var dir) of settings shaped like conftest's."""
    uri = urlsplit(settings["zodbconn.uri"])
    blobs = parse_qs(uri.query)["blobstorage_dir"][0]
    return Path(uri.path), Path(blobs), Path(settings["heritage.var_dir"])


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build the sample site once: sample data loaded, every pyramid built. Its settings."""
    folder = tmp_path_factory.mktemp("sample-site")
    settings = {
        "zodbconn.uri": f"file://{folder}/Data.fs?blobstorage_dir={folder}/blobs",
        "heritage.var_dir": str(folder / "var"),
        "heritage.audit_interval": "0",  # the worker run below builds pyramids only
        "heritage.pack_interval": "0",
    }
    with pytest.MonkeyPatch.context() as mp:  # ~15 argon2 hashes at full cost: not the subject
        mp.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        application = main({}, **settings)
        db = application.registry._zodb_databases[""]
        try:
            made = Arranger(db)(
                lambda root: load_sample_data(root, folder / "staging", log=lambda _: None)
            )
            built = run_worker(db, application.registry.heritage, processes=0, once=True)
            assert built == made["files"] > 0
        finally:
            db.close()
    return settings


@pytest.fixture
def extra_settings() -> dict[str, str]:
    return {}


@pytest.fixture
def settings(
    settings: dict[str, str], sample_site: dict[str, str], extra_settings: dict[str, str]
) -> dict[str, str]:
    """conftest's settings over a fresh copy of the sample site's storage and derivatives."""
    for source, target in zip(_storage_paths(sample_site), _storage_paths(settings), strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return {**settings, **extra_settings}


@pytest.fixture(autouse=True)
def fresh_manifest_cache(monkeypatch: pytest.MonkeyPatch) -> ManifestCache:
    """Each test's copy has the same serials as the others: give each its own cache."""
    cache = ManifestCache()
    monkeypatch.setattr("heritage.views.iiif_presentation.manifests", cache)
    return cache


@pytest.fixture
def client(app: Any) -> webtest.TestApp:
    """An anonymous client that reaches the site as ``BASE``."""
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST, "wsgi.url_scheme": SCHEME})


# -- validators ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_validators() -> dict[str, Draft7Validator]:
    schema = json.loads(require_specs(SCHEMA).read_text(encoding="utf-8"))
    return {
        kind: Draft7Validator({**schema, "oneOf": [{"$ref": f"#/classes/{kind.lower()}"}]})
        for kind in ("Manifest", "Collection")
    }


def schema_errors(validators: dict[str, Draft7Validator], doc: dict[str, Any]) -> list[str]:
    """Readable errors: the innermost failures under each, with where they are."""

    def leaves(error: Any) -> Iterator[Any]:
        if not error.context:
            yield error
        for sub in error.context:
            yield from leaves(sub)

    found = {
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}"
        for error in validators[doc["type"]].iter_errors(doc)
        for e in leaves(error)
    }
    return sorted(found)


def model_round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the document as iiif-prezi3's model gives it back (raises if rejected)."""
    model = getattr(iiif_prezi3, doc["type"])(**doc)
    return json.loads(model.json())


def differences(ours: Any, theirs: Any, path: str = "") -> Iterator[str]:
    """Yield where ``theirs`` differs from ``ours``.

    One difference is iiif-prezi3's, not ours: it reads a Canvas reference in a Range
    (``{"id", "type": "Canvas"}``, as in the spec's examples) as a Canvas and writes it back
    with ``"items": []``.
    """
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in ours.keys() | theirs.keys():
            if key not in ours and key == "items" and theirs[key] == []:
                continue
            if key not in ours or key not in theirs:
                was, now = ours.get(key, "(absent)"), theirs.get(key, "(absent)")
                yield f"{path}/{key}: {was!r} → {now!r}"
            else:
                yield from differences(ours[key], theirs[key], f"{path}/{key}")
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for n, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            yield from differences(a, b, f"{path}/{n}")
    elif ours != theirs or type(ours) is not type(theirs):
        yield f"{path}: {ours!r} → {theirs!r}"


def assert_valid(validators: dict[str, Draft7Validator], doc: dict[str, Any]) -> None:
    """Valid against the IIIF schema, and iiif-prezi3's models take it as it is."""
    assert doc["type"] in ("Manifest", "Collection"), doc.get("type")
    errors = schema_errors(validators, doc)
    assert not errors, f"{doc['id']} fails the IIIF schema:\n" + "\n".join(errors)
    changed = list(differences(doc, model_round_trip(doc)))
    assert not changed, f"iiif-prezi3 changed {doc['id']}:\n" + "\n".join(changed[:20])


# -- walking the tree ---------------------------------------------------------------------


@dataclass
class Site:
    base: str
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)  # member id → collection that lists it
    responses: dict[str, webtest.TestResponse] = field(default_factory=dict)

    def local(self, url: str) -> str:
        assert url.startswith(self.base + "/"), f"{url} is not under {self.base}/"
        return url[len(self.base) :]

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return {**self.collections, **self.manifests}

    @property
    def item_ids(self) -> set[str]:
        return {MANIFEST_ID_RE.search(m).group(1) for m in self.manifests}


def walk(client: webtest.TestApp, base: str, *, manifests: bool = True) -> Site:
    """Fetch every collection (and manifest) reachable from the top collection."""
    site = Site(base)
    todo = [f"{base}/iiif/collection"]
    while todo:
        url = todo.pop(0)
        res = client.get(site.local(url), status=200)
        doc = json.loads(res.body)
        assert doc["id"] == url, "a document's id is the URL it was fetched from"
        site.responses[url] = res
        if doc["type"] == "Manifest":
            site.manifests[url] = doc
            continue
        assert doc["type"] == "Collection", doc["type"]
        site.collections[url] = doc
        for member in doc["items"]:
            assert member["id"] not in site.parent, f"{member['id']} is listed twice"
            site.parent[member["id"]] = url
            if member["type"] == "Collection" or manifests:
                todo.append(member["id"])
    return site


@pytest.fixture
def site(client: webtest.TestApp) -> Site:
    return walk(client, BASE)


def values(doc: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Yield (path, key, value) for every key of every object in ``doc``."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield path, key, value
            yield from values(value, f"{path}/{key}")
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield from values(value, f"{path}/{n}")


def canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return manifest["items"]


def bodies(canvas: dict[str, Any]) -> list[dict[str, Any]]:
    return [anno["body"] for page in canvas["items"] for anno in page["items"]]


# -- the tree -----------------------------------------------------------------------------


def test_every_collection_and_manifest_validates(site, schema_validators):
    assert len(site.collections) == 1 + 3 + 6  # top, institutions, collections
    assert site.item_ids == set(PUBLIC_ITEMS)
    for doc in site.documents.values():
        assert_valid(schema_validators, doc)


def test_hidden_items_are_nowhere_in_the_tree(site, client):
    text = "\n".join(r.text for r in site.responses.values())
    for item_id in HIDDEN_ITEMS:
        assert item_id not in text
        client.get(f"/iiif/manifests/{item_id}", status=404)


def test_members_match_what_they_point_at(site):
    """A member's type and label are the target's; each document's partOf is its lister."""
    for member_id, parent in site.parent.items():
        target = site.documents[member_id]
        member = next(m for m in site.collections[parent]["items"] if m["id"] == member_id)
        assert (member["type"], member["label"]) == (target["type"], target["label"])
        assert parent in [p["id"] for p in target["partOf"]], member_id
    top = site.collections[f"{BASE}/iiif/collection"]
    assert "partOf" not in top


def test_ids_are_absolute_and_under_the_request_host(site):
    for url, doc in site.documents.items():
        for path, key, value in values(doc):
            if key in ("id", "target") and isinstance(value, str):
                assert value.startswith(f"{BASE}/"), f"{url}{path}/{key} = {value}"


def test_language_maps_everywhere(site):
    for url, doc in site.documents.items():
        checked = 0
        for path, key, value in values(doc):
            if key in ("label", "summary") or (key == "value" and LANG_VALUE_AT.search(path)):
                where = f"{url}{path}/{key}"
                assert isinstance(value, dict) and value, f"{where} is not a language map"
                for lang, texts in value.items():
                    assert LANG_KEY_RE.match(lang), f"{where}: {lang!r} is no language tag"
                    assert isinstance(texts, list) and texts, f"{where}[{lang}]"
                    assert all(isinstance(t, str) and t.strip() for t in texts), where
                checked += 1
        assert checked, url
    for manifest in site.manifests.values():  # the walk above did reach these
        for entry in [*manifest["metadata"], manifest["requiredStatement"]]:
            assert isinstance(entry["label"], dict) and isinstance(entry["value"], dict)


def test_every_image_has_an_image_service3_whose_info_json_answers(site, client):
    seen = 0
    for manifest in site.manifests.values():
        for canvas in canvases(manifest):
            for body in bodies(canvas):
                assert body["type"] == "Image", body
                services = [s for s in body["service"] if s["type"] == "ImageService3"]
                assert len(services) == 1, body
                service = services[0]
                assert service["profile"] in ("level0", "level1", "level2")
                info_res = client.get(site.local(service["id"]) + "/info.json", status=200)
                info = json.loads(info_res.body)
                assert info["id"] == service["id"]
                assert info["type"] == "ImageService3"
                assert (info["width"], info["height"]) == (body["width"], body["height"])
                image = client.get(site.local(body["id"]), status=200)
                assert image.content_type == body["format"] == "image/jpeg"
                for thumb in canvas["thumbnail"]:
                    client.get(site.local(thumb["id"]), status=200)
                    assert thumb["service"][0]["id"] == service["id"]
                seen += 1
    assert seen == sum(
        1 if PUBLIC_ITEMS[i]["pages"] == "photo" else PUBLIC_ITEMS[i]["pages"][0]
        for i in PUBLIC_ITEMS
    )


def test_canvases_have_dimensions_or_duration(site):
    for manifest in site.manifests.values():
        assert canvases(manifest), manifest["id"]
        ids = [c["id"] for c in canvases(manifest)]
        assert len(set(ids)) == len(ids)
        for canvas in canvases(manifest):
            kinds = {b["type"] for b in bodies(canvas)}
            if kinds == {"Image"}:
                assert isinstance(canvas["width"], int) and canvas["width"] > 0
                assert isinstance(canvas["height"], int) and canvas["height"] > 0
                for body in bodies(canvas):
                    assert (body["width"], body["height"]) == (canvas["width"], canvas["height"])
            else:
                assert kinds == {"Sound"}, kinds
                assert canvas["duration"] > 0
            for page in canvas["items"]:
                for anno in page["items"]:
                    assert anno["motivation"] == "painting"
                    assert anno["target"] == canvas["id"]


def test_jawi_manuscripts_read_right_to_left(site):
    assert "pns-ms-0001" in JAWI_ITEMS
    for url, manifest in site.manifests.items():
        item_id = MANIFEST_ID_RE.search(url).group(1)
        expected = "right-to-left" if item_id in JAWI_ITEMS else "left-to-right"
        assert manifest["viewingDirection"] == expected, item_id


def test_multi_page_manuscripts_are_paged(site):
    assert {"pns-ms-0001", "kaltim-ms-0001", "sabahlib-fl-0001"} <= MULTI_PAGE
    for url, manifest in site.manifests.items():
        item_id = MANIFEST_ID_RE.search(url).group(1)
        if item_id in MULTI_PAGE:
            assert manifest["behavior"] == ["paged"], item_id
            assert len(canvases(manifest)) == PUBLIC_ITEMS[item_id]["pages"][0]
        else:
            assert manifest["behavior"] == ["individuals"], item_id


def test_descriptive_and_linking_properties(site, client):
    for url, manifest in site.manifests.items():
        item_id = MANIFEST_ID_RE.search(url).group(1)
        spec = PUBLIC_ITEMS[item_id]
        assert RIGHTS_RE.match(manifest["rights"]) and manifest["rights"] == spec["rights"]
        statement = manifest["requiredStatement"]
        assert statement["label"]["en"] and statement["value"]
        (provider,) = manifest["provider"]
        assert provider["type"] == "Agent" and provider["label"]
        assert provider["homepage"] and all(h["type"] == "Text" for h in provider["homepage"])
        for link in (*provider["homepage"], *manifest["homepage"]):
            assert link["format"] == "text/html"
            assert client.get(site.local(link["id"]), status=200).content_type == "text/html"
        (homepage,) = manifest["homepage"]
        assert homepage["id"] == f"{BASE}/items/{item_id}"
        assert manifest["thumbnail"] == canvases(manifest)[0]["thumbnail"]
        for see in manifest["seeAlso"]:
            assert see["type"] == "Dataset"
            record = client.get(site.local(see["id"]), status=200)
            assert record.content_type == see["format"]
        assert [p["id"] for p in manifest["partOf"]] == [site.parent[url]]
        assert manifest["partOf"][0]["id"].endswith(f"/iiif/collections/{spec['collection']}")
        assert manifest["start"]["type"] == "Canvas"
        assert manifest["start"]["id"] in [c["id"] for c in canvases(manifest)]
        assert manifest["label"] and manifest["summary"] and manifest["metadata"]


def test_sections_appear_as_structures(client, arrange, schema_validators):
    item_id = "pns-ms-0001"

    def add_sections(root: Any) -> None:
        item = root.items[item_id]
        item.sections = (
            {"label": {"en": "Chapter 1", "ms": "Bab 1"}, "files": ("1", "2")},
            {"label": {"en": "Chapter 2"}, "files": ("3", "4", "99")},  # 99: no such file
        )
        item.touch()

    url = f"/iiif/manifests/{item_id}"
    assert "structures" not in client.get(url).json
    arrange(add_sections)
    manifest = json.loads(client.get(url).body)
    assert_valid(schema_validators, manifest)
    canvas_ids = [c["id"] for c in canvases(manifest)]
    (toc,) = manifest["structures"]
    assert toc["type"] == "Range" and toc["label"]
    chapter1, chapter2 = toc["items"]
    assert chapter1["type"] == "Range"
    assert chapter1["label"] == {"en": ["Chapter 1"], "ms": ["Bab 1"]}
    assert chapter1["items"] == [{"id": i, "type": "Canvas"} for i in canvas_ids[0:2]]
    assert chapter2["items"] == [{"id": i, "type": "Canvas"} for i in canvas_ids[2:4]]
    assert len({toc["id"], chapter1["id"], chapter2["id"]}) == 3


def _add_wav(tmp_path: Path, seconds: float, name: str = "talk.wav") -> Path:
    path = tmp_path / name
    rate = 8000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(rate * seconds))
    return path


def test_an_audio_canvas_validates(client, arrange, tmp_path, schema_validators):
    item_id = "pns-oh-0002"
    path = _add_wav(tmp_path, 1.5)
    duration = wav_duration(path)  # as ingest records it

    def add(root: Any) -> str:
        f = root.items[item_id].add_file(path, "talk.wav")
        f.techmd["duration"] = duration
        f.__parent__.files.refresh(f)  # the facts a manifest reads changed
        return f.__name__

    name = arrange(add)
    manifest = json.loads(client.get(f"/iiif/manifests/{item_id}").body)
    assert_valid(schema_validators, manifest)
    sound = canvases(manifest)[-1]
    assert sound["duration"] == 1.5 and "width" not in sound
    (body,) = bodies(sound)
    assert body["type"] == "Sound" and body["format"].startswith("audio/")
    assert body["id"] == f"{BASE}/iiif/media/{item_id}/{name}"


def test_an_audio_file_of_unknown_duration_leaves_the_manifest_valid(
    client, arrange, tmp_path, schema_validators
):
    item_id = "pns-oh-0002"
    path = _add_wav(tmp_path, 1.0)
    arrange(lambda root: root.items[item_id].add_file(path, "talk.wav"))
    manifest = json.loads(client.get(f"/iiif/manifests/{item_id}").body)
    assert_valid(schema_validators, manifest)


def test_a_collection_past_its_page_size_is_split_into_valid_sub_collections(
    client, arrange, monkeypatch, schema_validators
):
    monkeypatch.setattr("heritage.views.iiif_presentation.PAGE_SIZE", 2)
    collection_id = "sabahlib-photographs"

    def add(root: Any) -> None:
        collection = root.institutions["sabahlib"].collections[collection_id]
        for n in range(3, 6):
            collection.add_item(make_item(f"sabahlib-ph-{n:04d}", f"Gambar {n}"))

    arrange(add)
    site = walk(client, BASE, manifests=False)
    for doc in site.collections.values():
        assert_valid(schema_validators, doc)
    base = f"{BASE}/iiif/collections/{collection_id}"
    pages = site.collections[base]["items"]
    assert [p["id"] for p in pages] == [f"{base}?page=0", f"{base}?page=1"]
    assert all(p["type"] == "Collection" for p in pages)
    listed = [m["id"] for p in pages for m in site.collections[p["id"]]["items"]]
    assert listed == [
        f"{BASE}/iiif/manifests/sabahlib-ph-{n:04d}" for n in (1, 3, 4, 5)
    ]  # sabahlib-ph-0002 is being captured: hidden
    client.get(f"/iiif/collections/{collection_id}?page=2", status=404)
    client.get(f"/iiif/collections/{collection_id}?page=x", status=404)


# -- HTTP ---------------------------------------------------------------------------------


def test_content_types_and_cors(site, client):
    for url, res in site.responses.items():
        assert res.headers["Content-Type"] == MEDIA_TYPE, url
        assert res.headers["Access-Control-Allow-Origin"] == "*", url
    for path in ("/iiif/discovery/changes", "/iiif/discovery/changes/pages/0"):
        res = client.get(path, status=200)
        assert res.content_type == "application/ld+json"
        assert res.headers["Access-Control-Allow-Origin"] == "*"
    manifest = next(iter(site.manifests))
    res = client.get(site.local(manifest), headers={"Accept": "application/json"})
    assert res.content_type == "application/json"  # for clients that ask for plain JSON
    assert res.body == site.responses[manifest].body


def test_manifest_etag_and_304(site, client):
    url = site.local(f"{BASE}/iiif/manifests/pns-ms-0001")
    first = client.get(url, status=200)
    assert first.etag
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]}, status=304)
    assert again.body == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}, status=200).body == first.body
    collection = site.local(f"{BASE}/iiif/collection")
    etag = client.get(collection).headers["ETag"]
    client.get(collection, headers={"If-None-Match": etag}, status=304)


def test_manifest_last_modified_is_an_http_date(client):
    res = client.get("/iiif/manifests/pns-ms-0001", status=200)
    assert email.utils.parsedate_to_datetime(res.headers["Last-Modified"]).tzinfo is not None


def test_content_negotiated_responses_vary_on_accept(client):
    res = client.get("/iiif/manifests/pns-ms-0001", headers={"Accept": "application/json"})
    assert "accept" in res.headers.get("Vary", "").lower()


@pytest.mark.parametrize("extra_settings", [{"heritage.public_url": PUBLIC_URL + "/"}])
def test_public_url_setting_makes_every_id_use_it(app, schema_validators):
    # The proxy strips /archive; the application sees /iiif/... on an internal host.
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "10.0.0.7:6543"})
    site = walk(client, PUBLIC_URL)
    assert site.item_ids == set(PUBLIC_ITEMS)
    for url, doc in site.documents.items():
        assert_valid(schema_validators, doc)
        for path, key, value in values(doc):
            if key in ("id", "target") and isinstance(value, str):
                assert value.startswith(PUBLIC_URL + "/"), f"{url}{path}/{key} = {value}"
    service = canvases(site.manifests[f"{PUBLIC_URL}/iiif/manifests/pns-ms-0001"])[0]
    service_id = bodies(service)[0]["service"][0]["id"]
    assert client.get(site.local(service_id) + "/info.json").json["id"] == service_id
    feed = client.get("/iiif/discovery/changes").json
    assert feed["id"] == f"{PUBLIC_URL}/iiif/discovery/changes"
    page = client.get(site.local(feed["first"]["id"])).json
    assert {a["object"]["id"] for a in page["orderedItems"]} == set(site.manifests)


# -- Change Discovery 1.0 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    folder = require_specs(DISCOVERY)
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}


def kinds(doc: Any) -> Any:
    """The JSON types of a document's values, recursively (lists by their first member)."""
    if isinstance(doc, dict):
        return {k: kinds(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [kinds(doc[0])] if doc else []
    return type(doc).__name__


def assert_shaped_like(ours: dict[str, Any], example: dict[str, Any], required: set[str]) -> None:
    """``ours`` has the required keys and no key the example lacks, with the same types."""
    assert required <= set(ours), f"missing {required - set(ours)}"
    assert set(ours) <= set(example), f"keys the spec's example lacks: {set(ours) - set(example)}"
    for key in ours:
        if isinstance(example[key], dict) and isinstance(ours[key], dict):
            assert set(ours[key]) <= set(example[key]), key
            assert {k: kinds(ours[key][k]) for k in ours[key]} == {
                k: kinds(example[key][k]) for k in ours[key]
            }, key
        else:
            assert type(ours[key]) is type(example[key]), key


def read_feed(client: webtest.TestApp, base: str = BASE) -> tuple[dict, list[dict]]:
    collection = client.get("/iiif/discovery/changes", status=200).json
    pages = []
    url = collection["first"]["id"]
    while url:
        assert url.startswith(base + "/")
        page = client.get(url[len(base) :], status=200).json
        pages.append(page)
        url = page.get("next", {}).get("id")
    return collection, pages


def test_change_discovery_feed_is_shaped_like_the_spec_examples(
    client, site, examples, monkeypatch
):
    monkeypatch.setattr("heritage.resources.activities.PAGE_SIZE", 2)  # six activities: 3 pages
    collection, pages = read_feed(client)
    assert_shaped_like(
        collection,
        examples["ordered-collection-complete_section-3.1"],
        {"@context", "id", "type", "first", "last"},
    )
    assert collection["@context"] == DISCOVERY_CONTEXT
    assert (collection["id"], collection["type"]) == (
        f"{BASE}/iiif/discovery/changes",
        "OrderedCollection",
    )
    assert len(pages) == 3
    assert collection["first"] == {"id": pages[0]["id"], "type": "OrderedCollectionPage"}
    assert collection["last"] == {"id": pages[-1]["id"], "type": "OrderedCollectionPage"}
    activities = []
    for n, page in enumerate(pages):
        required = {"@context", "id", "type", "partOf", "orderedItems"}
        required |= {"prev"} if n > 0 else set()
        required |= {"next"} if n < len(pages) - 1 else set()
        assert_shaped_like(page, examples["ordered-collection-page-complete_section-3.2"], required)
        assert page["type"] == "OrderedCollectionPage"
        assert page["@context"] == DISCOVERY_CONTEXT
        assert page["partOf"] == {"id": collection["id"], "type": "OrderedCollection"}
        assert page["startIndex"] == len(activities)
        if n > 0:
            assert page["prev"] == {"id": pages[n - 1]["id"], "type": "OrderedCollectionPage"}
        else:
            assert "prev" not in page
        if n == len(pages) - 1:
            assert "next" not in page
        activities.extend(page["orderedItems"])
    assert collection["totalItems"] == len(activities) == len(PUBLIC_ITEMS)
    for activity in activities:
        example = examples[ACTIVITY_EXAMPLES[activity["type"]]]
        assert_shaped_like(activity, example, {"type", "object", "endTime"})
        assert activity["type"] in ("Create", "Update", "Delete")
        assert activity["object"]["type"] == "Manifest"
        assert MANIFEST_ID_RE.search(activity["object"]["id"])
        assert END_TIME_RE.match(activity["endTime"])
    assert [a["endTime"] for a in activities] == sorted(a["endTime"] for a in activities)
    assert [a["type"] for a in activities] == ["Create"] * len(PUBLIC_ITEMS)
    assert {a["object"]["id"] for a in activities} == set(site.manifests)
    client.get(f"/iiif/discovery/changes/pages/{len(pages)}", status=404)
    client.get("/iiif/discovery/changes/pages/x", status=404)
