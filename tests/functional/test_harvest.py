"""Union-catalogue harvesting over real HTTP.

Our app harvests ANOTHER INSTANCE of itself (a second app on its own temporary FileStorage,
served by waitress on 127.0.0.1) and, in the same run, deliberately broken endpoints (tiny WSGI
apps served the same way): one sends invalid XML, one rejects its own resumption token on page
2, one answers slower than the timeout. The good partner's records arrive exactly once, the
broken ones are logged with the reason and skipped, and nothing already harvested is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import transaction
from support import Arranger, make_item, serve_app

from heritage import main
from heritage.harvest import harvester
from heritage.harvest.client import ClientOptions, HarvestError, OAIClient
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.partners import FAILED, SUCCESS, Partner
from heritage.resources.root import APP_ROOT
from heritage.scripts import cli
from heritage.settings import parse_settings

HARVEST_SETTINGS = {
    "heritage.harvest_timeout": "0.4",
    "heritage.harvest_retries": "1",
    "heritage.harvest_backoff": "0.01",
    "heritage.harvest_batch": "2",  # several transactions even for a few records
}


@pytest.fixture
def settings(settings: dict[str, str]) -> dict[str, str]:
    return {**settings, **HARVEST_SETTINGS}


# -- the partners -----------------------------------------------------------------------------

PARTNER_ITEMS = ("sbh-ms-0001", "sbh-ms-0002", "sbh-ms-0003")


def _partner_app(tmp_path: Path) -> Any:
    """Return a second Borneo Heritage instance with its own database and a few items."""
    folder = tmp_path / "partner"
    folder.mkdir()
    app = main(
        {},
        **{
            "zodbconn.uri": f"file://{folder}/Data.fs?blobstorage_dir={folder}/blobs",
            "heritage.var_dir": str(folder / "var"),
        },
    )

    def work(root: Any) -> None:
        sabah = root.institutions.add(
            "sabah", Institution({"en": "Sabah State Library", "ms": "Pustaka Sabah"}, country="MY")
        )
        coll = root.add_collection(sabah, "sbh-manuscripts", Collection({"en": "Manuscripts"}))
        coll.add_item(make_item("sbh-ms-0001", "Hikayat Kinabalu"))
        coll.add_item(make_item("sbh-ms-0002", "Syair Sandakan"))
        coll.add_item(make_item("sbh-ms-0003", "Cerita Tawau", access="metadata-only"))
        coll.add_item(make_item("sbh-ms-0009", "Belum Terbit", state="capture"))  # not public
        coll.add_item(make_item("sbh-ms-0008", "Rahsia", access="staff"))  # not public

    Arranger(_database(app))(work)
    return app


def _database(app: Any) -> Any:
    return app.registry._zodb_databases[""]


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """The partner instance, served: ``(app, its OAI-PMH base URL)``."""
    app = _partner_app(tmp_path)
    try:
        with serve_app(app) as base:
            yield app, f"{base}/oai"
    finally:
        _database(app).close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


IDENTIFY = (
    "<Identify><repositoryName>{name}</repositoryName><baseURL>http://127.0.0.1/oai</baseURL>"
    "<protocolVersion>2.0</protocolVersion><adminEmail>oai@example.org</adminEmail>"
    "<earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp>"
    "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"
    "</Identify>"
)


def oai_response(body: str, verb: str = "ListRecords") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<responseDate>{_now()}</responseDate>"
        f'<request verb="{verb}">http://127.0.0.1/oai</request>{body}</OAI-PMH>'
    ).encode()


def dc_record(identifier: str, title: str, *, datestamp: str = "2024-05-01T00:00:00Z") -> str:
    return (
        f"<record><header><identifier>{identifier}</identifier>"
        f"<datestamp>{datestamp}</datestamp></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title xml:lang="id">{title}</dc:title>'
        f"<dc:identifier>https://partner.example/record/{identifier}</dc:identifier>"
        "</oai_dc:dc></metadata></record>"
    )


class FakePartner:
    """A tiny OAI-PMH endpoint that misbehaves as asked.

    ``mode``: ``ok`` (records in pages of two), ``invalid-xml`` (ListRecords pages are not
    well-formed: an unescaped ``&``, the commonest real-world fault), ``bad-token`` (page 1
    fine, its own token rejected on page 2), ``loop`` (page 2 forever), ``slow`` (waits
    ``delay`` seconds before any answer), ``flaky`` (the first ``failures`` requests: 503).
    """

    def __init__(self, mode: str, records: int = 4, *, delay: float = 3.0, failures: int = 0):
        self.mode = mode
        self.records = [dc_record(f"oai:fake:{n}", f"Naskah {n}") for n in range(records)]
        self.delay = delay
        self.failures = failures
        self.requests: list[dict[str, list[str]]] = []
        self.release = threading.Event()

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        params = parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append(params)
        if self.mode == "slow":
            self.release.wait(self.delay)
        if self.mode == "flaky" and len(self.requests) <= self.failures:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        verb = params.get("verb", [""])[0]
        if verb == "Identify":
            body = oai_response(IDENTIFY.format(name=self.mode), "Identify")
        elif "resumptionToken" in params:
            if self.mode == "bad-token":
                body = oai_response('<error code="badResumptionToken">token expired</error>')
            else:
                page = int(params["resumptionToken"][0])
                body = self._page(1 if self.mode == "loop" else page)
        elif self.mode == "invalid-xml":
            body = oai_response(
                f"<ListRecords>{dc_record('oai:fake:x', 'Adat & Budaya')}</ListRecords>"
            )
        else:
            body = self._page(0)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [body]

    def _page(self, page: int) -> bytes:
        chunk = self.records[page * 2 : page * 2 + 2]
        more = len(self.records) > page * 2 + 2
        token = (
            f"<resumptionToken>{page + 1}</resumptionToken>"
            if more
            else ("<resumptionToken/>" if page else "")
        )
        return oai_response(f"<ListRecords>{''.join(chunk)}{token}</ListRecords>")


@pytest.fixture
def broken() -> Iterator[dict[str, str]]:
    """Serve the three broken endpoints; yield name → base URL."""
    apps = {
        "broken-xml": FakePartner("invalid-xml"),
        "bad-token": FakePartner("bad-token"),
        "slow": FakePartner("slow"),
    }
    try:
        with serve_app(apps["broken-xml"]) as a, serve_app(apps["bad-token"]) as b:
            with serve_app(apps["slow"]) as c:
                yield {"broken-xml": a, "bad-token": b, "slow": c}
    finally:
        apps["slow"].release.set()


# -- helpers ----------------------------------------------------------------------------------


class Harvester:
    """Our side: add partners and harvest them on a connection of the app's database."""

    def __init__(self, app: Any) -> None:
        self.db = _database(app)
        self.hs = app.registry.heritage

    def add(self, partner_id: str, url: str, **kw: Any) -> None:
        def work(root: Any) -> None:
            root.partners.add(partner_id, Partner({"en": partner_id}, url, **kw))

        Arranger(self.db)(work)

    def harvest(self, partner_id: str | None = None) -> dict[str, harvester.RunResult]:
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            with tm:
                ids = harvester.partners_to_harvest(conn.root()[APP_ROOT], partner_id)
            return {pid: harvester.harvest_partner(conn, tm, pid, self.hs) for pid in ids}
        finally:
            conn.close()

    def read(self, work: Any) -> Any:
        return Arranger(self.db)(work)


