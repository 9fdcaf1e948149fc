"""Browser fixtures: one real ``heritage serve`` and one headless Chromium per session.

Fixture graph::

    heritage_server (session) → `heritage serve` on a free port, temp ini from development.ini,
                                 sample data on, worker in process; ready once the sample
                                 item's first image has its pyramid
    chromium        (session) → Playwright driving Debian's /usr/bin/chromium (never a
                                 downloaded browser build; STACK.md)
      └── page                → a fresh context and page per test
    partner_site    (session) → a second HTTP server (another origin) for iframe tests
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERITAGE = str(Path(sys.executable).with_name("heritage"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The sample item the tests open, and its first image (ready = its pyramid is built).
SAMPLE_ITEM = "pns-ms-0001"
SAMPLE_IMAGE = f"{SAMPLE_ITEM}_1"
READY_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def tail(path: str, lines: int = 30) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def write_ini(folder: Path) -> Path:
    """development.ini for a temporary folder: its own var/, sample data and worker on."""
    text = (ROOT / "development.ini").read_text()
    for setting in ("heritage.sample_data", "heritage.worker_in_process"):
        assert f"{setting} = true" in text, f"development.ini no longer sets {setting} = true"
    ini = folder / "browser.ini"
    ini.write_text(text)
    return ini


@pytest.fixture(scope="session")
def heritage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `heritage serve`; yield its base URL once the sample pages have tiles."""
    folder = tmp_path_factory.mktemp("heritage-serve")
    ini = write_ini(folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "serve.log").open("w")
    started = time.monotonic()
    server = subprocess.Popen(
        [HERITAGE, "serve", "-c", str(ini), "--port", str(port)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        info = f"{base}/iiif/3/{SAMPLE_IMAGE}/info.json"
        deadline = started + READY_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"heritage serve exited ({server.returncode}):\n{tail(log.name)}")
            try:
                if http_status(info) == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{info} was not 200 within {READY_SECONDS}s:\n{tail(log.name)}")
            time.sleep(0.25)
        print(f"\nheritage serve ready with tiles in {time.monotonic() - started:.1f}s: {base}")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright; skipped only off CI when it is not installed."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: `make install-test` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def partner_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static site on another port, i.e. another origin: (base URL, its folder)."""
    folder = tmp_path_factory.mktemp("partner-site")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
