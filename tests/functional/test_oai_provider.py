"""The OAI-PMH provider at /oai, harvested by a real OAI-PMH client (Sickle) over HTTP.

The app is served by a real waitress server on 127.0.0.1 (``support.serve_app``); lists
come in pages of two so that every harvest crosses several resumption tokens.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
from sickle import Sickle, oaiexceptions
from support import Arranger, make_item, serve_app

from heritage.oai.tokens import ListState, encode_token

REPO = "heritage.example.org"
PUBLIC = ("kaltim-ms-0001", "pns-ms-0001", "pns-ms-0004")  # the consortium's public records
HIDDEN = ("pns-ms-0002", "pns-ms-0003", "pns-oh-0001", "kaltim-ms-0002")


@pytest.fixture
def settings(settings: dict[str, str]) -> dict[str, str]:
    return {**settings, "heritage.oai_page_size": "2", "heritage.oai_repository_id": REPO}


@pytest.fixture
def base(app: Any, consortium: Any) -> Any:
    with serve_app(app) as url:
        yield url


@pytest.fixture
def sickle(base: str) -> Sickle:
    return Sickle(f"{base}/oai", timeout=10)


def oai_id(item_id: str) -> str:
    return f"oai:{REPO}:{item_id}"


def item_id(identifier: str) -> str:
    return identifier.rsplit(":", 1)[1]


def add_public(arrange: Arranger, ids: list[str], collection: str = "pns-manuscripts") -> None:
    def work(root: Any) -> None:
        for i in ids:
            root.collections[collection].add_item(make_item(i, f"Hikayat {i}"))

    arrange(work)


def restamp(arrange: Arranger, stamps: dict[str, str]) -> None:
    """Give records known datestamps (as if they had changed then)."""

    def work(root: Any) -> None:
        for i, stamp in stamps.items():
            root.oai.put(i, root.oai.get(i)._replace(datestamp=stamp))

    arrange(work)


def edit(arrange: Arranger, item: str, change: Any) -> None:
    def work(root: Any) -> None:
        change(root.items[item])
        root.items[item].touch()

    arrange(work)


def retitle(title: str) -> Any:
    def change(item: Any) -> None:
        item.metadata["title"] = ({"value": title, "lang": "ms"},)

    return change


# -- harvesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_harvest_everything_in_both_formats(base, method):
    sickle = Sickle(f"{base}/oai", http_method=method, timeout=10)
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    assert [r.header.identifier for r in records] == [oai_id(i) for i in PUBLIC]
    by_id = {item_id(r.header.identifier): r for r in records}
    public = by_id["pns-ms-0001"].metadata
    assert public["title"] == ["Hikayat Pelanduk", "Hikayat Pelanduk (en)"]
    assert f"{base}/items/pns-ms-0001" in public["identifier"]
    assert f"{base}/iiif/manifests/pns-ms-0001" in public["identifier"]
    # metadata-only: the record, its page, but no manifest (its images are not public)
    assert by_id["pns-ms-0004"].metadata["identifier"] == [f"{base}/items/pns-ms-0004"]
    assert by_id["pns-ms-0001"].header.setSpecs == ["pns", "pns:pns-manuscripts"]

    mods = list(sickle.ListRecords(metadataPrefix="mods"))
    assert [r.header.identifier for r in mods] == [oai_id(i) for i in PUBLIC]
    xml = next(r for r in mods if r.header.identifier == oai_id("pns-ms-0001")).raw
    assert f">{base}/iiif/manifests/pns-ms-0001<" in xml
    assert f">{base}/items/pns-ms-0001<" in xml
    assert 'xml:lang="ms"' in xml and "Pustaka Negeri Sarawak" in xml


def test_restricted_items_never_appear(sickle):
    identifiers = {h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc")}
    assert identifiers == {oai_id(i) for i in PUBLIC}
    for hidden in HIDDEN:
        with pytest.raises(oaiexceptions.IdDoesNotExist):
            sickle.GetRecord(identifier=oai_id(hidden), metadataPrefix="oai_dc")
    with pytest.raises(oaiexceptions.NoRecordsMatch):  # community access only: not public
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="pns:pns-oral-history"))


def test_get_record_and_formats(sickle):
    record = sickle.GetRecord(identifier=oai_id("kaltim-ms-0001"), metadataPrefix="oai_dc")
    assert record.metadata["title"][0] == "Hikayat Banjar"
    formats = {f.metadataPrefix: f.metadataNamespace for f in sickle.ListMetadataFormats()}
    assert formats == {
        "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
        "mods": "http://www.loc.gov/mods/v3",
    }
    one = [f.metadataPrefix for f in sickle.ListMetadataFormats(identifier=oai_id(PUBLIC[0]))]
    assert one == ["oai_dc", "mods"]


def test_identify(sickle):
    identify = sickle.Identify()
    assert identify.repositoryName == "Borneo Heritage"
    assert identify.baseURL.endswith("/oai")
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.repositoryIdentifier == REPO
    assert identify.sampleIdentifier.startswith(f"oai:{REPO}:")


def test_sets_are_institutions_and_their_collections(sickle):
    sets = {s.setSpec: s for s in sickle.ListSets()}
    assert list(sets) == [
        "kaltim",
        "kaltim:kaltim-naskah",
        "pns",
        "pns:pns-manuscripts",
        "pns:pns-oral-history",
    ]
    assert sets["pns"].setName == "Sarawak State Library"
    assert 'xml:lang="ms">Pustaka Negeri Sarawak<' in sets["pns"].raw
    assert 'xml:lang="ms">Manuskrip<' in sets["pns:pns-manuscripts"].raw


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("pns", ["pns-ms-0001", "pns-ms-0004", "pns-ms-0101"]),
        ("pns:pns-manuscripts", ["pns-ms-0001", "pns-ms-0004", "pns-ms-0101"]),
        ("kaltim", ["kaltim-ms-0001"]),
        ("kaltim:kaltim-naskah", ["kaltim-ms-0001"]),
    ],
)
def test_harvest_by_set(sickle, arrange, spec, expected):
    add_public(arrange, ["pns-ms-0101"])
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set=spec))
    assert [item_id(h.identifier) for h in headers] == expected


def test_harvest_an_unknown_set_matches_nothing(sickle):
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="sabah"))


def test_harvest_by_date(sickle, arrange):
    add_public(arrange, ["pns-ms-0101", "pns-ms-0102"])
    restamp(
        arrange,
        {
            "kaltim-ms-0001": "2020-01-01T10:00:00Z",
            "pns-ms-0001": "2021-06-15T08:30:00Z",
            "pns-ms-0004": "2021-06-15T08:30:01Z",
            "pns-ms-0101": "2022-03-01T00:00:00Z",
            "pns-ms-0102": "2023-12-31T23:59:59Z",
        },
    )

    def harvest(**dates: str) -> list[str]:
        try:
            headers = sickle.ListIdentifiers(metadataPrefix="oai_dc", **dates)
            return [item_id(h.identifier) for h in headers]
        except oaiexceptions.NoRecordsMatch:
            return []

    assert harvest(**{"from": "2021-06-15T08:30:01Z"}) == [
        "pns-ms-0004",
        "pns-ms-0101",
        "pns-ms-0102",
    ]
    assert harvest(**{"from": "2021-06-15"}) == [
        "pns-ms-0001",
        "pns-ms-0004",
        "pns-ms-0101",
        "pns-ms-0102",
    ]
    assert harvest(until="2021-06-15T08:30:00Z") == ["kaltim-ms-0001", "pns-ms-0001"]
    assert harvest(until="2021-06-15") == ["kaltim-ms-0001", "pns-ms-0001", "pns-ms-0004"]
    assert harvest(**{"from": "2021-01-01", "until": "2022-12-31"}) == [
        "pns-ms-0001",
        "pns-ms-0004",
        "pns-ms-0101",
    ]
    assert harvest(**{"from": "2023-12-31T23:59:59Z", "until": "2023-12-31T23:59:59Z"}) == [
        "pns-ms-0102"
    ]
    assert harvest(until="2019-12-31") == []  # before the earliest datestamp
    assert harvest(**{"from": "2024-01-01"}) == []
    with_set = sickle.ListIdentifiers(metadataPrefix="oai_dc", set="pns", until="2021-12-31")
    assert [item_id(h.identifier) for h in with_set] == ["pns-ms-0001", "pns-ms-0004"]
    assert sickle.Identify().earliestDatestamp == "2020-01-01T10:00:00Z"


def test_pages_stay_stable_while_records_change(sickle, arrange):
    """Records added, changed and withdrawn between pages: none that existed at the start is
    lost or sent twice, and the ones not yet sent come with their new state."""
    add_public(arrange, [f"pns-ms-01{n:02d}" for n in range(1, 9)])
    at_start = [*PUBLIC, *(f"pns-ms-01{n:02d}" for n in range(1, 9))]
    between_pages = {
        2: [
            lambda: edit(arrange, "kaltim-ms-0001", retitle("Sudah dituai")),  # already sent
            lambda: edit(arrange, "pns-ms-0105", retitle("Hikayat Baharu")),  # not yet sent
            lambda: add_public(arrange, ["aaa-ms-0001", "pns-ms-0200"]),  # before/after cursor
        ],
        4: [lambda: edit(arrange, "pns-ms-0107", lambda item: item.set_state("withdrawn"))],
        6: [lambda: edit(arrange, "pns-ms-0004", lambda item: item.set_access("staff"))],
    }
    records = sickle.ListRecords(metadataPrefix="oai_dc")
    seen = []
    tokens = []
    for n, record in enumerate(records, 1):
        seen.append(record)
        if n % 2 == 0:
            tokens.append(records.resumption_token)
        for change in between_pages.get(n, []):
            change()

    counts = Counter(item_id(r.header.identifier) for r in seen)
    assert all(counts[i] == 1 for i in at_start), counts
    assert max(counts.values()) == 1, counts
    assert "aaa-ms-0001" not in counts  # added before the cursor: the next harvest gets it
    by_id = {item_id(r.header.identifier): r for r in seen}
    assert by_id["pns-ms-0105"].metadata["title"] == ["Hikayat Baharu"]
    assert by_id["pns-ms-0107"].deleted
    assert by_id["kaltim-ms-0001"].metadata["title"][0] == "Hikayat Banjar"
    first = tokens[0]
    assert (first.cursor, first.complete_list_size) == ("0", "11")
    assert [t.cursor for t in tokens[:5]] == ["0", "2", "4", "6", "8"]
    assert first.expiration_date.endswith("Z")


def test_withdrawn_and_restricted_items_become_deleted_records(sickle, arrange):
    restamp(
        arrange, {"pns-ms-0001": "2020-01-01T00:00:00Z", "kaltim-ms-0001": "2020-01-01T00:00:00Z"}
    )
    edit(arrange, "pns-ms-0001", lambda item: item.set_state("withdrawn"))
    edit(arrange, "kaltim-ms-0001", lambda item: item.set_access("community", "dayak-elders"))

    headers = {item_id(h.identifier): h for h in sickle.ListIdentifiers(metadataPrefix="oai_dc")}
    assert set(headers) == set(PUBLIC)  # deleted records stay listed, for good
    for gone in ("pns-ms-0001", "kaltim-ms-0001"):
        assert headers[gone].deleted
        assert headers[gone].datestamp > "2020-01-01T00:00:00Z"  # the deletion is a change
        record = sickle.GetRecord(identifier=oai_id(gone), metadataPrefix="mods")
        assert record.deleted and "<metadata" not in record.raw
    assert not headers["pns-ms-0004"].deleted
    assert headers["pns-ms-0001"].setSpecs == ["pns", "pns:pns-manuscripts"]

    # public again: live again, with a new datestamp
    restamp(arrange, {"pns-ms-0001": "2020-02-02T00:00:00Z"})
    edit(arrange, "pns-ms-0001", lambda item: item.set_state("published"))
    record = sickle.GetRecord(identifier=oai_id("pns-ms-0001"), metadataPrefix="oai_dc")
    assert not record.deleted and record.header.datestamp > "2020-02-02T00:00:00Z"
    assert record.metadata["title"][0] == "Hikayat Pelanduk"


def test_a_removed_item_becomes_a_deleted_record(sickle, arrange):
    def remove(root: Any) -> None:
        from heritage.changes import item_removed

        item = root.items["pns-ms-0001"]
        item_removed(item)
        item.__parent__.remove("pns-ms-0001")
        root.items.unregister("pns-ms-0001")

    arrange(remove)
    record = sickle.GetRecord(identifier=oai_id("pns-ms-0001"), metadataPrefix="oai_dc")
    assert record.deleted


def test_datestamps_change_only_when_the_public_record_does(sickle, arrange):
    restamp(arrange, {"pns-ms-0001": "2020-01-01T00:00:00Z"})
    edit(arrange, "pns-ms-0001", lambda item: None)  # saved, nothing changed
    edit(arrange, "pns-ms-0001", lambda item: setattr(item, "viewing_direction", "right-to-left"))

    def stamp() -> str:
        return sickle.GetRecord(
            identifier=oai_id("pns-ms-0001"), metadataPrefix="oai_dc"
        ).header.datestamp

    assert stamp() == "2020-01-01T00:00:00Z"
    edit(arrange, "pns-ms-0001", retitle("Hikayat Pelanduk Jenaka"))
    assert stamp() > "2020-01-01T00:00:00Z"


# -- errors ------------------------------------------------------------------------------------


def test_error_conditions_through_the_client(sickle, app):
    assert 'code="badVerb"' in sickle.harvest(verb="ListThings").raw
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        list(sickle.ListRecords(metadataPrefix="marc21"))
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        sickle.GetRecord(identifier=oai_id(PUBLIC[0]), metadataPrefix="marc21")
    with pytest.raises(oaiexceptions.BadArgument):
        list(
            sickle.ListRecords(
                metadataPrefix="oai_dc", **{"from": "2020-01-01T00:00:00Z"}, until="2021-01-01"
            )
        )
    with pytest.raises(oaiexceptions.BadArgument):
        list(
            sickle.ListRecords(
                metadataPrefix="oai_dc", **{"from": "2021-01-02", "until": "2021-01-01"}
            )
        )
    with pytest.raises(oaiexceptions.BadArgument):
        list(sickle.ListRecords(metadataPrefix="oai_dc", **{"from": "2021-02-30"}))
    with pytest.raises(oaiexceptions.BadArgument):
        list(sickle.ListRecords(metadataPrefix="oai_dc", **{"from": "2021-01-01T00:00Z"}))
    with pytest.raises(oaiexceptions.BadArgument):
        list(sickle.ListIdentifiers())  # metadataPrefix missing
    with pytest.raises(oaiexceptions.BadArgument):
        sickle.GetRecord(metadataPrefix="oai_dc")  # identifier missing
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        sickle.GetRecord(identifier="oai:elsewhere.org:pns-ms-0001", metadataPrefix="oai_dc")
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        list(sickle.ListMetadataFormats(identifier=oai_id("no-such-item")))
    with pytest.raises(oaiexceptions.BadResumptionToken):
        list(sickle.ListRecords(resumptionToken="forged.token"))
    key = app.registry.oai_token_key
    expired = encode_token(ListState("ListRecords", "oai_dc", None, None, None, "a", 2, 3, 1), key)
    with pytest.raises(oaiexceptions.BadResumptionToken):
        list(sickle.ListRecords(resumptionToken=expired))
    other_verb = encode_token(
        ListState("ListIdentifiers", "oai_dc", None, None, None, "a", 2, 3, 2**40), key
    )
    with pytest.raises(oaiexceptions.BadResumptionToken):
        list(sickle.ListRecords(resumptionToken=other_verb))


def test_a_tampered_token_is_refused(sickle, base):
    records = sickle.ListIdentifiers(metadataPrefix="oai_dc")
    next(records)
    token = records.resumption_token.token
    body, signature = token.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    answer = requests.get(
        f"{base}/oai", params={"verb": "ListIdentifiers", "resumptionToken": tampered}, timeout=10
    )
    assert 'code="badResumptionToken"' in answer.text
    answer = requests.get(
        f"{base}/oai", params={"verb": "ListIdentifiers", "resumptionToken": token}, timeout=10
    )
    assert "<header>" in answer.text  # the real one still works


def test_resumption_token_must_stand_alone(base):
    answer = requests.get(
        f"{base}/oai",
        params={"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
        timeout=10,
    )
    assert 'code="badArgument"' in answer.text


def test_deleted_record_has_no_metadata_formats(sickle, arrange):
    edit(arrange, "pns-ms-0001", lambda item: item.set_state("withdrawn"))
    answer = sickle.harvest(verb="ListMetadataFormats", identifier=oai_id("pns-ms-0001"))
    assert 'code="noMetadataFormats"' in answer.raw


def test_a_repository_without_sets(tmp_path):
    from heritage import main

    empty = main({}, **{"zodbconn.uri": "memory://", "heritage.var_dir": str(tmp_path / "v")})
    with serve_app(empty) as url:
        sickle = Sickle(f"{url}/oai", timeout=10)
        with pytest.raises(oaiexceptions.NoSetHierarchy):
            list(sickle.ListSets())
        with pytest.raises(oaiexceptions.NoSetHierarchy):
            list(sickle.ListRecords(metadataPrefix="oai_dc", set="pns"))
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            list(sickle.ListRecords(metadataPrefix="oai_dc"))
        assert sickle.Identify().earliestDatestamp.endswith("Z")


def test_responses_are_xml_and_cached_briefly(base):
    identify = requests.get(f"{base}/oai", params={"verb": "Identify"}, timeout=10)
    assert identify.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert identify.headers["Cache-Control"] == "public, max-age=60"
    records = requests.get(
        f"{base}/oai", params={"verb": "ListRecords", "metadataPrefix": "oai_dc"}, timeout=10
    )
    assert records.headers["Cache-Control"] == "no-cache"
    assert requests.put(f"{base}/oai", timeout=10).status_code in (404, 405)


def test_records_keep_the_same_answer_for_signed_in_staff(testapp, consortium):
    """The provider serves the public view whoever asks: staff see no restricted records."""
    from support import login

    login(testapp, "admin")
    body = testapp.get("/oai", {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).text
    assert all(f":{hidden}<" not in body for hidden in HIDDEN)


def test_a_set_url_for_partner_pages_harvests_that_set(app, base, arrange):
    from pyramid.request import Request

    from heritage.oai import oai_set_spec, oai_set_url

    request = Request.blank("/", base_url=base)
    request.registry = app.registry

    def urls(root: Any) -> list[str]:
        pns = root.institutions["pns"]
        assert oai_set_spec(root.collections["pns-manuscripts"]) == "pns:pns-manuscripts"
        return [oai_set_url(request, pns, "mods")]

    (url,) = arrange(urls)
    answer = requests.get(url, timeout=10).text
    assert "<setSpec>pns</setSpec>" in answer and "kaltim" not in answer
    assert "<mods:mods" in answer
    with pytest.raises(TypeError):
        oai_set_spec(object())
