"""Staff reports over the whole application: the page, its CSV downloads and the JSON.

(Named ``test_staff_reports`` rather than ``test_reports``: the test directories are not
packages, so two modules called ``test_reports`` — this and the unit tests of
``workflows.reports`` — cannot both be collected.)

The application runs over a temporary FileStorage (``tests/conftest.py``). Its history is
arranged directly: events recorded with chosen dates, transitions shaped as
``heritage.workflow`` records them (``workflows.machine.build_event``), so the reports read
what a real workflow leaves behind.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import webtest
from bs4 import BeautifulSoup
from lxml import etree
from support import PASSWORD, login, make_item

from heritage.resources.users import User
from heritage.security import hash_token
from heritage.views import reports as reports_view
from workflows.machine import TransitionRequest, build_event, find
from workflows.reports import THROUGHPUT_COLUMNS, TIME_COLUMNS, week_label
from workflows.states import STATES

NOW = datetime.now(UTC)
SVG = "{http://www.w3.org/2000/svg}"


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def record_move(item: Any, source: str, target: str, when: datetime) -> None:
    """Record a transition the way heritage.workflow.apply_transition does (state untouched)."""
    transition = find(source, target)
    event = build_event(
        transition,
        TransitionRequest(target, today=when.date(), note="test", qa_signoff=True),
        agent="pns-curator",
        when=when,
    )
    item.events.record(
        "dissemination" if target == "published" else "appraisal",
        agents=[{"type": "person", "name": "pns-curator"}],
        objects=(item.item_id,),
        detail=f"{source} → {target}",
        when=when,
        workflow=event.as_dict(),
    )


def record_pages(item: Any, n: int, when: datetime) -> None:
    for page in range(1, n + 1):
        item.events.record("ingestion", objects=(f"{item.item_id}/{page}",), when=when)


@pytest.fixture
def history(arrange, consortium) -> dict[str, Any]:
    """Events in the consortium: pns pages and moves, an old page, kaltim's own.

    pns: 3 pages ingested 2 days ago and one item published 3 days ago (pns-ms-0001); the
    item in capture (pns-ms-0002) was selected 20 days ago and moved to capture 15 days ago;
    one page ingested 200 days ago (outside 12 weeks). An item made 10 days ago
    (pns-ms-0010) still waits in nominated. kaltim: 2 pages and a move to QA yesterday.
    """

    def work(root: Any) -> None:
        items = root.items
        published, capture = items[consortium.public], items[consortium.unpublished]
        record_move(published, "preservation", "published", days_ago(3))
        record_pages(capture, 3, days_ago(2))
        record_pages(published, 1, days_ago(200))
        record_move(capture, "nominated", "selected", days_ago(20))
        record_move(capture, "selected", "capture", days_ago(15))
        fresh = make_item("pns-ms-0010", "Surat Baru", state="nominated")
        root.collections["pns-manuscripts"].add_item(fresh)
        fresh.created = days_ago(10).isoformat(timespec="seconds")
        other = items[consortium.other_unpublished]
        record_pages(other, 2, days_ago(1))
        record_move(other, "capture", "qa", days_ago(1))
        root.users.add_token("pns-curator", hash_token("pns-token"))

    arrange(work)
    return {"pns_pages_week": week_label(days_ago(2).date())}


def as_user(app: Any, username: str | None) -> webtest.TestApp:
    web = webtest.TestApp(app)
    if username:
        login(web, username)
    return web


@pytest.fixture
def curator(app, history) -> webtest.TestApp:
    return as_user(app, "pns-curator")


@pytest.fixture
def admin(app, history) -> webtest.TestApp:
    return as_user(app, "admin")


def state_table(page: webtest.TestResponse) -> dict[str, dict[str, int]]:
    """Read the items-per-state table: {row heading: {state heading: n}}."""
    soup = BeautifulSoup(page.text, "html.parser")
    table = soup.find("caption", id="states-caption").parent
    headings = [th.get_text(strip=True) for th in table.thead.find_all("th")][1:]
    rows = {}
    for tr in [*table.tbody.find_all("tr"), *(table.tfoot.find_all("tr") if table.tfoot else [])]:
        cells = [td.get_text(strip=True) for td in tr.find_all("td")]
        rows[tr.th.get_text(strip=True)] = dict(zip(headings, map(int, cells), strict=True))
    return rows


def charts(page: webtest.TestResponse) -> dict[str, etree._Element]:
    """Parse each inline SVG chart of the page as XML on its own."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    found = {}
    for svg in re.findall(r"<svg\b.*?</svg>", page.text, flags=re.DOTALL):
        root = etree.fromstring(svg.encode("utf-8"), parser)
        found[root.get("id")] = root
    return found


