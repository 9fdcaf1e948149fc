"""Staff reports (issue part 7): items per state, weekly throughput and time spent per state,
for one institution or the whole consortium, as a page with charts, as CSV and as JSON.

``GET /staff/reports[?institution=ID|all][&weeks=N]`` — the page;
``GET /staff/reports.csv?report=states|throughput|time[&institution=…][&weeks=N]`` — one table;
``GET /api/reports[?institution=…][&weeks=N]`` — all the numbers as JSON.

Institution staff see their own institutions; admins see every institution and the
consortium as a whole (``institution=all``, their default). Asking for another institution's
report is 403.

Cost: items per state come from each institution's ``Length`` counters, never from its items.
Throughput and time in state need events, so the report loads every item of the institutions
in scope and, from each item's event log, only the keys of the window (``data.values(min=…)``:
keys start with a sortable timestamp, so older events are not read). That is one object per
item plus the window's buckets — fine for a staff page asked for now and then, not for a hot
path; cache or precompute it if the consortium grows to hundreds of thousands of items.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from heritage.validation import ValidationFailed
from heritage.views.helpers import pick
from workflows.reports import (
    THROUGHPUT_COLUMNS,
    TIME_COLUMNS,
    as_utc,
    bar_chart_svg,
    items_per_state,
    line_chart_svg,
    moves_from_events,
    time_in_state,
    to_csv,
    weekly_throughput,
    window_start,
)

#: ``institution=`` value for the whole consortium (admins only).
CONSORTIUM = "all"
#: The tables a CSV download may ask for.
REPORTS: tuple[str, ...] = ("states", "throughput", "time")
DEFAULT_WEEKS = 12
MAX_WEEKS = 104


def includeme(config: Configurator) -> None:
    """Add this module's routes (its views are found by the scan)."""
    config.add_route("reports", "/staff/reports")
    config.add_route("reports_csv", "/staff/reports.csv")
    config.add_route("api_reports", "/api/reports")


# -- what the user asks for ----------------------------------------------------------------


def _weeks(request: Any) -> int:
    raw = request.params.get("weeks", str(DEFAULT_WEEKS))
    try:
        weeks = int(raw)
    except ValueError:
        raise ValidationFailed({"weeks": "must be a whole number"}) from None
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationFailed({"weeks": f"must be between 1 and {MAX_WEEKS}"})
    return weeks


def _scope(request: Any) -> tuple[str, list[Any], list[Any]]:
    """Return the scope asked for (an institution id or ``all``), its institutions, and every
    institution the user may report on (for the chooser).

    :raises HTTPForbidden: not signed in, no institution to report on, or not theirs.
    :raises HTTPNotFound: no such institution.
    """
    if request.identity is None:
        raise HTTPForbidden()
    root = request.root
    institutions = root.institutions
    # The root grants admins every permission and everyone else only "view": so "staff" on
    # the root means "may see the whole consortium". Institutions grant it to their staff.
    consortium = request.has_permission("staff", root)
    if consortium:
        choices = list(institutions.values())  # the members: a few dozen at most
    else:
        choices = [
            institutions[i]
            for i in request.identity.institutions()
            if i in institutions and request.has_permission("staff", institutions[i])
        ]
    wanted = request.params.get("institution", "")
    if not wanted:
        if consortium:
            return CONSORTIUM, choices, choices
        if not choices:
            raise HTTPForbidden()
        return choices[0].__name__, choices[:1], choices
    if wanted == CONSORTIUM:
        if not consortium:
            raise HTTPForbidden()
        return CONSORTIUM, choices, choices
    institution = institutions.get(wanted)
    if institution is None:
        raise HTTPNotFound()
    if not request.has_permission("staff", institution):
        raise HTTPForbidden()
    return wanted, [institution], choices


# -- gathering -----------------------------------------------------------------------------


def _event_key(moment: datetime) -> str:
    """Return the event-log key at ``moment`` (keys start ``YYYYMMDDTHHMMSS.ffffff``, UTC)."""
    return moment.strftime("%Y%m%dT%H%M%S.%f")


