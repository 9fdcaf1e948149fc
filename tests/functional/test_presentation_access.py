"""Who sees which IIIF manifests, collections, feed entries and recordings; the manifest cache.

Over HTTP (WebTest) on conftest's ``consortium``: one public item per institution, and
pns items that are unpublished, staff-only, metadata-only and community-only (``reader``
belongs to the ``iban-elders`` community). Changes are made with ``arrange`` as a curator's
request would make them (``set_state``, ``set_access`` + ``touch``, an edit + ``touch``).
"""

from __future__ import annotations

import json
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import webtest
from support import login

from digitization.techmd import wav_duration
from heritage.manifests import ManifestCache

ANONYMOUS = None


@pytest.fixture(autouse=True)
def cache(monkeypatch) -> ManifestCache:
    """This test's own manifest cache (the module's is per process)."""
    fresh = ManifestCache()
    monkeypatch.setattr("heritage.views.iiif_presentation.manifests", fresh)
    return fresh


@pytest.fixture
def as_user(app, consortium):
    """Return a client logged in as ``username`` (anonymous for None)."""

    def make(username: str | None) -> webtest.TestApp:
        client = webtest.TestApp(app)
        if username:
            login(client, username)
        return client

    return make


def manifest_url(item_id: str) -> str:
    return f"/iiif/manifests/{item_id}"


def tree(client: webtest.TestApp) -> dict[str, set[str]]:
    """Walk /iiif/collection: collection id → the item ids of the manifests it lists."""
    found: dict[str, set[str]] = {}
    todo = ["/iiif/collection"]
    while todo:
        doc = client.get(todo.pop(0), status=200).json
        for member in doc["items"]:
            path = member["id"].removeprefix("http://localhost")
            if member["type"] == "Collection":
                todo.append(path)
            else:
                found.setdefault(doc["id"].rsplit("/", 1)[-1], set()).add(path.rsplit("/", 1)[-1])
    return found


def listed(client: webtest.TestApp) -> set[str]:
    return set().union(*tree(client).values())


def feed(client: webtest.TestApp) -> list[dict[str, Any]]:
    """Every activity of the Change Discovery feed, oldest first."""
    activities: list[dict[str, Any]] = []
    url = client.get("/iiif/discovery/changes").json["first"]["id"]
    while url:
        page = client.get(url.removeprefix("http://localhost")).json
        activities.extend(page["orderedItems"])
        url = page.get("next", {}).get("id")
    return activities


def summary(activities: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["type"], a["object"]["id"].rsplit("/", 1)[-1]) for a in activities]


def edit_title(item_id: str, title: str):
    def work(root: Any) -> None:
        item = root.items[item_id]
        item.metadata["title"] = ({"value": title, "lang": "ms"},)
        item.touch()

    return work


def hidden(consortium) -> list[str]:
    return [
        consortium.unpublished,
        consortium.staff_only,
        consortium.community,
        consortium.metadata_only,
    ]


# -- what is listed and served ----------------------------------------------------------------


def test_anonymous_sees_only_public_items(consortium, as_user):
    client = as_user(ANONYMOUS)
    assert tree(client) == {
        "pns-manuscripts": {consortium.public},
        "kaltim-naskah": {consortium.other_public},
    }
    for item_id in [*hidden(consortium), consortium.other_unpublished]:
        client.get(manifest_url(item_id), status=404)
    for item_id in (consortium.public, consortium.other_public):
        client.get(manifest_url(item_id), status=200)


def test_other_institutions_staff_see_no_hidden_pns_item(consortium, as_user):
    client = as_user("kaltim-curator")
    for item_id in hidden(consortium):
        client.get(manifest_url(item_id), status=404)
    assert listed(client) == {
        consortium.public,
        consortium.other_public,
        consortium.other_unpublished,
    }
    client.get(manifest_url(consortium.other_unpublished), status=200)  # its own item


def test_own_staff_see_their_unpublished_and_restricted_items(consortium, as_user):
    client = as_user("pns-curator")
    for item_id in hidden(consortium):
        client.get(manifest_url(item_id), status=200)
    res = client.get(manifest_url(consortium.staff_only))
    assert res.headers["Cache-Control"] == "private, max-age=60"
    assert "Cookie" in res.headers["Vary"]