def read_csv(response: webtest.TestResponse) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


# -- who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/staff/reports", "/staff/reports?institution=pns", "/staff/reports.csv?report=states"],
)
def test_anonymous_is_asked_to_log_in(testapp, history, url: str) -> None:
    response = testapp.get(url, status=302)
    assert response.location.startswith("http://localhost/staff/login")
    assert "came_from=%2Fstaff%2Freports" in response.location


def test_anonymous_api_is_forbidden(testapp, history) -> None:
    response = testapp.get("/api/reports", status=403)
    assert response.content_type == "application/json"


def test_a_user_without_institution_roles_is_forbidden(app, history) -> None:
    reader = as_user(app, "reader")
    reader.get("/staff/reports", status=403)
    reader.get("/staff/reports?institution=pns", status=403)
    reader.get("/staff/reports.csv?report=states&institution=pns", status=403)
    reader.get("/api/reports", status=403)


@pytest.mark.parametrize(
    "url",
    [
        "/staff/reports?institution=kaltim",
        "/staff/reports?institution=all",
        "/staff/reports.csv?report=states&institution=kaltim",
        "/staff/reports.csv?report=time&institution=all",
        "/api/reports?institution=kaltim",
    ],
)
def test_staff_may_not_see_another_institution(curator, url: str) -> None:
    response = curator.get(url, status=403)
    assert "Hikayat Banjar" not in response.text
    assert "Dinas Perpustakaan" not in response.text


def test_an_unknown_institution_is_not_found(curator, admin) -> None:
    curator.get("/staff/reports?institution=nowhere", status=404)
    admin.get("/staff/reports?institution=nowhere", status=404)
    admin.get("/api/reports?institution=nowhere", status=404)


# -- the page ------------------------------------------------------------------------------


def test_staff_see_their_institution(curator) -> None:
    page = curator.get("/staff/reports", status=200)
    assert "Sarawak State Library" in page.text
    rows = state_table(page)
    assert list(rows) == ["Sarawak State Library"]  # no kaltim, no total row for one
    counts = rows["Sarawak State Library"]
    assert counts["Published"] == 4
    assert counts["Capture"] == 1
    assert counts["Nominated"] == 1
    assert counts["Quality check"] == 0
    assert counts["Total"] == 6
    assert "Dinas Perpustakaan" not in page.text
    # the same with the institution named
    assert state_table(curator.get("/staff/reports?institution=pns")) == rows


def test_the_page_shows_throughput_and_time_in_state(curator, history) -> None:
    page = curator.get("/staff/reports")
    soup = BeautifulSoup(page.text, "html.parser")
    weeks = soup.find("caption", id="throughput-caption").parent.tbody.find_all("tr")
    assert len(weeks) == 12
    by_week = {
        tr.th.get_text(strip=True): [int(td.get_text(strip=True)) for td in tr.find_all("td")[1:]]
        for tr in weeks
    }
    assert sum(v[0] for v in by_week.values()) == 3  # the page 200 days ago is outside
    assert by_week[history["pns_pages_week"]][0] == 3
    assert sum(v[1] for v in by_week.values()) == 1
    assert list(by_week)[-1] == week_label(NOW.date())
    time_rows = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in soup.find("caption", id="time-caption").parent.tbody.find_all("tr")
    }
    assert time_rows["Selected"] == ["1", "0", "5.0", "5.0"]
    assert time_rows["Capture"] == ["1", "1", "15.0", "15.0"]
    assert time_rows["Nominated"] == ["1", "1", "10.0", "10.0"]
    assert "Published" not in time_rows  # resting, not waiting


def test_the_charts_are_valid_accessible_svg(curator) -> None:
    page = curator.get("/staff/reports")
    found = charts(page)
    assert set(found) == {"chart-states", "chart-throughput", "chart-time"}
    for ident, svg in found.items():
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{ident}-title {ident}-desc"
        assert svg.find(f"{SVG}title").text.endswith("Sarawak State Library")
        assert svg.find(f"{SVG}desc").text
        assert not svg.findall(f".//{SVG}script")
    labels = [t.text for t in found["chart-states"].iter(f"{SVG}text")]
    assert "Published" in labels and "Capture" in labels
    legend = [t.text for t in found["chart-throughput"].iter(f"{SVG}text")]
    assert "Pages ingested" in legend and "Items published" in legend
    assert "Capture" in [t.text for t in found["chart-time"].iter(f"{SVG}text")]