def _items(institution: Any) -> Any:
    for collection in institution.collections.values():
        yield from collection.items.values()


def gather(
    institutions: list[Any], weeks: int, now: datetime, *, history: bool = True
) -> dict[str, Any]:
    """Return the three reports over ``institutions`` for the ``weeks`` weeks ending now.

    Time in state covers the stays that began in the window (from the moves in it, and from
    the creation of items made in it); see :func:`workflows.reports.time_in_state`.
    Without ``history`` only the items per state are made, from the counters: no item is read.
    """
    today = now.date()
    start = datetime.combine(window_start(weeks, today), time(), tzinfo=UTC)
    first_key = _event_key(start)
    events: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for institution in institutions if history else ():
        for item in _items(institution):
            window = list(item.events.data.values(min=first_key))
            events.extend(window)
            made = item.created if as_utc(item.created) >= start else None
            moves.extend(moves_from_events(item.item_id, window, created=made, state=item.state))
    return {
        "states": items_per_state({i.__name__: i.counts() for i in institutions}),
        "throughput": weekly_throughput(events, weeks, today),
        "time": time_in_state(moves, now=now),
        "window_start": start.date().isoformat(),
    }


def _report(request: Any, *, history: bool = True) -> dict[str, Any]:
    scope, institutions, choices = _scope(request)
    weeks = _weeks(request)
    now = datetime.now(UTC)
    data = gather(institutions, weeks, now, history=history)
    names = {i.__name__: pick(i.name, request) for i in choices}
    for row in data["states"]["rows"]:
        row["name"] = names.get(row["institution"], row["institution"])
    return {
        "scope": scope,
        "institutions": institutions,
        "choices": choices,
        "names": names,
        "weeks": weeks,
        "generated": now.isoformat(timespec="seconds"),
        **data,
    }


# -- views ---------------------------------------------------------------------------------


@view_config(route_name="reports", renderer="heritage:templates/reports.jinja2")
def reports_page(request: Any) -> dict[str, Any]:
    """The reports page: tables and inline SVG charts for the scope chosen."""
    report = _report(request)
    report.update(
        consortium=CONSORTIUM,
        reports=REPORTS,
        bar_chart=bar_chart_svg,
        line_chart=line_chart_svg,
        pick=pick,
    )
    return report


@view_config(route_name="api_reports", renderer="json")
def reports_json(request: Any) -> dict[str, Any]:
    """The same numbers as the page, as JSON."""
    report = _report(request)
    return {
        "scope": report["scope"],
        "institutions": [
            {"id": i.__name__, "name": report["names"][i.__name__]} for i in report["institutions"]
        ],
        "weeks": report["weeks"],
        "window_start": report["window_start"],
        "generated": report["generated"],
        "items_per_state": report["states"],
        "throughput": report["throughput"],
        "time_in_state": report["time"],
    }


def _state_rows(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    table = report["states"]
    rows = list(table["rows"])
    if len(rows) > 1:
        rows.append({"institution": "", "name": "Total", **table["totals"]})
    return rows, ["institution", "name", *table["states"], "total"]


@view_config(route_name="reports_csv")
def reports_csv(request: Any) -> Response:
    """One report as a CSV download (``report=states|throughput|time``)."""
    if request.identity is None:  # log in first, then hear what is wrong with the request
        raise HTTPForbidden()
    kind = request.params.get("report", "")
    if kind not in REPORTS:
        raise ValidationFailed({"report": f"must be one of {', '.join(REPORTS)}"})
    report = _report(request, history=kind != "states")
    if kind == "states":
        rows, columns = _state_rows(report)
    elif kind == "throughput":
        rows, columns = report["throughput"], list(THROUGHPUT_COLUMNS)
    else:
        rows, columns = report["time"], list(TIME_COLUMNS)
    day = report["generated"][:10]
    scope = re.sub(r"[^A-Za-z0-9_-]", "-", report["scope"])
    filename = f"heritage-{kind}-{scope}-{day}.csv"
    return Response(
        body=to_csv(rows, columns).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="{filename}"',
        cache_control="private, no-store",
    )