def live(root: Any, partner_id: str) -> dict[str, Any]:
    """Return a partner's live records by OAI identifier."""
    records = root.harvested.records_of(partner_id)
    return {r.identifier: r for r in records if not r.deleted} if records is not None else {}


def found(root: Any, words: str) -> list[str]:
    """Return the catalog keys of what the public finds with ``words`` (one search box)."""
    from pyramid.authorization import Everyone

    from heritage.search.query import search

    return [hit.key for hit in search(root, [Everyone], q=words).hits]


def by_item(records: dict[str, Any]) -> dict[str, Any]:
    """Key records harvested from our own provider by item id (``oai:…:{item_id}``)."""
    return {identifier.rsplit(":", 1)[1]: r for identifier, r in records.items()}


# -- the tests --------------------------------------------------------------------------------


def test_self_harvest_with_broken_partners_in_the_same_run(app, partner, broken):
    partner_app, partner_url = partner
    us = Harvester(app)
    us.add("sabah", partner_url)
    for name, url in broken.items():
        us.add(name, url)

    started = time.monotonic()
    first = us.harvest()
    assert time.monotonic() - started < 10  # the slow partner is given up on, not waited for

    # The good partner: every public record, once; the broken ones: failed, with the reason.
    assert first["sabah"].outcome == SUCCESS, first["sabah"].error
    assert (first["sabah"].added, first["sabah"].updated) == (3, 0)
    assert first["broken-xml"].outcome == FAILED
    assert first["broken-xml"].reason == "invalid-xml"
    assert "invalid XML" in first["broken-xml"].error
    assert first["bad-token"].outcome == FAILED
    assert first["bad-token"].reason == "bad-resumption-token"
    assert "token expired" in first["bad-token"].error
    assert first["slow"].outcome == FAILED
    assert first["slow"].reason == "timeout"

    def check_first(root: Any) -> dict[str, Any]:
        records = by_item(live(root, "sabah"))
        assert sorted(records) == sorted(PARTNER_ITEMS), sorted(records)
        hikayat = records["sbh-ms-0001"]
        assert hikayat.key == f"sabah:{hikayat.identifier}"
        assert hikayat.partner_name == {"en": "sabah"}
        assert {"value": "Hikayat Kinabalu", "lang": "ms"} in hikayat.metadata["title"]
        assert hikayat.link.endswith("/items/sbh-ms-0001")
        assert hikayat.manifest.endswith("/iiif/manifests/sbh-ms-0001")
        # the run log of each partner says what happened
        for name in broken:
            run = root.partners[name].last_run
            assert run.outcome == FAILED and run.error and run.finished
            assert root.partners[name].last_datestamp == ""
        # a failure part-way keeps what was committed before it (page 1 of bad-token)
        assert len(live(root, "bad-token")) == 2
        assert len(live(root, "broken-xml")) == 0
        # in the union catalogue, beside our own items, in the same transactions
        assert found(root, "Kinabalu") == [f"harvested:{hikayat.key}"]
        assert found(root, "Rahsia") == []  # the partner's restricted item never came
        sabah = root.partners["sabah"]
        assert sabah.last_run.outcome == SUCCESS and sabah.last_run.added == 3
        assert sabah.last_datestamp  # the partner's responseDate
        return {"datestamp": sabah.last_datestamp}

    first_state = us.read(check_first)

    # Again: nothing new, no duplicates.
    again = us.harvest("sabah")["sabah"]
    assert again.outcome == SUCCESS
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert us.read(lambda root: len(live(root, "sabah"))) == 3

    # Change, add and withdraw on the partner: the incremental harvest picks up only that.
    time.sleep(1.1)  # datestamps have second granularity

    def change(root: Any) -> None:
        item = root.items["sbh-ms-0001"]
        item.metadata["title"] = ({"value": "Hikayat Gunung Kinabalu", "lang": "ms"},)
        item.touch()
        coll = root.collections["sbh-manuscripts"]
        coll.add_item(make_item("sbh-ms-0004", "Pantun Labuan"))
        root.items["sbh-ms-0002"].set_state("withdrawn")

    Arranger(_database(partner_app))(change)
    incremental = us.harvest("sabah")["sabah"]
    assert incremental.outcome == SUCCESS, incremental.error
    assert (incremental.added, incremental.updated, incremental.deleted) == (1, 1, 1)

    def check_incremental(root: Any) -> None:
        sabah = root.partners["sabah"]
        assert sabah.last_run.from_datestamp >= first_state["datestamp"]
        records = by_item(live(root, "sabah"))
        assert sorted(records) == ["sbh-ms-0001", "sbh-ms-0003", "sbh-ms-0004"]
        title = records["sbh-ms-0001"].metadata["title"]
        assert title == ({"value": "Hikayat Gunung Kinabalu", "lang": "ms"},)
        everything = by_item({r.identifier: r for r in root.harvested.records_of("sabah")})
        withdrawn = root.harvested.get(everything["sbh-ms-0002"].key)
        assert withdrawn.deleted and withdrawn.metadata == {}
        assert found(root, "Sandakan") == []  # deleted at the partner: gone from search
        assert found(root, "Labuan") == [f"harvested:{records['sbh-ms-0004'].key}"]
        assert found(root, "Gunung Kinabalu") == [f"harvested:{records['sbh-ms-0001'].key}"]

    us.read(check_incremental)


