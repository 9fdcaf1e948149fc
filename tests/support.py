"""Helpers the tests share (fixtures are in conftest.py; these are plain functions).

Imported as ``from support import …``: ``tests/`` is on pytest's pythonpath (setup.cfg).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import transaction
import webtest
from lxml import etree
from waitress import wasyncore
from waitress.server import create_server

from heritage import evolve
from heritage.db import connection, open_db, zeo_alive
from heritage.metadata import validate_record
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT

PROJECT = Path(__file__).resolve().parents[1]
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
PASSWORD = "correct-horse-battery"


def spec_file(relative: str) -> Path:
    """Return a file of ../shared/specs; skip the test when it is absent (a clone on its
    own), but fail under CI, where a missing spec must never pass for a valid output."""
    path = SPECS / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: conformance tests need ../shared/specs under CI")
        pytest.skip(f"{path} is missing (a clone on its own): nothing to validate against")
    return path


def write_cli_ini(folder: Path, **settings: str) -> Path:
    """Return development.ini rewritten for ``folder`` (its own var/ and ZEO socket), for
    running the ``heritage`` command: no sample data, no worker beside it, ``heritage.*``
    ``settings`` added."""
    text = (PROJECT / "development.ini").read_text()
    text = text.replace("heritage.sample_data = true", "heritage.sample_data = false")
    text = text.replace("heritage.worker_in_process = true", "heritage.worker_in_process = false")
    text = text.replace("wait_timeout=30", "wait_timeout=10")
    extra = "".join(f"heritage.{name} = {value}\n" for name, value in settings.items())
    text = text.replace("heritage.sample_data = false\n", f"heritage.sample_data = false\n{extra}")
    ini = folder / "test.ini"
    ini.write_text(text)
    return ini


def stored_file(f: Any) -> dict[str, Any]:
    """Return what is stored of a master: its description, QA, and the sha256 of the blob's
    bytes as they are now (to compare with the recorded one)."""
    with f.blob.open("r") as blob:
        blob_sha256 = hashlib.file_digest(blob, "sha256").hexdigest()
    return {**f.as_dict(), "blob_sha256": blob_sha256, "qa": dict(f.qa)}


def storage_uri(folder: Path) -> str:
    """The FileStorage that the ini of :func:`write_cli_ini` serves with ZEO, opened directly."""
    return f"file://{folder}/var/Data.fs?blobstorage_dir={folder}/var/blobs"


@contextmanager
def opened_root(folder: Path, *, commit: bool = False) -> Iterator[Any]:
    """Yield the application root from the FileStorage itself (no ZEO may be running);
    with ``commit``, what the block changed is committed."""
    assert not zeo_alive(str(folder / "var" / "zeo.sock")), "a ZEO server still runs"
    (folder / "var").mkdir(exist_ok=True)
    db = open_db(storage_uri(folder))
    try:
        evolve.prepare(db)
        with connection(db) as (conn, tm):
            if commit:
                with tm:
                    yield conn.root()[APP_ROOT]
            else:
                yield conn.root()[APP_ROOT]
    finally:
        db.close()


@cache
def xml_schema(name: str) -> etree.XMLSchema:
    """Return the XML Schema ``specs/xml/<name>``, read without the network (see spec_file)."""
    path = spec_file(f"xml/{name}")
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


@contextmanager
def serve_app(app: Any, *, threads: int = 4) -> Iterator[str]:
    """Serve the WSGI ``app`` with a real waitress server on 127.0.0.1 in a thread.

    Yield its base URL (``http://127.0.0.1:PORT``, no trailing slash). For clients that
    must speak real HTTP (an OAI-PMH harvester, a second instance harvesting this one).
    The port is chosen by the OS when the socket binds, so parallel tests never collide.
    """
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, expose_tracebacks=True)
    runner = threading.Thread(target=server.run, name="serve_app", daemon=True)
    runner.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close the sockets in the loop's own thread (the trigger runs thunks there), so
        # the loop ends cleanly instead of polling a closed descriptor.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        runner.join(10)
        server.task_dispatcher.shutdown()


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


def csrf_token(testapp: webtest.TestApp, path: str = "/staff/login") -> str:
    """Return the session's CSRF token, as a form on the page at ``path`` carries it."""
    page = testapp.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