def test_the_page_links_its_csv_downloads(curator) -> None:
    soup = BeautifulSoup(curator.get("/staff/reports").text, "html.parser")
    links = [a["href"] for a in soup.select("p.download a")]
    assert len(links) == 3
    for link, kind in zip(links, ("states", "throughput", "time"), strict=True):
        assert f"report={kind}" in link and "institution=pns" in link
        assert curator.get(link).content_type == "text/csv"


def test_admin_sees_the_consortium_and_each_institution(admin) -> None:
    page = admin.get("/staff/reports", status=200)
    assert "All institutions" in page.text
    rows = state_table(page)
    assert list(rows) == [
        "Dinas Perpustakaan Kalimantan Timur",
        "Sarawak State Library",
        "Total",
    ]
    assert rows["Total"]["Published"] == 5
    assert rows["Total"]["Quality check"] == 1
    assert rows["Total"]["Total"] == 8
    soup = BeautifulSoup(page.text, "html.parser")
    options = [o["value"] for o in soup.select("#report-institution option")]
    assert options == ["all", "kaltim", "pns"]
    kaltim = admin.get("/staff/reports?institution=kaltim")
    assert list(state_table(kaltim)) == ["Dinas Perpustakaan Kalimantan Timur"]
    assert state_table(admin.get("/staff/reports?institution=all")) == rows


def test_weeks_widen_the_window(curator) -> None:
    soup = BeautifulSoup(curator.get("/staff/reports?weeks=52").text, "html.parser")
    weeks = soup.find("caption", id="throughput-caption").parent.tbody.find_all("tr")
    assert len(weeks) == 52
    pages = sum(int(tr.find_all("td")[1].get_text(strip=True)) for tr in weeks)
    assert pages == 4  # now with the page of 200 days ago


@pytest.mark.parametrize("weeks", ["0", "105", "twelve", "-1"])
def test_weeks_must_be_sensible(curator, weeks: str) -> None:
    curator.get(f"/staff/reports?weeks={weeks}", status=400)
    assert "weeks" in curator.get(f"/api/reports?weeks={weeks}", status=400).json["errors"]


# -- CSV -----------------------------------------------------------------------------------


def test_csv_items_per_state(curator) -> None:
    response = curator.get("/staff/reports.csv?report=states&institution=pns", status=200)
    assert response.content_type == "text/csv"
    assert response.charset == "utf-8"
    disposition = re.fullmatch(
        r'attachment; filename="heritage-states-pns-(\d{4}-\d{2}-\d{2})\.csv"',
        response.headers["Content-Disposition"],
    )
    assert disposition and date.fromisoformat(disposition[1]) == datetime.now(UTC).date()
    assert "no-store" in response.headers["Cache-Control"]
    header = response.text.split("\r\n", 1)[0]
    assert header == ",".join(["institution", "name", *STATES, "total"])
    rows = read_csv(response)
    assert len(rows) == 1
    assert rows[0]["institution"] == "pns"
    assert rows[0]["name"] == "Sarawak State Library"
    assert (rows[0]["published"], rows[0]["capture"], rows[0]["total"]) == ("4", "1", "6")


def test_items_per_state_never_reads_items(curator, monkeypatch) -> None:
    """The counts come from the institutions' counters; only the histories walk items."""

    def walked(institution: Any) -> None:
        raise AssertionError(f"walked the items of {institution.__name__}")

    monkeypatch.setattr(reports_view, "_items", walked)
    rows = read_csv(curator.get("/staff/reports.csv?report=states", status=200))
    assert rows[0]["total"] == "6"
    curator.get("/staff/reports.csv?report=throughput", status=500)  # it does walk them


def test_csv_items_per_state_for_the_consortium(admin) -> None:
    response = admin.get("/staff/reports.csv?report=states")
    assert 'filename="heritage-states-all-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert [r["institution"] for r in rows] == ["kaltim", "pns", ""]
    assert rows[-1]["name"] == "Total"
    assert rows[-1]["total"] == "8"


