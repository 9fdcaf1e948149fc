"""The sample consortium, loaded into a real FileStorage with blobs and committed."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
import ZODB
import ZODB.FileStorage
from PIL import Image

from heritage.evolve import bootstrap
from heritage.metadata import validate_record
from heritage.sample_data import SAMPLE_ADMIN, load_sample_data
from heritage.security import community_principal
from workflows.states import PUBLISHED, STATES


class Loaded:
    def __init__(self, root: Any, summary: dict[str, int], staging: Path, log: list[str]) -> None:
        self.root, self.summary = root, summary
        self.staging, self.log = staging, log


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """Load once for the module (argon2 hashing makes loading take a few seconds)."""
    tmp = tmp_path_factory.mktemp("sample-data")
    storage = ZODB.FileStorage.FileStorage(str(tmp / "Data.fs"), blob_dir=str(tmp / "blobs"))
    db = ZODB.DB(storage)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    root = bootstrap(conn.root())
    tm.commit()
    lines: list[str] = []
    summary = load_sample_data(root, tmp / "staging", log=lines.append)
    tm.commit()
    try:
        yield Loaded(root, summary, tmp / "staging", lines)
    finally:
        tm.abort()
        conn.close()
        db.close()


def items(loaded: Loaded) -> list[Any]:
    return list(loaded.root.items.values())


def test_counts(loaded: Loaded) -> None:
    root = loaded.root
    assert len(root.institutions) == 3
    assert len(root.collections) == 6
    assert 10 <= len(root.items) <= 14
    assert loaded.summary == {
        "institutions": 3,
        "collections": 6,
        "items": len(root.items),
        "files": sum(len(item.files) for item in items(loaded)),
        "users": len(root.users),
    }


def test_institutions_and_collections(loaded: Loaded) -> None:
    root = loaded.root
    assert {inst.country for inst in root.institutions.values()} <= {"MY", "ID", "BN"}
    for inst in root.institutions.values():
        assert inst.name and inst.__name__.islower()
        assert len(inst.collections) == 2
        for collection_id, collection in inst.collections.items():
            assert collection_id.startswith(inst.__name__ + "-")
            assert root.collections[collection_id] is collection
            assert "en" in collection.title and len(collection.title) >= 2


def test_items_have_valid_multilingual_metadata(loaded: Loaded) -> None:
    for item in items(loaded):
        record = {k: list(v) for k, v in item.metadata.items()}
        assert validate_record(record) == dict(item.metadata)
        title_langs = {v["lang"] for v in item.metadata["title"]}
        assert "en" in title_langs and title_langs & {"ms", "id"}
        assert item.item_id.startswith(item.institution.__name__ + "-")
        assert item.collection.items[item.item_id] is item
    langs = {v["lang"] for item in items(loaded) for v in item.metadata["title"]}
    assert {"iba", "dtp", "bjn", "ms-Arab"} <= langs
    coverage = [v for item in items(loaded) for v in item.metadata.get("coverage", ())]
    assert coverage and all("lat" in v and "lon" in v for v in coverage)


def test_jawi_manuscript_reads_right_to_left(loaded: Loaded) -> None:
    jawi = [
        item
        for item in items(loaded)
        if any(v["value"] == "ms-Arab" for v in item.metadata.get("language", ()))
    ]
    assert jawi
    assert any(item.viewing_direction == "right-to-left" and len(item.files) for item in jawi)


def test_states_and_access(loaded: Loaded) -> None:
    published = [item for item in items(loaded) if item.state == PUBLISHED]
    unpublished = [item for item in items(loaded) if item.state != PUBLISHED]
    assert all(item.state in STATES for item in items(loaded))
    access = Counter(item.access for item in published)
    assert access["metadata-only"] == 1
    assert access["community"] == 1
    assert access["staff"] == 1
    assert access["public"] > len(published) / 2
    assert {item.state for item in unpublished} >= {"capture", "description", "nominated"}
    (community,) = [item for item in published if item.access == "community"]
    assert community.community == "iban-longhouse-elders"
    assert any(ace[1] == community_principal(community.community) for ace in community.__acl__())
    for item in items(loaded):
        assert item.rights == "" or item.rights.startswith("http://")


def test_institution_state_counts_match_items(loaded: Loaded) -> None:
    for inst in loaded.root.institutions.values():
        actual = Counter(item.state for c in inst.collections.values() for item in c.items.values())
        assert inst.counts() == dict(actual)


def test_files_are_committed_images_with_fixity(loaded: Loaded) -> None:
    with_files = [item for item in items(loaded) if len(item.files)]
    assert len(with_files) >= len(items(loaded)) * 2 / 3
    for item in with_files:
        assert 1 <= len(item.files) <= 4
        for index, f in enumerate(item.files):
            assert f.__parent__ is item and f.__name__ == str(index + 1)
            assert f.mimetype == "image/jpeg" and f.label["en"]
            with f.blob.open("r") as fp:
                data = fp.read()
            assert len(data) == f.size
            assert hashlib.sha256(data).hexdigest() == f.sha256
            with f.blob.open("r") as fp, Image.open(fp) as im:
                im.verify()
    assert not any(loaded.staging.iterdir()), "staged images were moved into blobs"


def test_users(loaded: Loaded) -> None:
    users = loaded.root.users
    username, password = SAMPLE_ADMIN
    assert len(password) >= 10
    admin = users.authenticate(username, password)
    assert admin is not None and admin.is_admin
    curator = users.authenticate("pns-curator", password)
    assert curator is not None and curator.roles == (("curator", "pns"),)
    assert users.authenticate("admin", "wrong-password") is None
    for inst in loaded.root.institutions:
        roles = {
            users[f"{inst}-{s}"].roles for s in ("curator", "digitizer", "cataloguer", "rights")
        }
        assert roles == {
            (("curator", inst),),
            (("digitizer", inst),),
            (("cataloguer", inst),),
            (("rights-officer", inst),),
        }
    reader = users["reader"]
    assert reader.roles == () and reader.communities == ("iban-longhouse-elders",)
    assert f"Sample admin login: {username} / {password}" in loaded.log


def test_loading_twice_is_refused(loaded: Loaded, tmp_path: Path) -> None:
    before = len(loaded.root.items)
    with pytest.raises(ValueError, match="empty"):
        load_sample_data(loaded.root, tmp_path / "staging", log=lambda _: None)
    assert len(loaded.root.items) == before
