"""Tests for workflows.reports: items per state, weekly throughput, time in state, CSV, SVG."""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from workflows import reports
from workflows.reports import (
    RESTING_STATES,
    THROUGHPUT_COLUMNS,
    TIME_COLUMNS,
    as_utc,
    bar_chart_svg,
    items_per_state,
    line_chart_svg,
    moves_from_events,
    time_in_state,
    to_csv,
    week_label,
    week_start,
    weekly_throughput,
    window_start,
)
from workflows.states import STATES

SVG = "{http://www.w3.org/2000/svg}"
WIB = timezone(timedelta(hours=8))  # Borneo time (Sarawak, Sabah, Brunei, North Kalimantan)
TODAY = date(2025, 1, 15)  # a Wednesday in ISO week 2025-W03
NOW = datetime(2025, 1, 15, 12, tzinfo=UTC)


def ingestion(when: str) -> dict:
    return {"type": "ingestion", "date": when, "objects": ("x/1",)}


def transition(source: str, target: str, when: str, *, event_type: str = "appraisal") -> dict:
    return {
        "type": event_type,
        "date": when,
        "objects": ("x",),
        "workflow": {"source": source, "target": target, "when": when},
    }


def move(item: str, source: str | None, target: str, when: str) -> dict:
    return {"item": item, "source": source, "target": target, "when": when}


