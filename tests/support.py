"""Helpers the tests share (fixtures are in conftest.py; these are plain functions).

Imported as ``from support import …``: ``tests/`` is on pytest's pythonpath (setup.cfg).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transaction
import webtest

from heritage.metadata import validate_record
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
PASSWORD = "correct-horse-battery"


class Arranger:
    """Run a function on the app root in its own committed transaction."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __call__(self, work: Any) -> Any:
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            with tm:
                return work(conn.root()[APP_ROOT])
        finally:
            conn.close()


def make_item(
    item_id: str,
    title: str,
    *,
    state: str = "published",
    access: str = "public",
    community: str = "",
    lang: str = "ms",
) -> Item:
    metadata = validate_record(
        {
            "title": [{"value": title, "lang": lang}, {"value": f"{title} (en)", "lang": "en"}],
            "date": ["1850~"],
        }
    )
    return Item(
        item_id,
        metadata,
        state=state,
        access=access,
        community=community,
        rights="http://rightsstatements.org/vocab/NoC-NKC/1.0/",
    )


@dataclass
class Consortium:
    """What the ``consortium`` fixture made: ids to use in tests."""

    public: str = "pns-ms-0001"
    unpublished: str = "pns-ms-0002"
    staff_only: str = "pns-ms-0003"
    metadata_only: str = "pns-ms-0004"
    community: str = "pns-oh-0001"
    other_public: str = "kaltim-ms-0001"
    other_unpublished: str = "kaltim-ms-0002"


def login(
    testapp: webtest.TestApp, username: str, password: str = PASSWORD, status: int | str = 302
) -> webtest.TestResponse:
    """Log in through the real form, as a person would."""
    form = testapp.get("/staff/login").forms["login-form"]
    form["username"] = username
    form["password"] = password
    return form.submit(status=status)


def csrf_token(testapp: webtest.TestApp) -> str:
    page = testapp.get("/staff/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
