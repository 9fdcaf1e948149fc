"""Packing: the worker packs on its schedule and ``heritage pack`` on demand; what is live
stays, the revisions that indexing and edits leave behind go."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from support import opened_root, write_cli_ini

from heritage.settings import parse_settings
from heritage.worker import run_worker

HERITAGE = str(Path(sys.executable).with_name("heritage"))


def edit_many_times(root: Any, item_id: str, n: int) -> None:
    item = root.items[item_id]
    item.metadata["description"] = ({"value": f"revision {n}", "lang": "en"},)
    item.touch()


def data_fs(settings: dict[str, str]) -> Path:
    return Path(settings["zodbconn.uri"].removeprefix("file://").split("?")[0])


def test_the_worker_packs_on_its_schedule_and_keeps_what_is_live(
    settings, consortium, arrange, db, testapp
):
    for n in range(40):
        arrange(lambda root, n=n: edit_many_times(root, consortium.public, n))
    path = data_fs(settings)
    before = path.stat().st_size
    hs = parse_settings({**settings, "heritage.pack_interval": "1h", "heritage.pack_keep": "0"})
    assert run_worker(db, hs, processes=0, once=True) == 1  # the pack
    assert path.stat().st_size < before / 2
    assert run_worker(db, hs, processes=0, once=True) == 0  # not again within the hour
    record = testapp.get(f"/api/items/{consortium.public}").json
    assert record["metadata"]["description"] == [{"value": "revision 39", "lang": "en"}]
    found = testapp.get("/api/search", {"q": "revision"}).json
    assert [h["id"] for h in found["hits"]] == [consortium.public]


def test_heritage_pack_from_the_command_line(tmp_path: Path):
    ini = write_cli_ini(tmp_path)
    with opened_root(tmp_path, commit=True) as root:
        root.title["en"] = "Borneo Heritage"
    for n in range(30):
        with opened_root(tmp_path, commit=True) as root:
            root.title["en"] = f"Borneo Heritage {n}"
    path = tmp_path / "var" / "Data.fs"
    before = path.stat().st_size

    def heritage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [HERITAGE, "pack", *args, "-c", str(ini)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    bad = heritage("--keep", "soon")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("heritage: error: --keep:")
    done = heritage("--keep", "0")
    assert done.returncode == 0, done.stderr
    assert path.stat().st_size < before
    with opened_root(tmp_path) as root:
        assert root.title["en"] == "Borneo Heritage 29"