def test_community_member_sees_the_community_item(consortium, as_user):
    client = as_user("reader")
    res = client.get(manifest_url(consortium.community), status=200)
    assert res.json["id"] == f"http://localhost{manifest_url(consortium.community)}"
    assert res.headers["Cache-Control"].startswith("private")
    assert tree(client)["pns-oral-history"] == {consortium.community}
    collection = client.get("/iiif/collections/pns-oral-history")
    assert collection.headers["Cache-Control"].startswith("private")
    for item_id in (consortium.unpublished, consortium.staff_only, consortium.metadata_only):
        client.get(manifest_url(item_id), status=404)
    assert "pns-oral-history" not in tree(as_user(ANONYMOUS))


def test_the_feed_never_mentions_hidden_items(consortium, as_user, arrange):
    arrange(edit_title(consortium.staff_only, "Surat Dalaman (disemak)"))
    arrange(edit_title(consortium.community, "Ensera Iban (disemak)"))
    arrange(lambda root: root.items[consortium.unpublished].set_state("qa"))
    client = as_user(ANONYMOUS)
    assert summary(feed(client)) == [
        ("Create", consortium.public),
        ("Create", consortium.other_public),
    ]
    raw = client.get("/iiif/discovery/changes/pages/0").text
    for item_id in [*hidden(consortium), consortium.other_unpublished]:
        assert item_id not in raw


# -- the feed and the tree as items change ---------------------------------------------------