def parse(svg: str) -> etree._Element:
    """Parse SVG as strict XML (no entities resolved, no network)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(svg.encode("utf-8"), parser)


# -- the library stays plain ---------------------------------------------------------------


def test_imports_no_web_or_database_code() -> None:
    tree = ast.parse(Path(reports.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not imported & {"heritage", "pyramid", "ZODB", "persistent", "BTrees", "transaction"}


# -- dates and ISO weeks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-13T00:00:00", datetime(2025, 1, 13, tzinfo=UTC)),  # naive: UTC
        ("2025-01-13T00:00:00+00:00", datetime(2025, 1, 13, tzinfo=UTC)),
        ("2025-01-13T07:00:00+08:00", datetime(2025, 1, 12, 23, tzinfo=UTC)),
        (datetime(2025, 1, 13, 8, tzinfo=WIB), datetime(2025, 1, 13, tzinfo=UTC)),
        (datetime(2025, 1, 13, 5), datetime(2025, 1, 13, 5, tzinfo=UTC)),
    ],
)
def test_as_utc(value, expected) -> None:
    result = as_utc(value)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_as_utc_refuses_what_is_not_a_date() -> None:
    with pytest.raises(ValueError):
        as_utc("last Tuesday")


@pytest.mark.parametrize(
    ("day", "monday", "label"),
    [
        (date(2025, 1, 13), date(2025, 1, 13), "2025-W03"),  # a Monday starts its own week
        (date(2025, 1, 19), date(2025, 1, 13), "2025-W03"),  # Sunday ends it
        (date(2025, 1, 20), date(2025, 1, 20), "2025-W04"),
        (date(2024, 12, 30), date(2024, 12, 30), "2025-W01"),  # week 1 begins in December
        (date(2025, 1, 1), date(2024, 12, 30), "2025-W01"),
        (date(2021, 1, 3), date(2020, 12, 28), "2020-W53"),  # early January, last year's week
        (date(2026, 12, 31), date(2026, 12, 28), "2026-W53"),  # a 53-week year
        (date(2027, 1, 3), date(2026, 12, 28), "2026-W53"),
        (date(2027, 1, 4), date(2027, 1, 4), "2027-W01"),
    ],
)
def test_iso_weeks(day: date, monday: date, label: str) -> None:
    assert week_start(day) == monday
    assert week_label(day) == label
    assert week_label(monday) == label


@pytest.mark.parametrize(
    ("weeks", "today", "expected"),
    [
        (1, date(2025, 1, 15), date(2025, 1, 13)),
        (1, date(2025, 1, 13), date(2025, 1, 13)),
        (2, date(2025, 1, 19), date(2025, 1, 6)),
        (12, date(2025, 1, 15), date(2024, 10, 28)),
    ],
)
def test_window_start(weeks: int, today: date, expected: date) -> None:
    assert window_start(weeks, today) == expected
    assert expected.weekday() == 0


@pytest.mark.parametrize("weeks", [0, -3])
def test_window_needs_a_week(weeks: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        window_start(weeks, TODAY)
    with pytest.raises(ValueError, match="at least 1"):
        weekly_throughput([], weeks=weeks, today=TODAY)


# -- items per state -----------------------------------------------------------------------


def test_items_per_state_with_no_institutions() -> None:
    table = items_per_state({})
    assert table["states"] == list(STATES)
    assert table["rows"] == []
    assert table["totals"] == dict.fromkeys([*STATES, "total"], 0)


@pytest.mark.parametrize(
    ("counts", "rows", "totals"),
    [
        (
            {"pns": {"published": 3, "qa": 1}},
            [{"institution": "pns", "published": 3, "qa": 1, "total": 4}],
            {"published": 3, "qa": 1, "total": 4},
        ),
        (
            {"pns": {"published": 3}, "kaltim": {"published": 2, "capture": 5}, "empty": {}},
            [
                {"institution": "pns", "published": 3, "capture": 0, "total": 3},
                {"institution": "kaltim", "published": 2, "capture": 5, "total": 7},
                {"institution": "empty", "published": 0, "capture": 0, "total": 0},
            ],
            {"published": 5, "capture": 5, "total": 10},
        ),
        (  # a state counted once and then emptied keeps its counter at 0
            {"pns": {"nominated": 0, "selected": 2}},
            [{"institution": "pns", "nominated": 0, "selected": 2, "total": 2}],
            {"nominated": 0, "selected": 2, "total": 2},
        ),
    ],
)
def test_items_per_state(counts: dict, rows: list[dict], totals: dict) -> None:
    table = items_per_state(counts)
    assert table["states"] == list(STATES)
    assert [r["institution"] for r in table["rows"]] == list(counts)  # the order given
    for got, want in zip(table["rows"], rows, strict=True):
        assert {k: got[k] for k in want} == want
        assert set(got) == {"institution", *STATES, "total"}
        assert sum(got[s] for s in STATES) == got["total"]
    assert {k: table["totals"][k] for k in totals} == totals
    assert sum(table["totals"][s] for s in STATES) == table["totals"]["total"]


def test_items_per_state_keeps_a_state_it_does_not_know() -> None:
    table = items_per_state({"pns": {"scanning": 2, "qa": 1}}, states=("qa", "published"))
    assert table["states"] == ["qa", "published", "scanning"]
    assert table["rows"][0]["total"] == 3
    assert table["totals"]["scanning"] == 2


# -- weekly throughput ---------------------------------------------------------------------


def test_throughput_with_no_events_lists_every_week_with_zeros() -> None:
    rows = weekly_throughput([], weeks=12, today=TODAY)
    assert len(rows) == 12
    assert [r["week"] for r in rows[-3:]] == ["2025-W01", "2025-W02", "2025-W03"]
    assert rows[0] == {
        "week": "2024-W44",
        "start": "2024-10-28",
        "pages_ingested": 0,
        "items_published": 0,
    }
    assert all(list(r) == list(THROUGHPUT_COLUMNS) for r in rows)
    assert all(r["pages_ingested"] == r["items_published"] == 0 for r in rows)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # ISO week boundaries, in UTC: Sunday 23:59:59 is the old week, Monday 00:00 the new
        ([ingestion("2025-01-12T23:59:59+00:00")], {"2025-W02": (1, 0)}),
        ([ingestion("2025-01-13T00:00:00+00:00")], {"2025-W03": (1, 0)}),
        # Monday 07:00 in Borneo is still Sunday in UTC
        ([ingestion("2025-01-13T07:00:00+08:00")], {"2025-W02": (1, 0)}),
        ([ingestion("2025-01-13T08:00:00+08:00")], {"2025-W03": (1, 0)}),
        # naive dates are UTC; the first week of 2025 began on 30 December 2024
        (
            [ingestion("2024-12-30T00:00:00"), ingestion("2025-01-05T12:00:00")],
            {"2025-W01": (2, 0)},
        ),
        # later today counts; the future and before the window do not
        (
            [
                ingestion("2025-01-15T23:00:00+00:00"),
                ingestion("2025-01-20T00:00:00+00:00"),
                ingestion("2024-10-27T23:59:59+00:00"),
                ingestion("2024-10-28T00:00:00+00:00"),
            ],
            {"2025-W03": (1, 0), "2024-W44": (1, 0)},
        ),
        # published: the transition's target, dated by its "when"
        (
            [
                transition(
                    "preservation",
                    "published",
                    "2025-01-14T10:00:00+00:00",
                    event_type="dissemination",
                ),
                transition("withdrawn", "published", "2025-01-06T10:00:00+00:00"),
                transition("nominated", "selected", "2025-01-14T10:00:00+00:00"),
                transition("published", "withdrawn", "2025-01-14T11:00:00+00:00"),
            ],
            {"2025-W03": (0, 1), "2025-W02": (0, 1)},
        ),
        # other events and broken ones are not throughput
        (
            [
                {"type": "fixity check", "date": "2025-01-14T10:00:00+00:00"},
                {"type": "message digest calculation", "date": "2025-01-14T10:00:00+00:00"},
                {"type": "ingestion", "date": ""},
                {"type": "ingestion"},
                {"type": "dissemination", "date": "2025-01-14T10:00:00", "workflow": {}},
            ],
            {},
        ),
    ],
)
def test_throughput(events: list[dict], expected: dict[str, tuple[int, int]]) -> None:
    rows = weekly_throughput(events, weeks=12, today=TODAY)
    got = {
        r["week"]: (r["pages_ingested"], r["items_published"])
        for r in rows
        if r["pages_ingested"] or r["items_published"]
    }
    assert got == expected


def test_throughput_dates_publication_by_the_transition_not_the_record() -> None:
    event = transition("preservation", "published", "2025-01-10T09:00:00+00:00")
    event["date"] = "2025-01-14T09:00:00+00:00"  # recorded later (an import)
    rows = {r["week"]: r for r in weekly_throughput([event], weeks=2, today=TODAY)}
    assert rows["2025-W02"]["items_published"] == 1
    assert rows["2025-W03"]["items_published"] == 0


def test_throughput_weeks_and_default_today() -> None:
    assert len(weekly_throughput([], weeks=1, today=TODAY)) == 1
    rows = weekly_throughput([], weeks=3)
    assert rows[-1]["week"] == week_label(datetime.now(UTC).date())


# -- moves and time in state ---------------------------------------------------------------


def test_moves_from_events_orders_and_keeps_only_transitions() -> None:
    events = [
        transition("selected", "capture", "2025-01-05T00:00:00+00:00"),
        ingestion("2025-01-04T00:00:00+00:00"),
        transition("nominated", "selected", "2025-01-02T00:00:00+08:00"),
    ]
    moves = moves_from_events("a", events)
    assert [(m["source"], m["target"]) for m in moves] == [
        ("nominated", "selected"),
        ("selected", "capture"),
    ]
    assert moves[0]["when"] == datetime(2025, 1, 1, 16, tzinfo=UTC)
    assert all(m["item"] == "a" for m in moves)


@pytest.mark.parametrize(
    ("events", "created", "state", "first"),
    [
        # made in the window: its first stay starts at its creation, in its first source
        (
            [transition("nominated", "selected", "2025-01-02T00:00:00")],
            "2025-01-01T00:00:00",
            "selected",
            (None, "nominated"),
        ),
        # no moves yet: it was made in the state it is in
        ([], "2025-01-01T00:00:00+00:00", "capture", (None, "capture")),
        # a creation after its first move cannot be trusted: no first stay
        (
            [transition("nominated", "selected", "2025-01-02T00:00:00")],
            "2025-01-03T00:00:00",
            "selected",
            ("nominated", "selected"),
        ),
        # creation not given: the window began after it
        (
            [transition("nominated", "selected", "2025-01-02T00:00:00")],
            None,
            "selected",
            ("nominated", "selected"),
        ),
        ([], None, "capture", None),
    ],
)
def test_moves_from_events_with_creation(events, created, state, first) -> None:
    moves = moves_from_events("a", events, created=created, state=state)
    if first is None:
        assert moves == []
    else:
        assert (moves[0]["source"], moves[0]["target"]) == first


def test_time_in_state_with_no_moves() -> None:
    assert time_in_state([], now=NOW) == []


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        # one finished stay of 2 days in selected; capture still open, up to now: 12.5 days
        (
            [
                move("a", "nominated", "selected", "2025-01-01T00:00:00+00:00"),
                move("a", "selected", "capture", "2025-01-03T00:00:00+00:00"),
            ],
            {"selected": (1, 0, 2.0, 2.0), "capture": (1, 1, 12.5, 12.5)},
        ),
        # several items: median and mean differ; order of the input does not matter
        (
            [
                move("b", "selected", "capture", "2025-01-10T00:00:00+00:00"),
                move("a", "capture", "qa", "2025-01-02T00:00:00+00:00"),
                move("a", "qa", "description", "2025-01-03T00:00:00+00:00"),
                move("b", "capture", "qa", "2025-01-11T00:00:00+00:00"),
                move("b", "qa", "description", "2025-01-13T00:00:00+00:00"),
                move("c", "capture", "qa", "2025-01-01T00:00:00+00:00"),
                move("c", "qa", "description", "2025-01-10T00:00:00+00:00"),
                move("a", "description", "rights-review", "2025-01-03T12:00:00+00:00"),
                move("b", "description", "rights-review", "2025-01-13T12:00:00+00:00"),
                move("c", "description", "rights-review", "2025-01-10T12:00:00+00:00"),
            ],
            {
                "capture": (1, 0, 1.0, 1.0),
                "qa": (3, 0, 2.0, 4.0),
                "description": (3, 0, 0.5, 0.5),
                "rights-review": (3, 3, 5.0, 6.33),
            },
        ),
        # resting states: open stays there are not waiting; a finished one counts
        (
            [
                move("a", "preservation", "published", "2025-01-01T00:00:00+00:00"),
                move("a", "published", "withdrawn", "2025-01-05T00:00:00+00:00"),
                move("b", "nominated", "rejected", "2025-01-02T00:00:00+00:00"),
            ],
            {"published": (1, 0, 4.0, 4.0)},
        ),
        # a gap in the record (the next move leaves another state): that stay is unknown
        (
            [
                move("a", "nominated", "selected", "2025-01-01T00:00:00+00:00"),
                move("a", "qa", "description", "2025-01-05T00:00:00+00:00"),
            ],
            {"description": (1, 1, 10.5, 10.5)},
        ),
        # a creation starts the first stay
        (
            [
                move("a", None, "nominated", "2025-01-01T00:00:00+00:00"),
                move("a", "nominated", "deferred", "2025-01-04T00:00:00+00:00"),
                move("a", "deferred", "nominated", "2025-01-14T00:00:00+00:00"),
            ],
            {"nominated": (2, 1, 2.25, 2.25), "deferred": (1, 0, 10.0, 10.0)},
        ),
        # a clock that ran backwards gives no negative days
        (
            [move("a", "nominated", "selected", "2025-01-16T00:00:00+00:00")],
            {"selected": (1, 1, 0.0, 0.0)},
        ),
    ],
)
def test_time_in_state(moves: list[dict], expected: dict[str, tuple]) -> None:
    rows = time_in_state(moves, now=NOW)
    assert all(list(r) == list(TIME_COLUMNS) for r in rows)
    got = {r["state"]: (r["stays"], r["open"], r["median_days"], r["mean_days"]) for r in rows}
    assert got == expected
    order = [r["state"] for r in rows]
    assert order == sorted(order, key=STATES.index)  # workflow order


def test_time_in_state_takes_datetimes_and_naive_now() -> None:
    moves = [
        move("a", "nominated", "selected", datetime(2025, 1, 14, tzinfo=WIB)),
    ]
    rows = time_in_state(moves, now=datetime(2025, 1, 14, 16))  # naive: UTC
    assert rows == [
        {"state": "selected", "stays": 1, "open": 1, "median_days": 1.0, "mean_days": 1.0}
    ]


def test_time_in_state_puts_unknown_states_last_and_defaults_now() -> None:
    recent = datetime.now(UTC) - timedelta(days=1)
    moves = [
        move("a", "nominated", "zz-legacy", recent.isoformat()),
        move("b", "nominated", "selected", recent.isoformat()),
    ]
    rows = time_in_state(moves)
    assert [r["state"] for r in rows] == ["selected", "zz-legacy"]
    assert 0.99 < rows[0]["median_days"] < 1.01


def test_resting_states() -> None:
    assert RESTING_STATES == {"published", "withdrawn", "rejected"}


# -- CSV -----------------------------------------------------------------------------------


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("plain", "plain"),
        ("Pustaka Negeri Sarawak, Kuching", "Pustaka Negeri Sarawak, Kuching"),
        ('the "Hikayat"', 'the "Hikayat"'),
        ("two\nlines", "two\nlines"),
        ("Dinas Perpustakaan — Kalimantan Timur", "Dinas Perpustakaan — Kalimantan Timur"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),  # formula injection
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        (-1, "-1"),  # numbers are numbers
        (2.5, "2.5"),
        (0, "0"),
        (None, ""),
    ],
)
def test_csv_cells(value, cell) -> None:
    text = to_csv([{"v": value}], ["v"])
    assert read_csv(text) == [["v"], [cell]]


def test_csv_quotes_and_line_ends() -> None:
    text = to_csv([{"a": 'x,"y"', "b": 1}], ["a", "b"])
    assert text == 'a,b\r\n"x,""y""",1\r\n'


