"""Opening the database outside a request (CLI, workers), and the local ZEO server.

The embedded database is a FileStorage with a blob directory in ``var/``, served by a ZEO
server on a unix socket so that the web server, the command line and workers can all use it
at once. ``heritage.zeo_storage`` and ``heritage.zeo_address`` say what the server serves;
``zodbconn.uri`` says what every process connects to (ZEO here, RelStorage later).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import zodburi
from ZODB import DB

from heritage.settings import HeritageSettings

ZEO_START_TIMEOUT = 20.0


class DatabaseError(RuntimeError):
    """The database cannot be opened or served as configured."""


def open_db(uri: str) -> DB:
    """Return a ZODB DB for a zodburi URI (``zeo://``, ``file://``, ``memory://``, …)."""
    try:
        storage_factory, dbkw = zodburi.resolve_uri(uri)
    except KeyError as exc:
        raise DatabaseError(f"unknown database URI scheme in {uri!r}") from exc
    return DB(storage_factory(), **dbkw)


def zeo_config(hs: HeritageSettings) -> str:
    """Return a runzeo configuration for the FileStorage and blobs named in the settings.

    runzeo takes blobs only from a config file, not from flags.
    """
    parts = urlsplit(hs.zeo_storage)
    if parts.scheme != "file" or not parts.path:
        raise DatabaseError("heritage.zeo_storage must be a file:// URI of a Data.fs")
    blob_dir = parse_qs(parts.query).get("blobstorage_dir", [""])[0]
    if not blob_dir:
        raise DatabaseError("heritage.zeo_storage needs ?blobstorage_dir=… for the masters")
    return (
        "<zeo>\n"
        f"  address {hs.zeo_address}\n"
        "</zeo>\n"
        "<filestorage 1>\n"
        f"  path {parts.path}\n"
        f"  blob-dir {blob_dir}\n"
        "</filestorage>\n"
    )


def zeo_alive(address: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def start_zeo(hs: HeritageSettings) -> subprocess.Popen:
    """Start runzeo for the configured storage and wait until it answers."""
    address = Path(hs.zeo_address)
    conf = address.parent / "zeo.conf"
    address.parent.mkdir(parents=True, exist_ok=True)
    config = zeo_config(hs)
    for line in config.splitlines():
        if line.strip().startswith(("path ", "blob-dir ")):
            Path(line.split(None, 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(config)
    if address.exists():
        address.unlink()  # a stale socket from a killed server
    log = open(address.parent / "zeo.log", "ab")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ZEO.runzeo", "-C", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + ZEO_START_TIMEOUT
    while time.monotonic() < deadline:
        if zeo_alive(str(address)):
            return proc
        if proc.poll() is not None:
            raise DatabaseError(f"the ZEO server exited; see {address.parent / 'zeo.log'}")
        time.sleep(0.05)
    proc.terminate()
    raise DatabaseError(f"the ZEO server did not answer on {address} within {ZEO_START_TIMEOUT}s")


def stop_zeo(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def zeo_running(hs: HeritageSettings, uri: str) -> Iterator[subprocess.Popen | None]:
    """Make sure the local ZEO server is up while the block runs.

    If a server already answers (``make run`` is going), use it; otherwise start one for
    the duration of the block, so that a command works whether or not the site runs.
    """
    if not uri.startswith("zeo://") or not hs.zeo_address or zeo_alive(hs.zeo_address):
        yield None
        return
    proc = start_zeo(hs)
    try:
        yield proc
    finally:
        stop_zeo(proc)


@contextlib.contextmanager
def connection(db: DB) -> Iterator[tuple[Any, Any]]:
    """Yield ``(connection, transaction_manager)``: one per thread, never shared."""
    import transaction

    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        yield conn, tm
    finally:
        tm.abort()
        conn.close()
