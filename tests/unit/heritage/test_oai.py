"""The OAI-PMH building blocks without a server: the record list, pages, tokens, dates."""

from __future__ import annotations

import random

import pytest
import transaction
from support import make_item
from ZODB import DB

from heritage import evolve
from heritage.oai import listing
from heritage.oai.protocol import OAIErrors, parse_request
from heritage.oai.records import OAIRecord, OAIRecords
from heritage.oai.tokens import BadToken, ListState, decode_token, derive_key, encode_token
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.root import APP_ROOT

# -- the record list ---------------------------------------------------------------------------


def test_put_moves_a_record_in_every_index():
    records = OAIRecords()
    records.put("a-1", OAIRecord("2020-01-01T00:00:00Z", ("x", "x:y"), False, "f"))
    records.put("a-1", OAIRecord("2021-01-01T00:00:00Z", ("z",), True, ""))
    assert list(records.stamped(None, None)) == [("2021-01-01T00:00:00Z", "a-1")]
    assert (records.set_size("x"), records.set_size("x:y"), records.set_size("z")) == (0, 0, 1)
    assert len(records) == 1


def test_publish_keeps_the_datestamp_when_nothing_public_changed():
    records = OAIRecords()
    assert records.publish("a-1", sets=("x",), fingerprint="f", when="2020-01-01T00:00:00Z")
    assert not records.publish("a-1", sets=("x",), fingerprint="f", when="2021-01-01T00:00:00Z")
    assert records.get("a-1").datestamp == "2020-01-01T00:00:00Z"
    assert records.publish("a-1", sets=("x",), fingerprint="g", when="2022-01-01T00:00:00Z")
    assert records.withdraw("a-1", when="2023-01-01T00:00:00Z")
    assert not records.withdraw("a-1", when="2024-01-01T00:00:00Z")
    assert records.get("a-1") == OAIRecord("2023-01-01T00:00:00Z", ("x",), True, "")
    assert not records.withdraw("never-public")
    assert records.get("never-public") is None


def test_earliest_datestamp():
    records = OAIRecords()
    assert records.earliest_datestamp() == records.created
    records.put("a-1", OAIRecord("2019-05-05T05:05:05Z", (), False, "f"))
    assert records.earliest_datestamp() == "2019-05-05T05:05:05Z"


# -- pages: both ways of finding a page give the same lists ------------------------------------


def _random_records(rng: random.Random, n: int) -> OAIRecords:
    records = OAIRecords()
    for i in range(n):
        year = rng.choice([2019, 2020, 2021, 2022])
        stamp = f"{year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:0{rng.randint(0, 9)}Z"
        sets = rng.choice([("a", "a:1"), ("a", "a:2"), ("b", "b:1")])
        records.put(f"item-{rng.randint(0, 10**6):07d}-{i}", OAIRecord(stamp, sets, False, "f"))
    return records


def _walk(records, start, end, spec, limit):
    out, after = [], None
    while True:
        found, more = listing.page(
            records, start=start, end=end, spec=spec, after=after, limit=limit
        )
        out += [i for i, _ in found]
        if not more:
            return out
        after = found[-1][0]


@pytest.mark.parametrize("seed", range(6))
def test_pages_follow_item_ids_whatever_the_strategy(seed):
    rng = random.Random(seed)
    records = _random_records(rng, 300)
    for start, end, spec in [
        (None, None, None),
        ("2020-01-01T00:00:00Z", None, None),  # wide: walks ids
        ("2022-09-19T00:00:00Z", None, None),  # narrow: reads the datestamp range
        (None, "2019-03-19T00:00:09Z", "a"),
        ("2020-05-10T00:00:00Z", "2021-02-10T00:00:00Z", "b:1"),
        (None, None, "a:2"),
    ]:
        expected = sorted(
            i
            for i, r in records.records.items()
            if (start is None or r.datestamp >= start)
            and (end is None or r.datestamp <= end)
            and (spec is None or spec in r.sets)
        )
        for limit in (1, 7, 100, 1000):
            assert _walk(records, start, end, spec, limit) == expected
        assert listing.count(records, start, end, spec) == len(expected)


