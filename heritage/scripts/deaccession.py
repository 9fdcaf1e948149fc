"""``heritage deaccession ITEM_ID [FILE] --reason TEXT [--user NAME]``.

Removes one master (``FILE``, its number) or the whole item, keeping a tombstone (see
:mod:`heritage.deaccession`). Whoever runs it has the database in hand, so may; ``--user``
names the admin it is recorded for (it must be an admin account), else the operator's login
is recorded. Prints the tombstone on stdout; exit 1 with one line on stderr if refused.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from heritage.deaccession import DeaccessionError, check_reason, deaccession_file, deaccession_item


def _agent(root: Any, username: str | None) -> str:
    if not username:
        try:
            return f"operator:{getpass.getuser()}"
        except (KeyError, OSError):  # pragma: no cover - a user without a passwd entry
            return "operator"
    user = root.users.get(username)
    if user is None:
        raise DeaccessionError("user", f"no user {username!r}")
    if not user.is_admin:
        raise DeaccessionError("user", f"{username!r} is not an admin: only admins deaccession")
    return f"user:{username}"


def run_deaccession(env: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Deaccess the file or item in one transaction; return the tombstone as a dict."""
    from heritage.scripts.cli import CommandError

    try:
        reason = check_reason(args.reason)
    except DeaccessionError as exc:
        raise CommandError(f"--reason: {exc.message}") from None

    def work(root: Any, tm: Any) -> dict[str, Any]:
        for attempt in tm.attempts():
            with attempt:
                item = root.items.get(args.item_id)
                if item is None:
                    gone = getattr(root, "tombstones", {}).get(args.item_id)
                    if gone is not None:
                        raise CommandError(
                            f"{args.item_id} was already deaccessioned on {gone.date}"
                        )
                    raise CommandError(f"no item {args.item_id!r}")
                try:
                    user = _agent(root, args.user)
                    if args.file:
                        tomb = deaccession_file(
                            item, args.file, reason=reason, user=user, hs=env.hs
                        )
                    else:
                        tomb = deaccession_item(item, reason=reason, user=user, hs=env.hs).as_dict()
                except DeaccessionError as exc:
                    raise CommandError(exc.message) from None
                what = f"file {args.file}" if args.file else "item"
                tm.get().note(f"heritage deaccession {args.item_id} {what}")
                tm.get().setUser(user)
        return tomb

    return env.run_in_db(work)


def print_tombstone(tomb: dict[str, Any], console: Console) -> None:
    files = tomb.get("files") or [tomb]
    what = f"file {tomb['file']} of {tomb['item_id']}" if "file" in tomb else tomb["id"]
    console.print(f"deaccessioned {what} on {tomb.get('date') or tomb.get('withdrawn')}")
    table = Table("#", "file", "bytes", "sha256", "md5", title="tombstone")
    for f in files:
        table.add_row(f["file"], f["filename"], str(f["size"]), f["sha256"], f["md5"])
    console.print(table)


def main_deaccession(env: Any, args: argparse.Namespace) -> int:
    tomb = run_deaccession(env, args)
    print_tombstone(tomb, Console(file=sys.stdout, width=200))
    return 0