def test_publishing_adds_a_create(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    before = feed(client)
    arrange(lambda root: root.items[consortium.unpublished].set_state("published"))
    after = feed(client)
    assert summary(after[len(before) :]) == [("Create", consortium.unpublished)]
    assert after[-1]["object"] == {
        "id": f"http://localhost{manifest_url(consortium.unpublished)}",
        "type": "Manifest",
    }
    assert consortium.unpublished in tree(client)["pns-manuscripts"]
    client.get(manifest_url(consortium.unpublished), status=200)


def test_each_transaction_of_edits_adds_one_update(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    before = len(feed(client))

    def two_edits(root: Any) -> None:  # one transaction, two changes: one Update
        edit_title(consortium.public, "Hikayat Pelanduk Jenaka")(root)
        edit_title(consortium.public, "Hikayat Pelanduk Jenaka (disemak)")(root)

    arrange(two_edits)
    assert summary(feed(client)[before:]) == [("Update", consortium.public)]
    # A later transaction is a later Update: an aggregator that read the feed in between
    # must learn of it.
    arrange(edit_title(consortium.public, "Hikayat Pelanduk (semakan kedua)"))
    arrange(edit_title(consortium.other_public, "Hikayat Banjar (disemak)"))
    assert summary(feed(client)[before:]) == [
        ("Update", consortium.public),
        ("Update", consortium.public),
        ("Update", consortium.other_public),
    ]


@pytest.fixture
def clock(monkeypatch):
    """Set the time the activity log records: ``clock("2030-01-01T00:00:00")``."""
    import heritage.resources.activities as activities

    class Clock(datetime):
        now_value = datetime(2030, 1, 1, tzinfo=UTC)

        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return cls.now_value

    monkeypatch.setattr(activities, "datetime", Clock)

    def set_time(iso: str) -> None:
        Clock.now_value = datetime.fromisoformat(iso).replace(tzinfo=UTC)

    return set_time


def test_an_edit_after_a_crawl_shows_up_in_the_feed(consortium, as_user, arrange, clock):
    client = as_user(ANONYMOUS)
    clock("2030-03-01T09:00:00")
    arrange(edit_title(consortium.public, "Hikayat Pelanduk Jenaka"))
    crawled_at = "2030-03-01T12:00:00Z"  # an aggregator reads the feed here
    clock("2030-03-02T09:00:00")
    arrange(edit_title(consortium.public, "Hikayat Pelanduk Jenaka (disemak)"))
    newer = [
        a
        for a in feed(client)
        if a["endTime"] > crawled_at and a["object"]["id"].endswith(consortium.public)
    ]
    assert [a["type"] for a in newer] in (["Update"], ["Create"])


def test_withdrawing_adds_a_delete_and_hides_the_item(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    before = len(feed(client))
    arrange(lambda root: root.items[consortium.public].set_state("withdrawn"))
    assert summary(feed(client)[before:]) == [("Delete", consortium.public)]
    assert consortium.public not in listed(client)
    client.get(manifest_url(consortium.public), status=404)
    arrange(lambda root: root.items[consortium.public].set_state("published"))
    assert summary(feed(client)[before:]) == [
        ("Delete", consortium.public),
        ("Create", consortium.public),
    ]
    assert consortium.public in listed(client)


def test_restricting_adds_a_delete_and_hides_the_item(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    before = len(feed(client))

    def restrict(root: Any) -> None:
        item = root.items[consortium.other_public]
        item.set_access("staff")
        item.touch()

    arrange(restrict)
    assert summary(feed(client)[before:]) == [("Delete", consortium.other_public)]
    assert consortium.other_public not in listed(client)
    client.get(manifest_url(consortium.other_public), status=404)
    arrange(edit_title(consortium.other_public, "Hikayat Banjar (dalaman)"))  # still hidden
    assert len(feed(client)) == before + 1


# -- the manifest cache ---------------------------------------------------------------------


def test_an_edit_makes_a_new_manifest(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    first = client.get(manifest_url(consortium.public))
    assert first.json["label"]["ms"] == ["Hikayat Pelanduk"]
    arrange(edit_title(consortium.public, "Hikayat Pelanduk Jenaka"))
    second = client.get(manifest_url(consortium.public))
    assert second.json["label"] == {"ms": ["Hikayat Pelanduk Jenaka"]}
    assert second.etag != first.etag
    client.get(
        manifest_url(consortium.public),
        headers={"If-None-Match": first.headers["ETag"]},
        status=200,
    )


def test_without_an_edit_the_cached_bytes_are_served(consortium, as_user, monkeypatch):
    import heritage.manifests

    builds = []
    real = heritage.manifests.build_manifest
    monkeypatch.setattr(
        heritage.manifests, "build_manifest", lambda data: builds.append(data.id) or real(data)
    )
    client = as_user(ANONYMOUS)
    first = client.get(manifest_url(consortium.public))
    for _ in range(3):
        again = client.get(manifest_url(consortium.public))
        assert again.body == first.body and again.etag == first.etag
    client.get(manifest_url(consortium.other_public))
    assert builds == [
        f"http://localhost{manifest_url(consortium.public)}",
        f"http://localhost{manifest_url(consortium.other_public)}",
    ]


def test_renaming_the_collection_updates_its_manifests(consortium, as_user, arrange):
    client = as_user(ANONYMOUS)
    assert client.get(manifest_url(consortium.public)).json["partOf"][0]["label"]["en"] == [
        "Manuscripts"
    ]

    def rename(root: Any) -> None:
        root.institutions["pns"].collections["pns-manuscripts"].title["en"] = "Malay manuscripts"

    arrange(rename)
    collection = client.get("/iiif/collections/pns-manuscripts").json
    assert collection["label"]["en"] == ["Malay manuscripts"]
    manifest = client.get(manifest_url(consortium.public)).json
    assert manifest["partOf"][0]["label"]["en"] == ["Malay manuscripts"]


# -- audio ------------------------------------------------------------------------------------


def make_wav(path: Path, seconds: float = 2.0, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(range(256)) * int(rate * seconds * 2 / 256))
    return path


@pytest.fixture
def recording(consortium, arrange, tmp_path) -> dict[str, Any]:
    """A WAV added to the public item (tmp_path shares the blob directory's filesystem)."""
    path = make_wav(tmp_path / "talk.wav")
    data = path.read_bytes()
    duration = wav_duration(path)  # as ingest records it

    def add(root: Any) -> str:
        f = root.items[consortium.public].add_file(path, "talk.wav")
        assert f.mimetype.startswith("audio/") and f.is_audio  # guessed from ".wav"
        f.techmd["duration"] = duration
        f.__parent__.files.refresh(f)  # the facts a manifest reads changed
        return f.__name__

    name = arrange(add)
    return {"name": name, "data": data, "duration": duration, "item": consortium.public}


def test_audio_has_a_sound_canvas_with_its_duration(recording, as_user):
    manifest = as_user(ANONYMOUS).get(manifest_url(recording["item"])).json
    (canvas,) = manifest["items"]
    assert canvas["duration"] == recording["duration"] == 2.0
    assert "width" not in canvas and "height" not in canvas
    (page,) = canvas["items"]
    (annotation,) = page["items"]
    body = annotation["body"]
    assert body["type"] == "Sound"
    assert body["format"].startswith("audio/")
    assert body["duration"] == recording["duration"]
    assert body["id"] == f"http://localhost/iiif/media/{recording['item']}/{recording['name']}"
    assert "thumbnail" not in manifest  # nothing to show: no image


def test_media_supports_range_requests(recording, as_user):
    client = as_user(ANONYMOUS)
    url = f"/iiif/media/{recording['item']}/{recording['name']}"
    data = recording["data"]
    whole = client.get(url, status=200)
    assert whole.body == data
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.content_type.startswith("audio/")
    assert whole.headers["Access-Control-Allow-Origin"] == "*"
    part = client.get(url, headers={"Range": "bytes=0-99"}, status=206)
    assert part.body == data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert part.headers["Content-Length"] == "100"
    tail = client.get(url, headers={"Range": "bytes=-10"}, status=206)
    assert tail.body == data[-10:]
    middle = client.get(url, headers={"Range": f"bytes=1000-{len(data) + 50}"}, status=206)
    assert middle.body == data[1000:]
    client.get(url, headers={"Range": f"bytes={len(data) + 10}-"}, status=416)
    client.get(f"/iiif/media/{recording['item']}/999", status=404)


@pytest.mark.parametrize(
    "restrict",
    [
        ("set_access", "metadata-only"),
        ("set_access", "staff"),
        ("set_access", "community", "iban-elders"),
        ("set_state", "withdrawn"),
    ],
    ids=lambda r: "-".join(r[1:]),
)
def test_media_of_a_restricted_item_is_404(recording, arrange, as_user, restrict):
    method, *args = restrict

    def work(root: Any) -> None:
        item = root.items[recording["item"]]
        getattr(item, method)(*args)
        item.touch()

    arrange(work)
    url = f"/iiif/media/{recording['item']}/{recording['name']}"
    anonymous = as_user(ANONYMOUS)
    anonymous.get(url, status=404)
    anonymous.get(url, headers={"Range": "bytes=0-99"}, status=404)
    anonymous.get(manifest_url(recording["item"]), status=404)
    as_user("kaltim-curator").get(url, status=404)
    as_user("pns-curator").get(url, status=200)
    if args == ["community", "iban-elders"]:
        reader = as_user("reader")
        part = reader.get(url, headers={"Range": "bytes=0-99"}, status=206)
        assert part.body == recording["data"][:100]
        assert part.headers["Cache-Control"].startswith("private")


def test_manifest_json_is_the_same_for_every_viewer(recording, as_user):
    """The cache is shared by all users: nothing in a manifest depends on who asks."""
    anonymous = as_user(ANONYMOUS).get(manifest_url(recording["item"]))
    curator = as_user("pns-curator").get(manifest_url(recording["item"]))
    assert json.loads(anonymous.body) == json.loads(curator.body)


def test_a_pdf_transcript_is_a_rendering_of_the_manifest(consortium, as_user, arrange, tmp_path):
    """A transcript or translation is offered as a `rendering`, served beside the item."""
    from PIL import Image

    from digitization.formats import Identifier

    pdf = tmp_path / "transcript.pdf"
    Image.new("RGB", (200, 280), "white").save(pdf)
    assert Identifier().identify(pdf, exiftool_mime="application/pdf").kind == "document"
    original = pdf.read_bytes()  # the item's blob takes the staged file over

    def add(root: Any) -> str:
        f = root.items[consortium.public].add_file(pdf, "transcript.pdf")
        f.label = {"en": "Transcript", "ms": "Transkrip"}
        return f.__name__

    name = arrange(add)
    client = as_user(ANONYMOUS)
    manifest = client.get(manifest_url(consortium.public)).json
    (rendering,) = manifest["rendering"]
    assert rendering["type"] == "Text" and rendering["format"] == "application/pdf"
    assert rendering["label"] == {"en": ["Transcript"], "ms": ["Transkrip"]}
    assert all(c["id"] != rendering["id"] for c in manifest["items"])  # not a canvas
    served = client.get(rendering["id"])
    assert served.content_type == "application/pdf" and served.body == original
    hidden = as_user(ANONYMOUS)
    hidden.get(f"/iiif/media/{consortium.staff_only}/{name}", status=404)