def test_csv_headings_columns_and_missing_keys() -> None:
    rows = [{"state": "qa", "n": 2, "extra": "not written"}, {"state": "capture"}]
    text = to_csv(rows, [("state", "State"), "n"])
    assert read_csv(text) == [["State", "n"], ["qa", "2"], ["capture", ""]]


def test_csv_with_no_rows_has_its_header() -> None:
    assert to_csv([], THROUGHPUT_COLUMNS) == ",".join(THROUGHPUT_COLUMNS) + "\r\n"


def test_csv_of_reports_round_trips() -> None:
    rows = weekly_throughput([ingestion("2025-01-14T00:00:00")], weeks=2, today=TODAY)
    parsed = read_csv(to_csv(rows, THROUGHPUT_COLUMNS))
    assert parsed == [
        list(THROUGHPUT_COLUMNS),
        ["2025-W02", "2025-01-06", "0", "0"],
        ["2025-W03", "2025-01-13", "1", "0"],
    ]


# -- SVG -----------------------------------------------------------------------------------

NASTY = '<script>alert("x")</script> & Co\'s'


def assert_accessible(root: etree._Element, title: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    ident = root.get("id")
    assert root.get("aria-labelledby") == f"{ident}-title {ident}-desc"
    assert root[0].tag == f"{SVG}title" and root[0].get("id") == f"{ident}-title"
    assert root[0].text == title
    assert root[1].tag == f"{SVG}desc" and root[1].text
    tags = {el.tag for el in root.iter() if isinstance(el.tag, str)}
    assert not {f"{SVG}script", f"{SVG}foreignObject", f"{SVG}a", f"{SVG}image"} & tags
    for el in root.iter():
        assert not any(k.startswith("on") for k in el.attrib)  # no event handlers
        assert "href" not in " ".join(el.attrib)  # nothing fetched
        if el.tag == f"{SVG}g":
            assert el.get("font-family") == "sans-serif"


def texts(root: etree._Element) -> list[str]:
    return [el.text for el in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("series", "labels"),
    [
        ([3, 0, 12], ["Nominated", "Selected", "Published"]),
        ([0, 0], ["a", "b"]),  # all zero: no division by zero
        ([1.5, None], ["Quality check", "Rights review"]),
        ([7], [NASTY]),
        ([1], ["A very long label that would run off the left edge of the chart"]),
    ],
)
def test_bar_chart_is_valid_accessible_svg(series, labels) -> None:
    svg = bar_chart_svg(series, labels, "Items & states", ident="states")
    root = parse(svg)
    assert_accessible(root, "Items & states")
    assert root.get("id") == "states"
    shown = texts(root)
    for label in labels:
        assert label in shown or label[:31] + "…" in shown
        assert label in root[1].text  # the description has it in full
    for value in series:
        assert ("–" if value is None else reports._number(value)) in shown
    bars = root.findall(f".//{SVG}rect")
    assert len(bars) == sum(1 for v in series if v)


def test_bar_chart_escapes_text_and_never_runs_scripts() -> None:
    svg = bar_chart_svg([1], [NASTY], NASTY, desc=NASTY, ident='x" onload="alert(1)')
    assert "<script" not in svg
    root = parse(svg)
    assert root[0].text == NASTY and root[1].text == NASTY
    assert texts(root)[0] == NASTY[:31] + "…"  # cut before escaping, never inside "&amp;"
    assert root.get("id") == "x--onload--alert-1"
    assert root.get("onload") is None


def test_bar_chart_units_and_empty() -> None:
    root = parse(bar_chart_svg([2.25, 3], ["qa", "capture"], "Days", unit=" d"))
    assert {"2.2 d", "3 d"} <= set(texts(root)) or {"2.3 d", "3 d"} <= set(texts(root))
    empty = parse(bar_chart_svg([], [], "Nothing", empty="No stays began"))
    assert_accessible(empty, "Nothing")
    assert texts(empty) == ["No stays began"]
    assert empty[1].text == "No stays began"


def test_bar_chart_needs_a_label_per_value() -> None:
    with pytest.raises(ValueError, match="one label per value"):
        bar_chart_svg([1, 2], ["a"], "t")


@pytest.mark.parametrize(
    ("series", "labels"),
    [
        ({"Pages ingested": [0, 4, 9], "Items published": [1, 0, 2]}, ["W01", "W02", "W03"]),
        ({"Pages": [0, 0]}, ["W01", "W02"]),  # all zero
        ({"Pages": [5]}, ["2025-W03"]),  # one week
        ({"Days": [0.25, 0.5]}, ["a", "b"]),  # fractions
        ({NASTY: [1, 2], "b": [0, 1], "c": [2, 2], "d": [3, 1]}, ["x", NASTY]),
        ({"Pages": list(range(52))}, [f"2025-W{i:02d}" for i in range(1, 53)]),  # thinned
    ],
)
def test_line_chart_is_valid_accessible_svg(series, labels) -> None:
    svg = line_chart_svg(series, labels, "Throughput", ident="chart-throughput")
    root = parse(svg)
    assert_accessible(root, "Throughput")
    shown = texts(root)
    for name in series:
        assert name in shown  # the legend names each series
        assert name in root[1].text
    assert labels[0] in shown and labels[-1] in shown
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == len(series)
    dashes = [line.get("stroke-dasharray") for line in lines]
    assert len(set(dashes)) == len(dashes)  # told apart without colour
    points = [el for el in root.iter() if el.find(f"{SVG}title") is not None and el is not root]
    assert len(points) == sum(len(v) for v in series.values()) + len(series)


def test_line_chart_axis_has_round_ticks() -> None:
    root = parse(line_chart_svg({"Pages": [0, 5, 1]}, ["a", "b", "c"], "t"))
    ticks = [t for t in texts(root) if t not in {"a", "b", "c", "Pages"}]
    assert ticks == ["0", "2", "4", "6"]
    root = parse(line_chart_svg({"Pages": [0, 1]}, ["a", "b"], "t"))
    assert [t for t in texts(root) if t not in {"a", "b", "Pages"}] == ["0", "1"]


def test_line_chart_empty_and_errors() -> None:
    empty = parse(line_chart_svg({}, [], "Nothing"))
    assert_accessible(empty, "Nothing")
    assert texts(empty) == ["No data"]
    assert texts(parse(line_chart_svg({"a": []}, [], "t", empty="Rien"))) == ["Rien"]
    with pytest.raises(ValueError, match="one value per label"):
        line_chart_svg({"a": [1]}, ["x", "y"], "t")
    with pytest.raises(ValueError, match="at most 4"):
        line_chart_svg({str(i): [1] for i in range(5)}, ["x"], "t")


@pytest.mark.parametrize(
    ("ident", "expected"),
    [("chart-states", "chart-states"), ("", "chart"), ("1st", "chart-1st"), ("a b/c", "a-b-c")],
)
def test_chart_ids_are_safe(ident: str, expected: str) -> None:
    assert parse(bar_chart_svg([1], ["a"], "t", ident=ident)).get("id") == expected