def test_self_harvest_in_mods_keeps_languages_and_links(app, partner):
    _, partner_url = partner
    us = Harvester(app)
    us.add("sabah-mods", partner_url, prefix="mods", set_spec="sabah")
    result = us.harvest("sabah-mods")["sabah-mods"]
    assert result.outcome == SUCCESS and result.added == 3, result.error

    def check(root: Any) -> None:
        records = by_item(live(root, "sabah-mods"))
        assert sorted(records) == sorted(PARTNER_ITEMS)
        hikayat = records["sbh-ms-0001"]
        assert {"value": "Hikayat Kinabalu", "lang": "ms"} in hikayat.metadata["title"]
        assert hikayat.link.endswith("/items/sbh-ms-0001")
        assert hikayat.manifest.endswith("/iiif/manifests/sbh-ms-0001")
        assert "sabah" in hikayat.sets

    us.read(check)


def test_records_survive_a_later_failed_run(app, tmp_path):
    us = Harvester(app)
    fake = FakePartner("ok", records=5)
    with serve_app(fake) as url:
        us.add("kutai", url)
        assert us.harvest("kutai")["kutai"].added == 5
        datestamp = us.read(lambda root: root.partners["kutai"].last_datestamp)
        fake.mode = "bad-token"
        failed = us.harvest("kutai")["kutai"]
    assert failed.outcome == FAILED and failed.reason == "bad-resumption-token"
    down = us.harvest("kutai")["kutai"]  # the server is gone
    assert down.outcome == FAILED and down.reason == "network"
    assert "cannot reach 127.0.0.1" in down.error

    def check(root: Any) -> None:
        assert len(live(root, "kutai")) == 5
        assert len(found(root, "Naskah")) == 5  # still in the catalog
        partner = root.partners["kutai"]
        assert partner.last_datestamp == datestamp  # only a complete run moves it
        outcomes = [run.outcome for run in partner.latest_runs()]
        assert outcomes == [FAILED, FAILED, SUCCESS]

    us.read(check)