# -- tokens ------------------------------------------------------------------------------------

KEY = derive_key("a secret")
STATE = ListState(
    "ListRecords", "mods", "2020-01-01T00:00:00Z", None, "pns", "pns-ms-0007", 100, 250, 2000
)


def test_a_token_round_trips():
    token = encode_token(STATE, KEY)
    assert decode_token(token, KEY, verb="ListRecords", now=1000) == STATE


@pytest.mark.parametrize(
    ("token", "key", "verb", "now"),
    [
        (encode_token(STATE, KEY), KEY, "ListRecords", 2001),  # expired
        (encode_token(STATE, KEY), KEY, "ListIdentifiers", 1000),  # another list's token
        (encode_token(STATE, KEY), derive_key("another secret"), "ListRecords", 1000),
        (encode_token(STATE, KEY)[:-1] + "A", KEY, "ListRecords", 1000),  # signature changed
        ("e30." + encode_token(STATE, KEY).split(".")[1], KEY, "ListRecords", 1000),  # body swapped
        ("", KEY, "ListRecords", 1000),
        ("ünïcode.x", KEY, "ListRecords", 1000),
    ],
)
def test_bad_tokens_are_refused(token, key, verb, now):
    with pytest.raises(BadToken):
        decode_token(token, key, verb=verb, now=now)


def test_a_signed_token_with_a_bad_body_is_refused():
    import base64
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(b'{"v":1,"verb":"ListRecords"}').rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(hmac.new(KEY, body.encode(), hashlib.sha256).digest())
    with pytest.raises(BadToken, match="cannot be read"):
        decode_token(f"{body}.{sig.rstrip(b'=').decode()}", KEY, verb="ListRecords", now=0)


# -- requests ----------------------------------------------------------------------------------


def test_parse_a_request():
    request = parse_request([("verb", "ListRecords"), ("metadataPrefix", "mods"), ("set", "pns")])
    assert (request.verb, request.arguments) == (
        "ListRecords",
        {"metadataPrefix": "mods", "set": "pns"},
    )


def test_every_argument_problem_is_reported():
    with pytest.raises(OAIErrors) as caught:
        parse_request(
            [("verb", "ListRecords"), ("from", "2020-01-01"), ("from", "x"), ("colour", "red")]
        )
    messages = [e.message for e in caught.value.errors]
    assert {e.code for e in caught.value.errors} == {"badArgument"}
    assert any("repeated" in m for m in messages)
    assert any("'colour'" in m for m in messages)
    assert any("metadataPrefix" in m for m in messages)
    assert not caught.value.echo_arguments


# -- evolve step 0008 --------------------------------------------------------------------------


def test_step_0008_fills_the_record_list_from_public_items():
    db = DB(None)
    with transaction.manager:
        conn = db.open()
        zodb_root = conn.root()
        root = evolve.bootstrap(zodb_root)
        inst = root.institutions.add(
            "pns", Institution({"en": "Sarawak State Library"}, country="MY")
        )
        coll = root.add_collection(inst, "pns-manuscripts", Collection({"en": "Manuscripts"}))
        coll.add_item(make_item("pns-ms-0001", "Hikayat Pelanduk"))
        coll.add_item(make_item("pns-ms-0002", "Syair", state="capture"))
        del root.oai  # as the database was before step 0008
        del evolve.finished_steps(zodb_root)["step_0008_oai"]
    try:
        assert evolve.run_pending(conn, transaction.manager) == ["step_0008_oai"]
        root = conn.root()[APP_ROOT]
        record = root.oai.get("pns-ms-0001")
        modified = root.items["pns-ms-0001"].modified
        assert record.datestamp == modified.replace("+00:00", "Z")
        assert record.sets == ("pns", "pns:pns-manuscripts") and not record.deleted
        assert root.oai.get("pns-ms-0002") is None
        assert root.oai.__parent__ is root
    finally:
        conn.close()
        db.close()
