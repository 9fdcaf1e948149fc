"""The ``heritage`` command line, run as a real process against a real ZEO server.

These tests prove the multi-process design: the web server, the command line and the ZEO
server are separate processes on one database.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from heritage.db import zeo_alive

ROOT = Path(__file__).resolve().parents[2]
HERITAGE = str(Path(sys.executable).with_name("heritage"))


def write_ini(tmp_path: Path, *, sample_data: bool = False) -> Path:
    """Return development.ini rewritten for a temporary folder (its own var/, free port)."""
    text = (ROOT / "development.ini").read_text()
    text = text.replace(
        "heritage.sample_data = true", f"heritage.sample_data = {str(sample_data).lower()}"
    )
    text = text.replace("wait_timeout=30", "wait_timeout=10")
    ini = tmp_path / "test.ini"
    ini.write_text(text)
    return ini


def heritage(ini: Path, *args: str, stdin: str = "", timeout: int = 120):
    return subprocess.run(
        [HERITAGE, *args, "-c", str(ini)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ini.parent,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds}s")


@pytest.fixture
def ini(tmp_path):
    return write_ini(tmp_path)


def test_user_add_and_token_create_then_the_token_works(ini):
    result = heritage(
        ini,
        "user",
        "add",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert result.returncode == 0, result.stderr
    assert "added user alice (admin)" in result.stderr
    token = heritage(ini, "token", "create", "alice")
    assert token.returncode == 0, token.stderr
    assert len(token.stdout.strip()) >= 40 and token.stdout.count("\n") == 1
    # The ZEO server the command started for itself is gone again.
    assert not zeo_alive(str(ini.parent / "var" / "zeo.sock"))


def test_bad_usage_and_bad_input_exit_codes(ini):
    assert heritage(ini, "user", "add").returncode == 2
    bad_role = heritage(
        ini,
        "user",
        "add",
        "bob",
        "--role",
        "wizard@pns",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert bad_role.returncode == 1
    assert bad_role.stderr.strip().startswith("heritage: error: unknown role 'wizard'")
    assert len(bad_role.stderr.strip().splitlines()) == 1
    no_inst = heritage(
        ini,
        "user",
        "add",
        "bob",
        "--role",
        "curator@nowhere",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert no_inst.returncode == 1 and "no institution 'nowhere'" in no_inst.stderr
    short = heritage(ini, "user", "add", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert heritage(ini, "token", "create", "nobody").returncode == 1
    missing = subprocess.run(
        [HERITAGE, "demo", "-c", "/nonexistent.ini"], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "no configuration file" in missing.stderr


def test_serve_with_cli_writing_at_the_same_time(tmp_path):
    """`heritage serve` holds ZEO; `heritage user add`/`token create` run beside it."""
    ini = write_ini(tmp_path, sample_data=True)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [HERITAGE, "serve", "-c", str(ini), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        home = urllib.request.urlopen(f"http://127.0.0.1:{port}/").read().decode()
        assert "Pustaka Negeri Sarawak" in home or "Sarawak" in home
        added = heritage(
            ini,
            "user",
            "add",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
            stdin="another-long-password\n",
        )
        assert added.returncode == 0, added.stderr
        token = heritage(ini, "token", "create", "ops").stdout.strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/items?limit=200",
            headers={"Authorization": f"Bearer {token}"},
        )
        items = json.load(urllib.request.urlopen(request))["items"]  # noqa: S310
        public = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/items?limit=200"))[
            "items"
        ]
        assert len(items) > len(public) > 0  # the admin sees unpublished items too
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0
    assert not zeo_alive(str(tmp_path / "var" / "zeo.sock"))  # serve stopped its ZEO
    # The second start is fast: the sample data is there already and is not loaded again.
    started = time.monotonic()
    server = subprocess.Popen(
        [HERITAGE, "serve", "-c", str(ini), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        second_start = time.monotonic() - started
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Sample admin login" not in err
    print(f"second start answered in {second_start:.1f}s")
