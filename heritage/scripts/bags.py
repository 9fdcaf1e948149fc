"""``heritage export-bag ITEM_ID DEST`` and ``heritage import-bag BAG [--collection ID]``.

Both show a progress bar on stderr (bytes of masters, MB/s) and end with one line on stdout
saying what was written; any failure is one ``heritage: error: …`` line on stderr and exit
code 1, with nothing left behind (no half bag at DEST; the database unchanged).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from heritage import evolve
from heritage.db import open_db, zeo_running
from heritage.packages import PackageError, PackageSummary, export_item, import_bag
from heritage.scripts.ingest import default_user
from heritage.settings import staging_dir

EXIT_OK, EXIT_FAILED = 0, 1

STAGES = {
    "copy": "copying masters",
    "bag": "writing manifests",
    "validate": "validating the bag",
    "store": "storing",
}


@contextmanager
def _progress() -> Iterator[Any]:
    """Yield a ``progress(stage, done, total)`` that draws one bar per stage on stderr."""
    bar = Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    with bar:
        yield update


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _fail(message: str) -> int:
    print(f"heritage: error: {message}", file=sys.stderr)
    return EXIT_FAILED


def main_export(env: Any, args: Any) -> int:
    dest = Path(args.dest)
    started = time.monotonic()

    def work(root: Any, tm: Any) -> PackageSummary:
        with _progress() as progress:
            return export_item(
                root,
                args.item_id,
                dest,
                public_url=env.hs.public_url,
                progress=progress,
                processes=max(1, env.hs.worker_processes),
            )

    try:
        summary = env.run_in_db(work)
    except PackageError as exc:
        return _fail(str(exc))
    elapsed = max(time.monotonic() - started, 1e-6)
    print(
        f"exported {summary.item_id} to {summary.path}: {summary.files} masters "
        f"({_mb(summary.bytes)}), {summary.events} events, in {elapsed:.1f} s"
    )
    return EXIT_OK


def main_import(env: Any, args: Any) -> int:
    bag = Path(args.bag)
    if not bag.is_dir():
        return _fail(f"no bag at {bag}")
    started = time.monotonic()
    with zeo_running(env.hs, env.uri):
        db = open_db(env.uri)
        try:
            evolve.prepare(db)
            with _progress() as progress:
                summary = import_bag(
                    db,
                    bag,
                    staging_dir=staging_dir(env.hs),
                    collection_id=args.collection,
                    user=args.user or default_user(),
                    progress=progress,
                    processes=max(1, env.hs.worker_processes),
                )
        except PackageError as exc:
            return _fail(str(exc))
        finally:
            db.close()
    elapsed = max(time.monotonic() - started, 1e-6)
    print(
        f"imported {summary.item_id} into {summary.collection}: {summary.files} masters "
        f"({_mb(summary.bytes)}), {summary.events} events, in {elapsed:.1f} s"
    )
    return EXIT_OK
