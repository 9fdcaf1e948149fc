"""Harvest partners into the union catalogue: the database side of :mod:`.client`.

One partner at a time, records are fetched outside any transaction and stored every
``heritage.harvest_batch`` records in one transaction each (store + catalog index + the
run's counts), so that a failure part-way keeps everything committed before it, all of it
valid. Records are keyed by partner and OAI identifier: a re-run updates, never duplicates.
The partner's ``last_datestamp`` moves only when a run completes, to the partner's own
``responseDate`` at the start of that run; so after a failure the next run starts from the
same point again, and records changed while a run was going are picked up next time.

A failure of one partner (bad XML, a rejected resumption token, an OAI error, a timeout, or
a bug of ours) is recorded in its log and never stops the harvest of the others.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from heritage.harvest.client import ClientOptions, HarvestError, OAIClient
from heritage.harvest.records import HarvestedData
from heritage.resources.partners import FAILED, SUCCESS, now_iso
from heritage.resources.root import APP_ROOT

log = logging.getLogger(__name__)

#: A datestamp we can send back as ``from``: day or seconds granularity, UTC.
DATESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")
DAY_GRANULARITY = "YYYY-MM-DD"
INTERNAL = "internal"

#: ``progress(records_seen)`` after each stored batch and at the end.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunResult:
    """What one partner's harvest did, for the command line's summary."""

    partner_id: str
    outcome: str  # SUCCESS or FAILED
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    reason: str = ""  # HarvestError.reason, "internal", or "" on success
    error: str = ""
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.added + self.updated + self.deleted + self.unchanged


def options_from(hs: Any) -> ClientOptions:
    return ClientOptions(
        timeout=max(hs.harvest_timeout, 0.001),
        retries=max(hs.harvest_retries, 0),
        backoff=max(hs.harvest_backoff, 0.0),
    )


def _catalog() -> tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]] | None:
    """Return the search catalog's ``(index_harvested, unindex_harvested)``, if it has them."""
    try:
        from heritage import catalog
    except ImportError:  # pragma: no cover - the catalog is part of the app
        return None
    index = getattr(catalog, "index_harvested", None)
    unindex = getattr(catalog, "unindex_harvested", None)
    return (index, unindex) if index and unindex else None


def store_batch(root: Any, partner_id: str, batch: Iterable[HarvestedData]) -> dict[str, int]:
    """Store records of a partner and keep the catalog in step; return counts by outcome.

    Runs inside the caller's transaction, so records and their index entries commit together.
    """
    partner = root.partners[partner_id]
    catalog = _catalog()
    counts = {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    for data in batch:
        what, record = root.harvested.store(partner_id, partner.name, data.as_fields())
        counts[what] += 1
        if catalog is None or record is None:
            continue
        if what in ("added", "updated"):
            catalog[0](root, record)
        elif what == "deleted":
            catalog[1](root, record)
    return counts


def harvest_partner(
    conn: Any,
    tm: Any,
    partner_id: str,
    hs: Any,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Harvest one partner incrementally; record the run in its log; never raise for the
    partner's faults (the result and the log say what happened).

    :raises KeyError: there is no partner ``partner_id``.
    """
    started = time.monotonic()
    for attempt in tm.attempts():
        with attempt:
            partner = conn.root()[APP_ROOT].partners[partner_id]
            run_key = partner.start_run().__name__
            url, prefix, set_spec = partner.url, partner.prefix, partner.set_spec
            since, granularity = partner.last_datestamp, partner.granularity
            tm.get().note(f"harvest {partner_id}: start")
    counts = {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    seen = 0
    batch: list[HarvestedData] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        for attempt in tm.attempts():
            with attempt:
                root = conn.root()[APP_ROOT]
                stored = store_batch(root, partner_id, batch)
                run = root.partners[partner_id].runs.get(run_key)
                for name, n in stored.items() if run is not None else ():
                    setattr(run, name, getattr(run, name) + n)
                tm.get().note(f"harvest {partner_id}: {len(batch)} records")
        for name, n in stored.items():
            counts[name] += n
        batch = []
        if progress:
            progress(seen)

    reason = error = ""
    new_datestamp = ""
    client = OAIClient(url, options_from(hs), sleep=sleep)
    try:
        identity = client.identify()
        granularity = identity.get("granularity") or granularity
        response_date = client.response_dates[0] if client.response_dates else ""
        from_ = since[:10] if since and granularity == DAY_GRANULARITY else since
        for data in client.list_records(prefix, set_spec=set_spec, from_=from_):
            batch.append(data)
            seen += 1
            if len(batch) >= max(hs.harvest_batch, 1):
                flush()
        flush()
        if DATESTAMP_RE.match(response_date):
            new_datestamp = response_date
        else:
            log.warning("partner %s sent no usable responseDate: %r", partner_id, response_date)
            new_datestamp = since
    except HarvestError as exc:
        reason, error = exc.reason, str(exc)
    except Exception as exc:  # our own bug, or the database: still, the others go on
        log.exception("harvest of %s failed", partner_id)
        reason, error = INTERNAL, f"internal error: {type(exc).__name__}: {exc}"[:500]
    finally:
        client.close()
    outcome = FAILED if reason else SUCCESS
    if progress:
        progress(seen)
    for attempt in tm.attempts():
        with attempt:
            partner = conn.root()[APP_ROOT].partners.get(partner_id)
            if partner is None:  # removed while we harvested
                break
            run = partner.runs.get(run_key)
            if run is not None:
                run.finished, run.outcome, run.error = now_iso(), outcome, error
            if outcome == SUCCESS:
                partner.last_datestamp = new_datestamp
                if granularity != partner.granularity:
                    partner.granularity = granularity
            tm.get().note(f"harvest {partner_id}: {outcome}")
    return RunResult(
        partner_id,
        outcome,
        reason=reason,
        error=error,
        seconds=time.monotonic() - started,
        **counts,
    )


def partners_to_harvest(root: Any, partner_id: str | None = None) -> list[str]:
    """Return the ids to harvest: the one asked for (even if disabled), or all enabled.

    :raises KeyError: ``partner_id`` is not a partner.
    """
    if partner_id is not None:
        root.partners[partner_id]
        return [partner_id]
    return [p.__name__ for p in root.partners.enabled()]


def drop_partner_records(conn: Any, tm: Any, partner_id: str, batch_size: int = 500) -> int:
    """Unindex and remove every record harvested from a partner, a batch per transaction."""
    dropped = 0
    catalog = _catalog()
    while True:
        for attempt in tm.attempts():
            with attempt:
                root = conn.root()[APP_ROOT]
                records = root.harvested.records_of(partner_id)
                if records is None:
                    return dropped
                identifiers = []
                for identifier in records.identifiers():
                    identifiers.append(identifier)
                    if len(identifiers) == batch_size:
                        break
                for identifier in identifiers:
                    record = records.get(identifier)
                    if catalog is not None and not record.deleted:
                        catalog[1](root, record)
                done = root.harvested.drop(partner_id, identifiers)
                tm.get().note(f"drop {len(done)} records of partner {partner_id}")
        dropped += len(done)
