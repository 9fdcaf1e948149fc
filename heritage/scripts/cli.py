"""The ``heritage`` command line: one entry point, a subcommand per task.

Every subcommand takes ``-c/--config INI`` (default ``development.ini``). Exit codes: 0 done,
1 failed (one line on stderr says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import secrets
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from heritage import evolve
from heritage.db import DatabaseError, connection, open_db, zeo_running
from heritage.resources.root import APP_ROOT
from heritage.resources.users import User, UserError, parse_role
from heritage.security import hash_token
from heritage.settings import (
    HeritageSettings,
    SettingsError,
    apply_image_limits,
    parse_settings,
)


class CommandError(Exception):
    """A command failed in a way the operator can fix; printed as one line."""


class Env:
    """What a command needs: its ini, the typed settings, and the database URI."""

    def __init__(self, config: str) -> None:
        from pyramid.paster import get_appsettings, setup_logging

        path = Path(config)
        if not path.is_file():
            raise CommandError(f"no configuration file {config!r} (use -c/--config)")
        self.config = str(path.resolve())
        setup_logging(self.config)
        self.settings = get_appsettings(self.config)
        self.hs: HeritageSettings = parse_settings(self.settings)
        apply_image_limits(self.hs.max_image_pixels)
        self.uri = self.settings.get("zodbconn.uri", "")
        if not self.uri:
            raise CommandError(f"{config}: zodbconn.uri is not set")

    def run_in_db(self, work: Callable[[Any, Any], Any]) -> Any:
        """Run ``work(root, tm)`` on the database, starting ZEO if nothing serves it yet."""
        with zeo_running(self.hs, self.uri):
            db = open_db(self.uri)
            try:
                evolve.prepare(db)
                with connection(db) as (conn, tm):
                    return work(conn.root()[APP_ROOT], tm)
            finally:
                db.close()


# -- subcommands -------------------------------------------------------------------------------


def cmd_user_add(env: Env, args: argparse.Namespace) -> int:
    roles = [parse_role(r) for r in args.role]
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.username}: ")
    else:
        raise CommandError("give the password with --password-stdin (stdin is not a terminal)")

    def work(root: Any, tm: Any) -> None:
        for attempt in tm.attempts():
            with attempt:
                for _, institution_id in roles:
                    if institution_id and institution_id not in root.institutions:
                        raise CommandError(f"no institution {institution_id!r}")
                user = root.users.get(args.username)
                created = user is None
                if created:
                    user = User(args.username, title=args.title or "", email=args.email or "")
                if password or created:
                    user.set_password(password)
                for role, institution_id in roles:
                    user.add_role(role, institution_id)
                if created:
                    root.users.add(args.username, user)
                tm.get().note(f"heritage user add {args.username}")
        what = "added" if created else "updated"
        roles_text = ", ".join(f"{r}@{i}" if i else r for r, i in user.roles) or "no roles"
        print(f"{what} user {args.username} ({roles_text})", file=sys.stderr)

    env.run_in_db(work)
    return 0


def cmd_token_create(env: Env, args: argparse.Namespace) -> int:
    token = secrets.token_urlsafe(32)

    def work(root: Any, tm: Any) -> None:
        for attempt in tm.attempts():
            with attempt:
                root.users.add_token(args.username, hash_token(token), label=args.label or "")
                tm.get().note(f"heritage token create {args.username}")

    env.run_in_db(work)
    print(token)  # alone on stdout: TOKEN=$(heritage token create alice)
    return 0


def load_demo(root: Any, tm: Any, hs: HeritageSettings, *, if_empty: bool) -> bool:
    """Load the sample consortium; return False if the database already has content."""
    from heritage.sample_data import load_sample_data

    if len(root.institutions):
        if if_empty:
            return False
        raise CommandError("the database already has institutions; sample data needs an empty one")
    staging = Path(hs.var_dir) / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    for attempt in tm.attempts():
        with attempt:
            load_sample_data(root, staging, log=print)
            tm.get().note("heritage demo: sample consortium")
    return True


def cmd_demo(env: Env, args: argparse.Namespace) -> int:
    loaded = env.run_in_db(lambda root, tm: load_demo(root, tm, env.hs, if_empty=args.if_empty))
    if not loaded:
        print("the database already has content; no sample data loaded", file=sys.stderr)
    return 0


def cmd_evolve(env: Env, args: argparse.Namespace) -> int:
    with zeo_running(env.hs, env.uri):
        db = open_db(env.uri)
        try:
            with connection(db) as (conn, tm):
                pending = evolve.pending_steps(conn.root())
                if args.mark_finished:
                    with tm:
                        evolve.mark_finished(conn.root(), pending)
                    print(f"marked {len(pending)} step(s) finished", file=sys.stderr)
                    return 0
                if not pending:
                    print("the database is current", file=sys.stderr)
                    return 0
                evolve.run_pending(
                    conn,
                    tm,
                    dry_run=args.dry_run,
                    latest=args.latest,
                    log=lambda line: print(line, file=sys.stderr),
                )
        finally:
            db.close()
    return 0


def cmd_zeo(env: Env, args: argparse.Namespace) -> int:
    """Serve the database with ZEO in the foreground (for several processes or machines)."""
    from heritage.db import start_zeo, stop_zeo

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    proc = start_zeo(env.hs)
    print(f"ZEO serving {env.hs.zeo_storage} on {env.hs.zeo_address}", file=sys.stderr)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            stop_zeo(proc)


def cmd_ingest(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.ingest import main_ingest

    return main_ingest(env, args)


def cmd_deaccession(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.deaccession import main_deaccession

    return main_deaccession(env, args)


def cmd_pack(env: Env, args: argparse.Namespace) -> int:
    from heritage.maintenance import pack_database
    from heritage.settings import asduration

    try:
        keep = env.hs.pack_keep if args.keep is None else asduration(args.keep)
    except ValueError as exc:
        raise CommandError(f"--keep: {exc}") from None
    with zeo_running(env.hs, env.uri):
        db = open_db(env.uri)
        try:
            pack_database(db, keep)
        finally:
            db.close()
    print(f"packed the database, keeping {keep:.0f} s of history", file=sys.stderr)
    return 0


def cmd_audit(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.audit import main_audit

    return main_audit(env, args)


def cmd_export_bag(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.bags import main_export

    return main_export(env, args)


def cmd_import_bag(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.bags import main_import

    return main_import(env, args)


def cmd_harvest(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.harvest import main_harvest

    return main_harvest(env, args)


def cmd_partner(env: Env, args: argparse.Namespace) -> int:
    from heritage.scripts.harvest import main_partner

    return main_partner(env, args)


def cmd_worker(env: Env, args: argparse.Namespace) -> int:
    from heritage.worker import run_worker

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    processes = env.hs.worker_processes if args.processes is None else args.processes
    with zeo_running(env.hs, env.uri):
        db = open_db(env.uri)
        try:
            ran = run_worker(db, env.hs, processes=processes, once=args.once)
        except KeyboardInterrupt:
            ran = 0
        finally:
            db.close()
    print(f"ran {ran} job(s)", file=sys.stderr)
    return 0


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def cmd_serve(env: Env, args: argparse.Namespace) -> int:
    """Start ZEO if needed, load sample data into an empty database, then serve the site."""
    import waitress
    from plaster import get_settings
    from pyramid.paster import get_app

    server = dict(get_settings(env.config, "server:main"))
    server.pop("use", None)
    host, _, port = server.pop("listen", "127.0.0.1:6543").rpartition(":")
    host = args.host or host
    port = str(args.port or port)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so the ZEO child is stopped too
    with zeo_running(env.hs, env.uri):
        if env.hs.sample_data:
            env.run_in_db(lambda root, tm: load_demo(root, tm, env.hs, if_empty=True))
        app = get_app(env.config, "main")
        with _worker_thread(env):
            print(f"Borneo Heritage on http://{host}:{port}/", file=sys.stderr)
            try:
                waitress.serve(app, listen=f"{host}:{port}", **server)
            except KeyboardInterrupt:
                pass
    return 0


@contextlib.contextmanager
def _worker_thread(env: Env) -> Iterator[None]:
    """Run one worker beside the web server when the ini asks for it (``make run`` does)."""
    if not env.hs.worker_in_process:
        yield
        return
    import threading

    from heritage.worker import run_worker

    db = open_db(env.uri)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(db, env.hs),
        name="heritage-worker",
        kwargs={"processes": env.hs.worker_processes, "stop": stop},
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        db.close()


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c", "--config", default="development.ini", help="the ini file (default: development.ini)"
    )
    parser = argparse.ArgumentParser(prog="heritage", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", parents=[common], help="serve the site (starts ZEO if needed)")
    p.add_argument("--port", type=int, help="port to listen on (default from the ini)")
    p.add_argument("--host", help="address to listen on (default from the ini)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("zeo", parents=[common], help="run the ZEO database server")
    p.set_defaults(func=cmd_zeo)

    p = sub.add_parser("demo", parents=[common], help="load the sample consortium")
    p.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (and succeed) if the database has content",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("evolve", parents=[common], help="upgrade the database schema")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--dry-run", action="store_true", help="run the steps, then abort them")
    group.add_argument("--latest", action="store_true", help="run only the newest pending step")
    group.add_argument(
        "--mark-finished",
        action="store_true",
        help="record pending steps as done without running them",
    )
    p.set_defaults(func=cmd_evolve)

    p = sub.add_parser("ingest", parents=[common], help="ingest a batch of masters into an item")
    p.add_argument("item_id")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders of masters")
    p.add_argument("--dry-run", action="store_true", help="check the files, store nothing")
    p.add_argument("--user", help="who is ingesting, for the event log (default: you)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "deaccession", parents=[common], help="remove a master or an item, keeping a tombstone"
    )
    p.add_argument("item_id")
    p.add_argument("file", nargs="?", help="the file's number (default: the whole item)")
    p.add_argument("--reason", required=True, help="why it is removed (recorded; required)")
    p.add_argument("--user", help="the admin it is done for (default: your login)")
    p.set_defaults(func=cmd_deaccession)

    p = sub.add_parser("audit", parents=[common], help="re-read the masters and check fixity")
    p.add_argument("--institution", metavar="ID", help="only this institution's masters")
    p.add_argument(
        "--since",
        metavar="DATE",
        help="only masters not checked since DATE (YYYY-MM-DD, ISO time, or an age: 30d)",
    )
    p.add_argument("--user", help="who is auditing, for the event log (default: you)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("pack", parents=[common], help="pack the database (drop old revisions)")
    p.add_argument(
        "--keep", metavar="AGE", help="history to keep, e.g. 7d or 0 (default: heritage.pack_keep)"
    )
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("export-bag", parents=[common], help="write an item as a BagIt bag")
    p.add_argument("item_id")
    p.add_argument("dest", metavar="DEST", help="the bag's folder (must not exist yet)")
    p.set_defaults(func=cmd_export_bag)

    p = sub.add_parser("import-bag", parents=[common], help="re-create an item from a bag")
    p.add_argument("bag", metavar="BAG", help="a bag written by export-bag")
    p.add_argument("--collection", metavar="ID", help="import into this collection instead")
    p.add_argument("--user", help="who is importing, for the event log (default: you)")
    p.set_defaults(func=cmd_import_bag)

    p = sub.add_parser("harvest", parents=[common], help="harvest partners (union catalogue)")
    p.add_argument("partner_id", nargs="?", help="only this partner (default: all enabled)")
    p.set_defaults(func=cmd_harvest)

    partner = sub.add_parser("partner", help="manage harvested partners").add_subparsers(
        dest="partner_command", required=True, metavar="ACTION"
    )
    p = partner.add_parser("add", parents=[common], help="add a partner to harvest")
    p.add_argument("partner_id")
    p.add_argument(
        "--name", action="append", required=True, metavar="[LANG=]TEXT", help="repeat per language"
    )
    p.add_argument("--url", required=True, help="its OAI-PMH base URL (http or https)")
    p.add_argument("--prefix", help="metadata prefix (default: oai_dc)")
    p.add_argument("--set", help="harvest only this setSpec")
    p.add_argument("--schedule", help="30m, 12h, 1d, 1w, or 0 for never (default: 1d)")
    p.add_argument("--disabled", action="store_true", help="add it switched off")
    p.set_defaults(func=cmd_partner)
    p = partner.add_parser("list", parents=[common], help="list partners and their last run")
    p.set_defaults(func=cmd_partner)
    p = partner.add_parser("remove", parents=[common], help="remove a partner and its records")
    p.add_argument("partner_id")
    p.set_defaults(func=cmd_partner)

    p = sub.add_parser("worker", parents=[common], help="run background jobs (derivatives)")
    p.add_argument("--once", action="store_true", help="stop when the queue is empty")
    p.add_argument("--processes", type=int, help="processes to build with (default: ini)")
    p.set_defaults(func=cmd_worker)

    user = sub.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    p = user.add_parser("add", parents=[common], help="add a user, or add roles to one")
    p.add_argument("username")
    p.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE[@INSTITUTION]",
        help="admin, or curator|digitizer|cataloguer|rights-officer@INSTITUTION_ID",
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--title", help="the person's name")
    p.add_argument("--email")
    p.set_defaults(func=cmd_user_add)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(
        dest="token_command", required=True, metavar="ACTION"
    )
    p = token.add_parser("create", parents=[common], help="create an API token; prints it")
    p.add_argument("username")
    p.add_argument("--label", help="what the token is for")
    p.set_defaults(func=cmd_token_create)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        env = Env(args.config)
        return args.func(env, args)
    except (CommandError, UserError, SettingsError, DatabaseError) as exc:
        print(f"heritage: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
