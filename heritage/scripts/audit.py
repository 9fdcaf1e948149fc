"""``heritage audit [--institution ID] [--since DATE]``: re-read the masters, report failures.

A progress bar (files, MB/s, ETA) and every failing file (``item/file (filename): expected
… found …``) go to stderr, the summary table to stdout. Exit 0 when every file checked is
intact, 1 when any failed or is missing (or the audit could not start). The worker's
scheduled audit runs the same :func:`heritage.audit.run_audit`.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from heritage import evolve
from heritage.audit import AuditError, AuditProgress, AuditSummary, parse_since, run_audit
from heritage.db import open_db, zeo_running
from heritage.scripts.ingest import default_user

EXIT_OK, EXIT_FAILED = 0, 1


def main_audit(env: Any, args: Any) -> int:
    try:
        since = parse_since(args.since) if args.since else None
    except AuditError as exc:
        print(f"heritage: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]auditing"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    task = None

    def show(p: AuditProgress) -> None:
        nonlocal task
        files = f"{p.files_done}/{p.files_total} files"
        if task is None:  # started here, so that an audit refused at once prints no bar
            progress.start()
            task = progress.add_task("audit", total=p.bytes_total or 1, files=files)
        progress.update(task, completed=p.bytes_done if p.bytes_total else 1, files=files)
        if p.last is not None and not p.last.result.ok:
            progress.console.print(p.last.line(), markup=False, highlight=False, soft_wrap=True)

    with zeo_running(env.hs, env.uri):
        db = open_db(env.uri)
        try:
            evolve.prepare(db)
            try:
                summary = run_audit(
                    db,
                    env.hs,
                    institution=args.institution,
                    since=since,
                    progress=show,
                    user=args.user or default_user(),
                )
            finally:
                if task is not None:
                    progress.stop()
        except AuditError as exc:
            print(f"heritage: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            db.close()
    _summary(summary)
    return EXIT_FAILED if summary.failures else EXIT_OK


def _mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f}"


def _summary(summary: AuditSummary) -> None:
    table = Table(title="fixity audit summary")
    for column in ("institution", "files", "MB", "failed", "missing"):
        table.add_column(column, justify="left" if column == "institution" else "right")
    for inst, row in sorted(summary.per_institution.items()):
        table.add_row(
            inst or "-",
            str(row["files"]),
            _mb(row["bytes"]),
            str(row["failed"]),
            str(row["missing"]),
        )
    console = Console(width=max(Console().width, 100))
    console.print(table)
    rate = summary.bytes / 1e6 / summary.seconds if summary.seconds else 0.0
    console.print(
        f"{summary.files} checked, {len(summary.failures)} failed, "
        f"{summary.not_due} not due, {_mb(summary.bytes)} MB in {summary.seconds:.1f} s "
        f"({rate:,.0f} MB/s); run {summary.run}"
    )
