"""``heritage ingest ITEM_ID PATH…``: a batch of masters into an item, from the command line."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from digitization.ingest import BatchError, Examined, Examiner, plan_batch
from digitization.qa import check_duplicate
from heritage.ingest import (
    add_duplicate_check,
    known_checker,
    store_examined,
    thresholds_for,
)
from heritage.resources.root import APP_ROOT
from heritage.settings import staging_dir

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class IngestUsageError(Exception):
    """Bad paths or ids: exit code 2."""


def run_ingest(env: Any, item_id: str, paths: list[str], *, dry_run: bool, user: str) -> int:
    try:
        files = plan_batch([Path(p) for p in paths])
    except BatchError as exc:
        raise IngestUsageError(str(exc)) from None
    if not files:
        raise IngestUsageError("no files to ingest in the paths given")

    def work(root: Any, tm: Any) -> int:
        conn = root._p_jar
        item = root.items.get(item_id)
        if item is None:
            raise IngestUsageError(f"no item {item_id!r}")
        return _ingest(conn, tm, item_id, files, env.hs, dry_run=dry_run, user=user)

    return env.run_in_db(work)


def _ingest(
    conn: Any, tm: Any, item_id: str, files: list[Path], hs: Any, *, dry_run: bool, user: str
) -> int:
    err = Console(stderr=True)
    results: list[tuple[Examined, str]] = []
    batch: dict[str, str] = {}  # sha256 → file name, for a dry run's own duplicates
    batch_dhashes: list[tuple[int, str]] = []  # and its near-duplicates
    started = time.monotonic()
    total_bytes = 0
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    with Examiner(staging_dir(hs), max_pixels=hs.max_image_pixels) as examiner, progress:
        task = progress.add_task(
            f"{'checking' if dry_run else 'ingesting'} {item_id}", total=len(files), rate=""
        )
        for path in files:
            tm.begin()  # see what other processes committed since the last file
            item = conn.root()[APP_ROOT].items[item_id]
            thresholds = thresholds_for(item)
            stored_already = known_checker(item)

            def known(fixity: Any, stored_already: Any = stored_already) -> str:
                earlier = batch.get(fixity.sha256)
                return stored_already(fixity) or (
                    f"same as {earlier}, earlier in this batch" if earlier and dry_run else ""
                )

            examined = examiner.examine(path, thresholds, known=known)
            if not examined.rejection and not examined.skipped:
                batch[examined.fixity.sha256] = examined.filename
                if dry_run:  # what the real run would find: stored pages, then this batch's
                    add_duplicate_check(item, examined, thresholds)
                    _check_against_batch(examined, batch_dhashes, thresholds)
            tm.abort()
            outcome = _outcome(examined)
            if outcome == "accepted" and dry_run:
                examined.discard()
            elif outcome == "accepted":
                outcome = _store(conn, tm, item_id, examined, examiner, user)
            results.append((examined, outcome))
            if examined.fixity:
                total_bytes += examined.fixity.size
            if outcome == "rejected":
                progress.console.print(
                    f"{path}: {examined.rejection}", markup=False, highlight=False, soft_wrap=True
                )
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(
                task,
                advance=1,
                rate=f"{len(results) / elapsed:.1f} files/s {total_bytes / elapsed / 1e6:.0f} MB/s",
            )
    _summary(results, dry_run=dry_run)
    return EXIT_REJECTED if any(o == "rejected" for _, o in results) else EXIT_OK


def _check_against_batch(
    examined: Examined, batch_dhashes: list[tuple[int, str]], thresholds: Any
) -> None:
    qa = examined.qa
    if qa is None or qa.dhash is None:
        return
    if qa.check("duplicate").passed and batch_dhashes:
        check = check_duplicate(
            examined.fixity.sha256,
            qa.dhash,
            same_sha=None,
            near=batch_dhashes,
            thresholds=thresholds,
        )
        if not check.passed:
            examined.qa = qa.with_check(check)
    batch_dhashes.append((qa.dhash, examined.filename))


def _outcome(examined: Examined) -> str:
    if examined.rejection:
        return "rejected"
    if examined.skipped:
        return "skipped"
    return "accepted"


def _store(
    conn: Any, tm: Any, item_id: str, examined: Examined, examiner: Examiner, user: str
) -> str:
    """Store one file in its own transaction: all of it, or nothing."""
    for attempt in tm.attempts():
        with attempt:
            root = conn.root()[APP_ROOT]
            item = root.items[item_id]
            same = item.files.name_for_sha256(examined.fixity.sha256)
            if same:  # another process stored it meanwhile
                examined.skipped = f"already stored as file {same}"
                examined.discard()
                return "skipped"
            f = store_examined(
                item, examined, user=user, software=examiner.software, enqueue=root.jobs.add
            )
            tm.get().note(f"heritage ingest {item_id}: {examined.filename} as file {f.__name__}")
            tm.get().setUser(user)
    return "flagged" if examined.qa is not None and not examined.qa.passed else "stored"


def _summary(results: list[tuple[Examined, str]], *, dry_run: bool) -> None:
    table = Table(title="dry run: nothing stored" if dry_run else "ingest summary")
    for column in ("file", "outcome", "format", "size", "QA / reason"):
        table.add_column(column)
    for examined, outcome in results:
        ident = examined.identification
        reason = examined.rejection or examined.skipped
        if not reason and examined.qa is not None:
            failed = [c.message for c in examined.qa.checks if not c.passed]
            reason = "; ".join(failed) or "passed"
        table.add_row(
            examined.filename,
            "would store" if dry_run and outcome == "accepted" else outcome,
            f"{ident.puid} {ident.name}" if ident else "",
            f"{examined.fixity.size:,}" if examined.fixity else "0",
            reason,
        )
    counts: dict[str, int] = {}
    for _, outcome in results:
        counts[outcome] = counts.get(outcome, 0) + 1
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(", ".join(f"{n} {what}" for what, n in sorted(counts.items())))


def default_user() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator"


def main_ingest(env: Any, args: Any) -> int:
    try:
        return run_ingest(
            env, args.item_id, args.paths, dry_run=args.dry_run, user=args.user or default_user()
        )
    except IngestUsageError as exc:
        print(f"heritage: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
