"""Workflow reports: items per state, weekly throughput, time spent per state, as tables,
CSV and small SVG charts (issue part 7, "Reports").

Plain functions over plain data: counts as ``{institution: {state: n}}``, events as the
dicts an item's event log holds (``"type"``, ``"date"`` in ISO 8601, and for a workflow
transition a ``"workflow"`` dict with ``"source"``, ``"target"`` and ``"when"``). The caller
gathers them from the database; nothing here touches Pyramid or ZODB.

Dates: a naive datetime is taken as UTC, an aware one is converted to UTC, and weeks are ISO
8601 weeks (Monday to Sunday) in UTC.

The charts are static SVG meant to be put inline in an HTML page: ``role="img"`` with a
``<title>`` and a ``<desc>`` that says every value in words, text labels rather than colour
alone, the generic ``sans-serif`` font, and no scripts, links or external resources. Every
piece of text is escaped with :func:`xml.sax.saxutils.escape`.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from workflows.states import PUBLISHED, REJECTED, STATES, WITHDRAWN

#: The event type of a file stored for an item (one per page or file).
INGESTION = "ingestion"
#: States an item rests in rather than waits in: an open stay there is not waiting time, so
#: :func:`time_in_state` leaves it out (a finished one, e.g. published → withdrawn, counts).
RESTING_STATES = frozenset({PUBLISHED, WITHDRAWN, REJECTED})
#: The columns of :func:`weekly_throughput` rows, in order.
THROUGHPUT_COLUMNS: tuple[str, ...] = ("week", "start", "pages_ingested", "items_published")
#: The columns of :func:`time_in_state` rows, in order.
TIME_COLUMNS: tuple[str, ...] = ("state", "stays", "open", "median_days", "mean_days")
#: Leading characters that make a spreadsheet read a CSV cell as a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SECONDS_PER_DAY = 86400


# -- dates ---------------------------------------------------------------------------------


def as_utc(value: datetime | str) -> datetime:
    """Return ``value`` (a datetime or an ISO 8601 string) as an aware UTC datetime.

    :raises ValueError: the string is not an ISO 8601 date-time.
    """
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def week_start(day: date) -> date:
    """Return the Monday that starts the ISO 8601 week of ``day``."""
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    """Return the ISO 8601 week of ``day`` as ``YYYY-Www`` (``2025-W01`` may start in 2024)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def window_start(weeks: int, today: date) -> date:
    """Return the Monday starting the first of the ``weeks`` ISO weeks that end with today's.

    Callers use it to read only the events in the window (event-log keys sort by time).

    :raises ValueError: ``weeks`` is less than 1.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    return week_start(today) - timedelta(weeks=weeks - 1)


def _today() -> date:
    return datetime.now(UTC).date()


# -- items per state -----------------------------------------------------------------------


def items_per_state(
    counts_by_institution: Mapping[str, Mapping[str, int]], states: Sequence[str] = STATES
) -> dict[str, Any]:
    """Return the number of items in each state, per institution and in total.

    :param counts_by_institution: ``{institution: {state: n}}`` in the order to show, as
        ``Institution.counts()`` gives them (states with no items may be missing).
    :param states: the states to report, in order; a state found in the counts but not
        here (one a release removed) is appended, so the totals stay right.
    :returns: ``{"states": [...], "rows": [{"institution": id, state: n, …, "total": n}],
        "totals": {state: n, …, "total": n}}``.
    """
    columns = list(states)
    for counts in counts_by_institution.values():
        columns.extend(s for s in counts if s not in columns)
    rows = []
    totals = dict.fromkeys([*columns, "total"], 0)
    for institution, counts in counts_by_institution.items():
        row: dict[str, Any] = {"institution": institution}
        for state in columns:
            row[state] = int(counts.get(state, 0))
            totals[state] += row[state]
        row["total"] = sum(row[s] for s in columns)
        totals["total"] += row["total"]
        rows.append(row)
    return {"states": columns, "rows": rows, "totals": totals}


# -- throughput ----------------------------------------------------------------------------


def weekly_throughput(
    events: Iterable[Mapping[str, Any]], weeks: int = 12, today: date | None = None
) -> list[dict[str, Any]]:
    """Return pages ingested and items published in each of the last ``weeks`` ISO weeks.

    A page is an ``ingestion`` event (one per stored file), dated by its ``date``. An item
    is published by a workflow transition whose target is ``published``, dated by the
    transition's ``when``; publishing again after a withdrawal counts again. Events outside
    the window are ignored, so the caller may pass more than it needs.

    :param events: event-log dicts of any items.
    :param weeks: how many weeks, ending with the week of ``today``.
    :param today: the current day (default: today in UTC).
    :returns: one row per week, oldest first, weeks with nothing included: ``{"week":
        "2025-W03", "start": "2025-01-13", "pages_ingested": n, "items_published": n}``.
    :raises ValueError: ``weeks`` is less than 1.
    """
    today = today or _today()
    first = window_start(weeks, today)
    rows = {}
    for i in range(weeks):
        monday = first + timedelta(weeks=i)
        rows[monday] = {
            "week": week_label(monday),
            "start": monday.isoformat(),
            "pages_ingested": 0,
            "items_published": 0,
        }
    for event in events:
        workflow = event.get("workflow")
        if event.get("type") == INGESTION:
            column, when = "pages_ingested", event.get("date")
        elif workflow and workflow.get("target") == PUBLISHED:
            column, when = "items_published", workflow.get("when") or event.get("date")
        else:
            continue
        if not when:
            continue
        row = rows.get(week_start(as_utc(when).date()))
        if row is not None:
            row[column] += 1
    return list(rows.values())


# -- time in state -------------------------------------------------------------------------


def moves_from_events(
    item: str,
    events: Iterable[Mapping[str, Any]],
    *,
    created: datetime | str | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """Return an item's workflow moves, oldest first, from its event-log dicts.

    :param item: the item id each move is labelled with.
    :param events: the item's events (only those with a ``workflow`` dict are moves).
    :param created: when the item was made, if the caller knows its whole history from then
        on; a first move ``{"source": None, "target": …}`` then starts its first stay. The
        state it was made in is the source of its first transition, else ``state``.
    :param state: the item's current state (used only with ``created``).
    :returns: ``[{"item", "source", "target", "when"}]`` with ``when`` an aware datetime.
    """
    moves = [
        {
            "item": item,
            "source": e["workflow"].get("source"),
            "target": e["workflow"]["target"],
            "when": as_utc(e["workflow"].get("when") or e["date"]),
        }
        for e in events
        if e.get("workflow") and e["workflow"].get("target")
    ]
    moves.sort(key=lambda m: m["when"])
    if created is not None:
        made = as_utc(created)
        initial = moves[0]["source"] if moves else state
        # A creation after the first move is a record we cannot trust (an import that kept
        # old events): leave the first stay unmeasured rather than invent one.
        if initial and (not moves or made <= moves[0]["when"]):
            moves.insert(0, {"item": item, "source": None, "target": initial, "when": made})
    return moves


def time_in_state(
    transitions: Iterable[Mapping[str, Any]],
    *,
    now: datetime | None = None,
    states: Sequence[str] = STATES,
) -> list[dict[str, Any]]:
    """Return, for each state, how many days items stayed in it: the median and the mean.

    A stay in a state runs from the move into it to the next move of the same item. Items
    still in a state count up to ``now`` (an item stuck in QA is exactly what the report must
    show); ``open`` says how many of the stays are still running. Open stays in the
    :data:`RESTING_STATES` (published, withdrawn, rejected) are not counted: nobody is
    meant to act on them. A stay whose start is not among the moves (it began before the
    events given) cannot be measured and is left out; so is one where the next move does not
    start from the state the previous one entered (a gap in the record).

    :param transitions: moves ``{"item", "source", "target", "when"}`` (``when`` a datetime
        or ISO string), in any order; :func:`moves_from_events` makes them from events.
    :param now: the end of open stays (default: now, UTC).
    :param states: the order of the rows; states not in it follow, sorted.
    :returns: one row per state with at least one stay: ``{"state", "stays", "open",
        "median_days", "mean_days"}``, days rounded to 2 decimals.
    """
    end = as_utc(now) if now is not None else datetime.now(UTC)
    by_item: dict[str, list[tuple[datetime, Mapping[str, Any]]]] = defaultdict(list)
    for move in transitions:
        by_item[move["item"]].append((as_utc(move["when"]), move))
    days: dict[str, list[float]] = defaultdict(list)
    open_stays: dict[str, int] = defaultdict(int)
    for moves in by_item.values():
        moves.sort(key=lambda pair: pair[0])
        for (start, move), (finish, after) in itertools.pairwise(moves):
            if after.get("source") == move["target"]:
                days[move["target"]].append(_days(start, finish))
        start, last = moves[-1]
        if last["target"] not in RESTING_STATES:
            days[last["target"]].append(_days(start, end))
            open_stays[last["target"]] += 1
    order = [s for s in states if s in days] + sorted(s for s in days if s not in states)
    return [
        {
            "state": state,
            "stays": len(days[state]),
            "open": open_stays[state],
            "median_days": round(statistics.median(days[state]), 2),
            "mean_days": round(statistics.fmean(days[state]), 2),
        }
        for state in order
    ]


def _days(start: datetime, finish: datetime) -> float:
    return max(0.0, (finish - start).total_seconds() / _SECONDS_PER_DAY)


# -- CSV -----------------------------------------------------------------------------------


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str | tuple[str, str]]) -> str:
    """Return ``rows`` as CSV text (RFC 4180: CRLF line ends, quotes where needed).

    :param columns: the keys to write, in order; each a key, or ``(key, heading)`` to give
        the header row another name. A missing key or ``None`` is an empty cell.

    Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return) is prefixed with ``'``; numbers are written as they are.
    """
    keys = [c if isinstance(c, str) else c[0] for c in columns]
    headings = [c if isinstance(c, str) else c[1] for c in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in headings])
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in keys])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# -- SVG charts ----------------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_FONT = 'font-family="sans-serif" font-size="12"'
_INK = "#222222"
_MUTED = "#666666"
_RULE = "#cccccc"
#: Series colours and dash patterns: each series differs in more than colour.
_COLOURS = ("#8a3a12", "#1f5f8b", "#3b7a2a", "#6b3f8f")
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_MARKERS = ("circle", "square", "diamond", "triangle")


def _ident(ident: str) -> str:
    """Return ``ident`` reduced to characters safe in an XML id and a URL fragment."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", ident).strip("-")
    return cleaned if cleaned and cleaned[0].isalpha() else f"chart-{cleaned}".rstrip("-")


