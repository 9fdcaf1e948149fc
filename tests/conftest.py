"""Shared fixtures.

Fixture graph::

    settings(tmp_path)  → a real FileStorage + blobs in a temp dir, var_dir in the temp dir
      └── app           → heritage.main(**settings); closes its database at teardown
            ├── db      → the app's ZODB DB (for arranging data in its own transaction)
            │     └── consortium → a small known consortium committed through ``db``
            └── testapp → webtest.TestApp(app)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import webtest
from argon2 import PasswordHasher
from support import PASSWORD, Arranger, Consortium, make_item

from heritage import main
from heritage.resources import users as users_module
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.users import User


@pytest.fixture(autouse=True)
def cheap_passwords(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test passwords with tiny argon2 costs: a full-cost hash is ~0.45 s, and the
    consortium alone makes four. Unit tests of the users module keep the real costs."""
    if request.node.path.name == "test_users.py":
        return
    monkeypatch.setattr(
        users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, str]:
    return {
        "zodbconn.uri": f"file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs",
        "heritage.var_dir": str(tmp_path / "var"),
        "heritage.max_body_bytes": "64KB",
        "retry.attempts": "3",
        # No scheduled audits unless a test asks: a worker run would otherwise also run one.
        "heritage.audit_interval": "0",
        "heritage.pack_interval": "0",
    }


@pytest.fixture
def app(settings: dict[str, str]) -> Any:
    application = main({}, **settings)
    yield application
    for database in application.registry._zodb_databases.values():
        database.close()


@pytest.fixture
def db(app: Any) -> Any:
    return app.registry._zodb_databases[""]


@pytest.fixture
def testapp(app: Any) -> webtest.TestApp:
    return webtest.TestApp(app)


@pytest.fixture
def arrange(db: Any) -> Arranger:
    return Arranger(db)


@pytest.fixture
def consortium(arrange: Arranger) -> Consortium:
    """Two institutions (pns, kaltim), their collections, items at every access level, users.

    Users (password ``PASSWORD``): admin; pns-curator; kaltim-curator; reader (community
    ``iban-elders``, no roles).
    """
    ids = Consortium()

    def work(root: Any) -> None:
        pns = root.institutions.add(
            "pns",
            Institution(
                {"en": "Sarawak State Library", "ms": "Pustaka Negeri Sarawak"}, country="MY"
            ),
        )
        kaltim = root.institutions.add(
            "kaltim", Institution({"id": "Dinas Perpustakaan Kalimantan Timur"}, country="ID")
        )
        manuscripts = root.add_collection(
            pns, "pns-manuscripts", Collection({"en": "Manuscripts", "ms": "Manuskrip"})
        )
        oral = root.add_collection(pns, "pns-oral-history", Collection({"en": "Oral history"}))
        kaltim_ms = root.add_collection(kaltim, "kaltim-naskah", Collection({"id": "Naskah"}))
        manuscripts.add_item(make_item(ids.public, "Hikayat Pelanduk"))
        manuscripts.add_item(make_item(ids.unpublished, "Syair Rahsia", state="capture"))
        manuscripts.add_item(make_item(ids.staff_only, "Surat Dalaman", access="staff"))
        manuscripts.add_item(make_item(ids.metadata_only, "Salasilah", access="metadata-only"))
        oral.add_item(
            make_item(
                ids.community,
                "Ensera Iban",
                access="community",
                community="iban-elders",
                lang="iba",
            )
        )
        kaltim_ms.add_item(make_item(ids.other_public, "Hikayat Banjar", lang="bjn"))
        kaltim_ms.add_item(make_item(ids.other_unpublished, "Naskah Kutai", state="qa", lang="id"))
        for username, role, inst in (
            ("admin", "admin", None),
            ("pns-curator", "curator", "pns"),
            ("kaltim-curator", "curator", "kaltim"),
            ("reader", None, None),
        ):
            user = User(username)
            user.set_password(PASSWORD)
            if role:
                user.add_role(role, inst)
            if username == "reader":
                user.communities = ("iban-elders",)
            root.users.add(username, user)

    arrange(work)
    return ids


@pytest.fixture
def digitizer(arrange: Arranger, consortium: Consortium) -> str:
    """``pns-digitizer`` (password ``PASSWORD``): the one role besides admin that uploads
    at pns."""

    def work(root: Any) -> None:
        user = User("pns-digitizer")
        user.set_password(PASSWORD)
        user.add_role("digitizer", "pns")
        root.users.add("pns-digitizer", user)

    arrange(work)
    return "pns-digitizer"
