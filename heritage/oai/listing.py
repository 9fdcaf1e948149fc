"""Pages of a selective list (from, until, set), in item id order, without full scans.

A list is ordered by item id and continued after the last id sent: a stable key, so that
records added, changed or deleted between two pages never shift the rest or come twice.
(Ordering by datestamp would move a record changed mid-harvest past the end.) A record
changed before the harvester reaches it comes with its new state; one changed after it was
sent comes in the next incremental harvest (``from`` = this one's responseDate).

Two ways to find the next page, chosen per page by what costs less:

* walk ids from the cursor (of the set, if any), checking each record's datestamp: about
  ``limit × population / matches`` records per page, the whole list once over all pages;
* read the ``from``/``until`` range of the datestamp index and keep the smallest ids after
  the cursor: ``matches`` keys per page.

The range is read only while it is smaller than ``sqrt(limit × population)``, the point
where both cost the same, so a narrow incremental harvest never walks the repository and a
wide one never re-reads its range on every page.
"""

from __future__ import annotations

import heapq
import math
from itertools import islice

from heritage.oai.records import OAIRecord, OAIRecords


def population(records: OAIRecords, spec: str | None) -> int:
    return records.set_size(spec) if spec is not None else len(records)


def count(records: OAIRecords, start: str | None, end: str | None, spec: str | None) -> int:
    """Return how many records the list has (``completeListSize``)."""
    if start is None and end is None:
        return population(records, spec)
    return sum(
        1
        for _, item_id in records.stamped(start, end)
        if spec is None or records.in_set(spec, item_id)
    )


def page(
    records: OAIRecords,
    *,
    start: str | None,
    end: str | None,
    spec: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[tuple[str, OAIRecord]], bool]:
    """Return up to ``limit`` ``(item_id, record)`` after ``after``, and whether more follow."""
    if start is not None or end is not None:
        threshold = max(limit, math.isqrt(limit * max(population(records, spec), 1)))
        in_range = list(islice(records.stamped(start, end), threshold + 1))
        if len(in_range) <= threshold:
            ids = heapq.nsmallest(
                limit + 1,
                (
                    item_id
                    for _, item_id in in_range
                    if (after is None or item_id > after)
                    and (spec is None or records.in_set(spec, item_id))
                ),
            )
            found = [(item_id, records.records[item_id]) for item_id in ids]
            return found[:limit], len(found) > limit
    found = []
    for item_id in records.ids(after=after, spec=spec):
        record = records.records[item_id]
        if (start is None or record.datestamp >= start) and (
            end is None or record.datestamp <= end
        ):
            found.append((item_id, record))
            if len(found) > limit:
                break
    return found[:limit], len(found) > limit