def _number(value: float) -> str:
    """Return a value as chart text: whole numbers without decimals, others with one."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _axis(peak: float, ticks: int = 4, *, whole: bool = False) -> tuple[float, int]:
    """Return a round tick step (1, 2 or 5 × 10ⁿ) and the number of steps to reach ``peak``,
    so that an axis of about ``ticks`` steps never shows values like 1.25; with ``whole``
    (counts), the step is at least 1."""
    if peak <= 0:
        return 1.0, 1
    raw = peak / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(step, 1.0)
    return step, max(1, math.ceil(peak / step - 1e-9))


def _short(text: str, limit: int = 32) -> str:
    """Return ``text`` cut to ``limit`` characters with an ellipsis, to fit beside a bar."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _open_svg(ident: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="{_SVG_NS}" class="chart" id="{ident}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'style="max-width:100%;height:auto">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _no_data(ident: str, title: str, desc: str, empty: str, width: int) -> str:
    parts = _open_svg(ident, width, 40, title, desc or empty)
    parts.append(f'<text x="8" y="24" {_FONT} fill="{_MUTED}">{escape(empty)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart_svg(
    series: Sequence[float | None],
    labels: Sequence[str],
    title: str,
    *,
    desc: str = "",
    ident: str = "bar-chart",
    unit: str = "",
    empty: str = "No data",
    width: int = 560,
) -> str:
    """Return a horizontal bar chart as an SVG element: one labelled bar per value.

    :param series: the values (``None``: no bar, the value is shown as "–").
    :param labels: one label per value, written beside its bar.
    :param title: the chart's accessible name.
    :param desc: its description (default: every label with its value, in words).
    :param ident: the element id (also prefixes the title and desc ids); make it unique in
        the page.
    :param unit: appended to each value label (e.g. ``" d"``).
    :param empty: the text shown when there are no values.
    :raises ValueError: ``series`` and ``labels`` differ in length.
    """
    if len(series) != len(labels):
        raise ValueError("bar_chart_svg needs one label per value")
    ident = _ident(ident)
    if not series:
        return _no_data(ident, title, desc, empty, width)
    shown = [("–" if v is None else _number(v) + unit) for v in series]
    desc = desc or "; ".join(
        f"{label}: {value}" for label, value in zip(labels, shown, strict=True)
    )
    labels = [_short(str(label)) for label in labels]  # in full in the description
    label_width = min(240, 16 + 7 * max(len(label) for label in labels))
    value_width = 16 + 7 * max(len(s) for s in shown)
    bar_space = max(40, width - label_width - value_width)
    row, top = 24, 8
    height = top * 2 + row * len(series)
    peak = max((v for v in series if v is not None), default=0) or 1
    parts = _open_svg(ident, width, height, title, desc)
    parts.append(f'<g {_FONT} fill="{_INK}">')
    for i, (value, label, text) in enumerate(zip(series, labels, shown, strict=True)):
        y = top + i * row
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
        )
        length = 0.0 if value is None else max(0.0, value) / peak * bar_space
        if length:
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
                f'fill="{_COLOURS[0]}"/>'
            )
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{escape(text)}</text>')
    parts.append(
        f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}" '
        f'stroke="{_MUTED}"/>'
    )
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart_svg(
    series: Mapping[str, Sequence[float]],
    labels: Sequence[str],
    title: str,
    *,
    desc: str = "",
    ident: str = "line-chart",
    empty: str = "No data",
    width: int = 640,
    height: int = 280,
) -> str:
    """Return a line chart as an SVG element: one line per series over the same x labels.

    Each series has its own colour, dash pattern and marker shape, and a legend names it,
    so it can be told apart without colour. Every point has a ``<title>`` with its value.

    :param series: ``{name: values}``, each with one value per label.
    :param labels: the x-axis labels (e.g. ISO weeks); long runs are thinned to fit.
    :param title: the chart's accessible name.
    :param desc: its description (default: each series with all its values, in words).
    :param ident: the element id (also prefixes the title and desc ids).
    :param empty: the text shown when there are no labels or no series.
    :raises ValueError: a series has not one value per label, or there are more series than
        the chart has styles for (4).
    """
    ident = _ident(ident)
    if any(len(values) != len(labels) for values in series.values()):
        raise ValueError("line_chart_svg needs one value per label in every series")
    if len(series) > len(_COLOURS):
        raise ValueError(f"line_chart_svg draws at most {len(_COLOURS)} series")
    if not labels or not series:
        return _no_data(ident, title, desc, empty, width)
    desc = desc or " ".join(
        f"{name}: "
        + ", ".join(f"{label} {_number(v)}" for label, v in zip(labels, values, strict=True))
        + "."
        for name, values in series.items()
    )
    left, right, top = 48, 32, 12
    legend_height = 20 * len(series)
    bottom = 44 + legend_height
    plot_w, plot_h = width - left - right, height - top - bottom
    whole = all(float(v).is_integer() for values in series.values() for v in values)
    step, ticks = _axis(max((max(v, default=0) for v in series.values()), default=0), whole=whole)
    peak = step * ticks
    step_x = plot_w / max(1, len(labels) - 1)

    def x_at(i: int) -> float:
        return left + (i * step_x if len(labels) > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return top + plot_h - max(0.0, value) / peak * plot_h

    parts = _open_svg(ident, width, height, title, desc)
    parts.append(f'<g {_FONT} fill="{_INK}">')
    for t in range(ticks + 1):  # horizontal rules and y-axis values
        value = step * t
        y = y_at(value)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{_RULE}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(f"{value:g}")}</text>'
        )
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 64)))
    last = len(labels) - 1
    for i, label in enumerate(labels):  # x-axis labels, thinned so they do not overlap
        if i == last or (i % every == 0 and last - i >= every):
            parts.append(
                f'<text x="{x_at(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                f'font-size="10">{escape(str(label))}</text>'
            )
    for n, (name, values) in enumerate(series.items()):
        colour, dash, marker = _COLOURS[n], _DASHES[n], _MARKERS[n]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashes}/>'
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=True)):
            tip = escape(f"{name}, {label}: {_number(value)}")
            parts.append(_marker(marker, x_at(i), y_at(value), colour, tip))
        y = height - legend_height + 20 * n
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + 28}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="2"{dashes}/>'
        )
        parts.append(_marker(marker, left + 14, y, colour, escape(str(name))))
        parts.append(f'<text x="{left + 36}" y="{y + 4:.1f}">{escape(str(name))}</text>')
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _marker(shape: str, x: float, y: float, colour: str, tip: str) -> str:
    """Return a point marker of ``shape`` at (x, y), with ``tip`` (escaped) as its title."""
    fill = f"fill={quoteattr(colour)}"
    if shape == "circle":
        element = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" {fill}>'
        close = "</circle>"
    elif shape == "square":
        element = f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" {fill}>'
        close = "</rect>"
    else:
        if shape == "diamond":
            points = [(x, y - 4.5), (x + 4.5, y), (x, y + 4.5), (x - 4.5, y)]
        else:
            points = [(x, y - 4.5), (x + 4.5, y + 4), (x - 4.5, y + 4)]
        coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        element = f'<polygon points="{coords}" {fill}>'
        close = "</polygon>"
    return f"{element}<title>{tip}</title>{close}"
