"""Schema generations: ordered upgrade steps, recorded in the database when finished.

Each ``step_NNNN_<what>.py`` here defines ``evolve(root)``. Finished steps are kept as
``{name: timestamp}`` in a BTree at the ZODB root, so that any process can tell what a
database still needs. A new database marks every step finished (it is born current).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import transaction
from BTrees.OOBTree import OOBTree

from heritage.resources.root import APP_ROOT, Root

FINISHED = "heritage.evolve.finished"
STEP_RE = re.compile(r"^step_\d{4}_[a-z0-9_]+$")


def step_names() -> list[str]:
    """Return the names of all steps, in order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if STEP_RE.match(m.name))


def load_step(name: str) -> Callable[[Any], None]:
    return importlib.import_module(f"{__name__}.{name}").evolve


def finished_steps(zodb_root: Any) -> Any:
    if FINISHED not in zodb_root:
        zodb_root[FINISHED] = OOBTree()
    return zodb_root[FINISHED]


def pending_steps(zodb_root: Any) -> list[str]:
    done = zodb_root.get(FINISHED, {})
    return [name for name in step_names() if name not in done]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mark_finished(zodb_root: Any, names: list[str]) -> None:
    done = finished_steps(zodb_root)
    for name in names:
        done[name] = _stamp()


def bootstrap(zodb_root: Any) -> Root:
    """Create the application root in an empty database, marking every step finished.

    The caller commits (a request's transaction, or the start-up one in :func:`prepare`).
    """
    root = Root()
    zodb_root[APP_ROOT] = root
    mark_finished(zodb_root, step_names())
    return root


def run_pending(
    conn: Any,
    tm: Any,
    *,
    dry_run: bool = False,
    latest: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Run the pending steps, one transaction each; return their names.

    ``latest`` runs only the newest pending step; ``dry_run`` runs each and aborts it.
    """
    names = pending_steps(conn.root())
    if latest:
        names = names[-1:]
    for name in names:
        if dry_run:
            tm.begin()
            try:
                load_step(name)(conn.root()[APP_ROOT])
            finally:
                tm.abort()
            log(f"checked {name}")
            continue
        for attempt in tm.attempts():
            with attempt:
                zodb_root = conn.root()
                load_step(name)(zodb_root[APP_ROOT])
                mark_finished(zodb_root, [name])
                tm.get().note(f"evolve {name}")
        log(f"ran {name}")
    return names


def prepare(db: Any) -> list[str]:
    """Bootstrap an empty database, or upgrade an existing one; return the steps run."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            zodb_root = conn.root()
            if APP_ROOT not in zodb_root:
                bootstrap(zodb_root)
                tm.get().note("bootstrap Borneo Heritage")
                return []
        return run_pending(conn, tm)
    finally:
        conn.close()
