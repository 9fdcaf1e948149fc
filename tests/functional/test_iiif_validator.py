"""The official IIIF validator (iiif-validator) at level 2 against a real ``heritage serve``.

The server runs as its own process with its own ZEO server and in-process worker, the
sample consortium loaded by ``heritage demo``; the validator's test image is ingested into
the published, public item ``pns-ms-0001`` with ``heritage ingest`` while the server runs,
and the worker builds its pyramid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from test_cli import free_port, heritage, wait_for, write_ini

validator = pytest.importorskip("iiif_validator.validator")

VALIDATE = str(Path(sys.executable).with_name("iiif-validate.py"))
HERITAGE = str(Path(sys.executable).with_name("heritage"))
ITEM = "pns-ms-0001"  # published, public in heritage/sample_data.py


def validator_image(path: Path) -> None:
    """1000×1000, 10×10 squares of 100 px: column x, row y has colorInfo[x][y]."""
    colours = validator.ValidationInfo().colorInfo
    im = Image.new("RGB", (1000, 1000))
    for x in range(10):
        for y in range(10):
            im.paste(tuple(colours[x][y]), (x * 100, y * 100, x * 100 + 100, y * 100 + 100))
    im.save(path)


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_official_validator_level2(tmp_path):
    started = time.monotonic()
    ini = write_ini(tmp_path)  # sample_data false; worker_in_process true (development.ini)
    demo = heritage(ini, "demo")
    assert demo.returncode == 0, demo.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [HERITAGE, "serve", "-c", str(ini), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for(f"{base}/", server, seconds=30)
        master = tmp_path / "masters" / "validator.png"
        master.parent.mkdir()
        validator_image(master)
        ingest = heritage(ini, "ingest", ITEM, str(master))
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        files = json.load(urllib.request.urlopen(f"{base}/api/items/{ITEM}", timeout=5))["files"]  # noqa: S310
        numbers = [n for n, f in enumerate(files, 1) if f["filename"] == "validator.png"]
        assert len(numbers) == 1, files
        image_id = f"{ITEM}_{numbers[0]}"

        deadline = time.monotonic() + 30
        while (status := get_status(f"{base}/iiif/3/{image_id}/info.json")) != 200:
            assert status == 503, status  # being built: "try again soon"
            assert time.monotonic() < deadline, "the pyramid was not built in 30 s"
            assert server.poll() is None, "the server stopped"
            time.sleep(0.25)
        info = json.load(urllib.request.urlopen(f"{base}/iiif/3/{image_id}/info.json"))  # noqa: S310
        assert (info["width"], info["height"], info["profile"]) == (1000, 1000, "level2")

        result = subprocess.run(
            [
                sys.executable,
                VALIDATE,
                "-s",
                f"127.0.0.1:{port}",
                "-p",
                "iiif/3",
                "-i",
                image_id,
                "--version=3.0",
                "--level",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = result.stdout + result.stderr
        print(output)
        assert result.returncode == 0, output
        assert "0 failures" in output, output
        assert " PASS" in output and " FAIL" not in output
    finally:
        server.terminate()
        try:
            log, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            log, _ = server.communicate()
    assert "Traceback" not in log, log[-5000:]
    print(f"validator test took {time.monotonic() - started:.1f}s")