def test_a_partner_that_loops_on_its_token_is_stopped(app):
    us = Harvester(app)
    with serve_app(FakePartner("loop", records=6)) as url:
        us.add("loop", url)
        result = us.harvest("loop")["loop"]
    assert result.outcome == FAILED and result.reason == "bad-resumption-token"
    assert "same resumption token again" in result.error
    assert result.added == 4  # pages 1 and 2, once each


def test_retries_back_off_then_give_up():
    flaky = FakePartner("flaky", failures=2)
    waits: list[float] = []
    with serve_app(flaky) as url:
        client = OAIClient(
            url, ClientOptions(timeout=2, retries=2, backoff=0.01), sleep=waits.append
        )
        assert client.identify()["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
        assert len(flaky.requests) == 3 and waits == [0.01, 0.02]

        always = FakePartner("flaky", failures=99)
        with serve_app(always) as url2:
            client = OAIClient(
                url2, ClientOptions(timeout=2, retries=1, backoff=0), sleep=waits.append
            )
            with pytest.raises(HarvestError) as info:
                client.identify()
        assert info.value.reason == "http" and "503" in str(info.value)
        assert len(always.requests) == 2


def test_a_client_error_is_not_retried():
    def not_found(environ: dict, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]

    with serve_app(not_found) as url:
        client = OAIClient(
            url, ClientOptions(timeout=2, retries=3, backoff=0), sleep=lambda s: None
        )
        with pytest.raises(HarvestError) as info:
            list(client.list_records("oai_dc"))
    assert info.value.reason == "http" and "404" in str(info.value)
    assert client.requests == 1


def test_no_records_match_is_success(app):
    def nothing(environ: dict, start_response: Any) -> list[bytes]:
        verb = parse_qs(environ["QUERY_STRING"]).get("verb", [""])[0]
        body = (
            oai_response(IDENTIFY.format(name="empty"), "Identify")
            if verb == "Identify"
            else oai_response('<error code="noRecordsMatch">nothing new</error>')
        )
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [body]

    us = Harvester(app)
    with serve_app(nothing) as url:
        us.add("empty", url)
        result = us.harvest("empty")["empty"]
    assert result.outcome == SUCCESS and result.records == 0
    assert us.read(lambda root: root.partners["empty"].last_datestamp)


# -- the command line -------------------------------------------------------------------------


def _ini(tmp_path: Path) -> Path:
    folder = tmp_path / "cli"
    folder.mkdir()
    lines = [
        "[app:main]",
        "use = egg:borneo-heritage",
        f"zodbconn.uri = file://{folder}/Data.fs?blobstorage_dir={folder}/blobs",
        f"heritage.var_dir = {folder}/var",
        *(f"{k} = {v}" for k, v in HARVEST_SETTINGS.items()),
    ]
    ini = folder / "heritage.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini


def test_heritage_harvest_exits_1_naming_the_failed_partners(tmp_path, partner, broken, capsys):
    _, partner_url = partner
    ini = str(_ini(tmp_path))
    assert (
        cli.main(
            [
                "partner",
                "add",
                "sabah",
                "--name",
                "ms=Pustaka Sabah",
                "--url",
                partner_url,
                "-c",
                ini,
            ]
        )
        == 0
    )
    for name in ("broken-xml", "slow"):
        assert (
            cli.main(["partner", "add", name, "--name", name, "--url", broken[name], "-c", ini])
            == 0
        )
    assert (
        cli.main(
            [
                "partner",
                "add",
                "off",
                "--name",
                "x",
                "--url",
                broken["bad-token"],
                "--disabled",
                "-c",
                ini,
            ]
        )
        == 0
    )
    capsys.readouterr()

    assert cli.main(["harvest", "-c", ini]) == 1
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("heritage: error:")]
    assert len(errors) == 2, err
    assert errors[0].startswith("heritage: error: partner broken-xml failed: invalid XML")
    assert errors[1].startswith("heritage: error: partner slow failed: no answer within 0.4 s")
    assert "harvest summary" in out and "sabah" in out and "off" not in out  # disabled: skipped
    assert "records/s" in err  # the progress line per partner

    assert cli.main(["harvest", "sabah", "-c", ini]) == 0  # the good one alone: success
    assert cli.main(["harvest", "nobody", "-c", ini]) == 1
    assert (
        capsys.readouterr().err.strip().endswith("no partner 'nobody' (see heritage partner list)")
    )

    assert cli.main(["partner", "list", "-c", ini]) == 0
    listing = capsys.readouterr().out
    assert "sabah" in listing and "success" in listing and "disabled" in listing

    assert (
        cli.main(["partner", "add", "bad", "--name", "x", "--url", "file:///etc/passwd", "-c", ini])
        == 1
    )
    assert "url: use an http:// or https:// URL" in capsys.readouterr().err
    assert cli.main(["partner", "remove", "sabah", "-c", ini]) == 0
    assert "removed partner sabah and 3 harvested records" in capsys.readouterr().err


# -- the worker -------------------------------------------------------------------------------


def test_worker_harvests_partners_whose_schedule_is_due(app):
    from heritage.harvest.jobs import due_harvests
    from heritage.worker import queue_scheduled, run_worker

    us = Harvester(app)
    fake = FakePartner("ok", records=3)
    with serve_app(fake) as url:
        us.add("daily", url, schedule="1d")
        us.add("never", url, schedule="0")
        us.add("off", url, enabled=False)
        hs = parse_settings(
            {
                **HARVEST_SETTINGS,
                "heritage.harvest_check": "60",
                "heritage.audit_interval": "0",
                "heritage.pack_interval": "0",
            }
        )
        assert us.read(lambda root: due_harvests(root, hs)) == [("harvest", {"partner": "daily"})]
        assert run_worker(us.db, hs, processes=0, once=True) == 1
        assert us.read(lambda root: len(live(root, "daily"))) == 3
        # just harvested: not due again, so nothing is queued at the next check
        assert us.read(lambda root: due_harvests(root, hs)) == []
        later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
        assert us.read(lambda root: queue_scheduled(root, hs, now=later)) == 0