def test_csv_throughput(curator, history) -> None:
    response = curator.get("/staff/reports.csv?report=throughput")
    assert response.content_type == "text/csv"
    assert 'filename="heritage-throughput-pns-' in response.headers["Content-Disposition"]
    assert response.text.split("\r\n", 1)[0] == ",".join(THROUGHPUT_COLUMNS)
    rows = read_csv(response)
    assert len(rows) == 12
    assert rows[-1]["week"] == week_label(NOW.date())
    by_week = {r["week"]: r for r in rows}
    assert by_week[history["pns_pages_week"]]["pages_ingested"] == "3"
    assert sum(int(r["items_published"]) for r in rows) == 1


def test_csv_time_in_state(curator) -> None:
    response = curator.get("/staff/reports.csv?report=time&institution=pns&weeks=4")
    assert response.text.split("\r\n", 1)[0] == ",".join(TIME_COLUMNS)
    rows = {r["state"]: r for r in read_csv(response)}
    assert list(rows) == ["nominated", "selected", "capture"]  # workflow order
    assert rows["selected"] == {
        "state": "selected",
        "stays": "1",
        "open": "0",
        "median_days": "5.0",
        "mean_days": "5.0",
    }
    assert rows["capture"]["open"] == "1"
    assert float(rows["capture"]["median_days"]) == pytest.approx(15, abs=0.01)


@pytest.mark.parametrize("query", ["report=everything", "report=", "", "report=STATES"])
def test_csv_of_an_unknown_report_is_a_bad_request(curator, query: str) -> None:
    response = curator.get(f"/staff/reports.csv?{query}", status=400)
    assert "report" in response.text
    assert response.content_type == "text/html"


# -- JSON ----------------------------------------------------------------------------------


def test_json_has_the_same_numbers(curator, history) -> None:
    data = curator.get("/api/reports", status=200).json
    assert data["scope"] == "pns"
    assert data["institutions"] == [{"id": "pns", "name": "Sarawak State Library"}]
    assert data["weeks"] == 12
    table = data["items_per_state"]
    assert table["states"] == list(STATES)
    assert table["rows"][0]["published"] == 4
    assert table["totals"]["total"] == 6
    throughput = {r["week"]: r for r in data["throughput"]}
    assert throughput[history["pns_pages_week"]]["pages_ingested"] == 3
    assert [r["state"] for r in data["time_in_state"]] == ["nominated", "selected", "capture"]
    assert date.fromisoformat(data["window_start"]).weekday() == 0


def test_json_with_a_bearer_token(testapp, history) -> None:
    headers = {"Authorization": "Bearer pns-token"}
    data = testapp.get("/api/reports?institution=pns", headers=headers).json
    assert data["scope"] == "pns"
    testapp.get("/api/reports?institution=kaltim", headers=headers, status=403)


def test_json_for_the_consortium(admin) -> None:
    data = admin.get("/api/reports").json
    assert data["scope"] == "all"
    assert [i["id"] for i in data["institutions"]] == ["kaltim", "pns"]
    assert data["items_per_state"]["totals"]["total"] == 8
    assert sum(r["pages_ingested"] for r in data["throughput"]) == 5
    assert [r["state"] for r in data["time_in_state"]] == ["nominated", "selected", "capture", "qa"]


def test_kaltim_staff_see_kaltim(app, history) -> None:
    kaltim = as_user(app, "kaltim-curator")
    data = kaltim.get("/api/reports").json
    assert data["scope"] == "kaltim"
    assert sum(r["pages_ingested"] for r in data["throughput"]) == 2
    # the move to QA yesterday came after the item was made (now): its stay starts then
    assert [r["state"] for r in data["time_in_state"]] == ["qa"]
    assert (
        state_table(kaltim.get("/staff/reports"))["Dinas Perpustakaan Kalimantan Timur"][
            "Quality check"
        ]
        == 1
    )
    kaltim.get("/staff/reports?institution=pns", status=403)


def test_a_new_user_with_roles_in_two_institutions_chooses(app, arrange, history) -> None:
    def work(root: Any) -> None:
        user = User("both")
        user.set_password(PASSWORD)
        user.add_role("cataloguer", "pns")
        user.add_role("digitizer", "kaltim")
        root.users.add("both", user)

    arrange(work)
    both = as_user(app, "both")
    page = both.get("/staff/reports")
    soup = BeautifulSoup(page.text, "html.parser")
    assert [o["value"] for o in soup.select("#report-institution option")] == ["kaltim", "pns"]
    assert list(state_table(page)) == ["Dinas Perpustakaan Kalimantan Timur"]
    assert list(state_table(both.get("/staff/reports?institution=pns"))) == [
        "Sarawak State Library"
    ]
    both.get("/staff/reports?institution=all", status=403)
