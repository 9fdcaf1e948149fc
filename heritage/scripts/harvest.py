"""``heritage harvest [PARTNER_ID]`` and ``heritage partner add|list|remove``.

``harvest`` harvests every enabled partner (or the one named, even if disabled) one after
the other, with a progress line per partner (records, records/s) and a summary table.
It exits 1 if any partner failed, with one ``heritage: error:`` line each on stderr; the
others are harvested all the same.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from heritage.harvest.harvester import (
    RunResult,
    drop_partner_records,
    harvest_partner,
    partners_to_harvest,
)
from heritage.metadata import normalize_language
from heritage.resources.partners import (
    FAILED,
    PartnerInvalid,
    new_partner,
    validate_partner,
)
from heritage.resources.root import APP_ROOT

EXIT_OK, EXIT_FAILED = 0, 1


class HarvestCommandError(Exception):
    """Bad arguments (an unknown partner, invalid fields): one line, exit 1."""


def _harvest(env: Any, root: Any, tm: Any, partner_id: str | None) -> list[RunResult]:
    conn = root._p_jar
    try:
        ids = partners_to_harvest(root, partner_id)
    except KeyError:
        raise HarvestCommandError(
            f"no partner {partner_id!r} (see heritage partner list)"
        ) from None
    tm.abort()
    err = Console(stderr=True)
    if not ids:
        err.print("no enabled partners to harvest (see heritage partner list)")
        return []
    results = []
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[records]:>8,} records"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    with progress:
        for pid in ids:
            task = progress.add_task(pid, total=None, records=0, rate="")
            started = time.monotonic()

            def update(seen: int, task: Any = task, started: float = started) -> None:
                rate = seen / max(time.monotonic() - started, 1e-6)
                progress.update(task, records=seen, rate=f"{rate:,.0f} records/s")

            result = harvest_partner(conn, tm, pid, env.hs, progress=update)
            mark = "failed" if result.outcome == FAILED else "done"
            progress.update(task, description=f"{pid} {mark}", total=1, completed=1)
            results.append(result)
    return results


def _summary(results: list[RunResult]) -> None:
    table = Table(title="harvest summary")
    for column in ("partner", "outcome", "added", "updated", "deleted", "unchanged", "records/s"):
        table.add_column(
            column, justify="right" if column not in ("partner", "outcome") else "left"
        )
    table.add_column("error")
    for r in results:
        table.add_row(
            r.partner_id,
            r.outcome,
            f"{r.added:,}",
            f"{r.updated:,}",
            f"{r.deleted:,}",
            f"{r.unchanged:,}",
            f"{r.records / r.seconds:,.0f}" if r.seconds > 0 else "",
            r.error,
        )
    Console(width=max(Console().width, 120)).print(table)


def main_harvest(env: Any, args: Any) -> int:
    try:
        results = env.run_in_db(lambda root, tm: _harvest(env, root, tm, args.partner_id))
    except HarvestCommandError as exc:
        print(f"heritage: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if results:
        _summary(results)
    failed = [r for r in results if r.outcome == FAILED]
    for r in failed:
        print(f"heritage: error: partner {r.partner_id} failed: {r.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


# -- heritage partner ... ---------------------------------------------------------------------


def parse_names(values: list[str]) -> dict[str, str]:
    """``["ms=Pustaka Negeri Sabah", "Sabah State Library"]`` → a language map.

    A value without a ``LANG=`` prefix is English.
    """
    names: dict[str, str] = {}
    for value in values:
        lang, sep, text = value.partition("=")
        try:
            tag = normalize_language(lang) if sep and len(lang) <= 20 else None
        except ValueError:
            tag = None
        if tag is None:
            tag, text = "en", value
        names[tag] = text
    return names


def main_partner(env: Any, args: Any) -> int:
    action = args.partner_command
    try:
        if action == "add":
            return _partner_add(env, args)
        if action == "list":
            return _partner_list(env)
        return _partner_remove(env, args)
    except HarvestCommandError as exc:
        print(f"heritage: error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _partner_add(env: Any, args: Any) -> int:
    data: dict[str, Any] = {
        "id": args.partner_id,
        "name": parse_names(args.name),
        "url": args.url,
        "enabled": not args.disabled,
    }
    for key, value in (("prefix", args.prefix), ("set", args.set), ("schedule", args.schedule)):
        if value is not None:
            data[key] = value
    try:
        fields = validate_partner(data, creating=True)
    except PartnerInvalid as exc:
        raise HarvestCommandError(f"partner not added: {exc}") from None

    def work(root: Any, tm: Any) -> None:
        for attempt in tm.attempts():
            with attempt:
                if fields["id"] in root.partners:
                    raise HarvestCommandError(f"partner {fields['id']!r} already exists")
                root.partners.add(fields["id"], new_partner(fields))
                tm.get().note(f"heritage partner add {fields['id']}")

    env.run_in_db(work)
    print(f"added partner {fields['id']} ({fields['url']})", file=sys.stderr)
    return EXIT_OK


def _partner_list(env: Any) -> int:
    def work(root: Any, tm: Any) -> list[tuple[Any, ...]]:
        rows = []
        for partner in root.partners.values():
            records = root.harvested.records_of(partner.__name__)
            last = partner.last_run
            rows.append(
                (
                    partner.__name__,
                    next(iter(partner.name.values()), ""),
                    partner.url,
                    partner.prefix + (f" / {partner.set_spec}" if partner.set_spec else ""),
                    partner.schedule if partner.enabled else f"{partner.schedule} (disabled)",
                    f"{len(records) if records is not None else 0:,}",
                    f"{last.started} {last.outcome}" if last else "never",
                )
            )
        return rows

    rows = env.run_in_db(work)
    table = Table(title="partners")
    for column in ("id", "name", "OAI-PMH base URL", "prefix / set", "schedule", "records", "last"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 120)).print(table)
    return EXIT_OK


def _partner_remove(env: Any, args: Any) -> int:
    def work(root: Any, tm: Any) -> int:
        if args.partner_id not in root.partners:
            raise HarvestCommandError(f"no partner {args.partner_id!r}")
        tm.abort()
        conn = root._p_jar
        dropped = drop_partner_records(conn, tm, args.partner_id, env.hs.harvest_batch)
        for attempt in tm.attempts():
            with attempt:
                partners = conn.root()[APP_ROOT].partners
                if args.partner_id in partners:
                    partners.remove(args.partner_id)
                tm.get().note(f"heritage partner remove {args.partner_id}")
        return dropped

    dropped = env.run_in_db(work)
    print(f"removed partner {args.partner_id} and {dropped:,} harvested records", file=sys.stderr)
    return EXIT_OK
