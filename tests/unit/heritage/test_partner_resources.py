"""Partners (settings, schedule, run log) and the harvested records' store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import transaction
from ZODB import DB

from heritage.evolve import step_names
from heritage.evolve.step_0009_union_catalogue import evolve
from heritage.resources.harvested import Harvested
from heritage.resources.partners import (
    FAILED,
    INTERRUPTED,
    RUNNING,
    RUNS_KEPT,
    SUCCESS,
    Partner,
    PartnerInvalid,
    Partners,
    apply_partner,
    parse_schedule,
    validate_partner,
)
from heritage.resources.root import Root


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("30m", 1800), ("12h", 43200), ("1d", 86400), ("2w", 1209600)]
)
def test_schedules(text, seconds):
    assert parse_schedule(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "1y", "-1d", "1.5d", "d", "100000d", None])
def test_bad_schedules(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_validation_names_every_bad_field():
    with pytest.raises(PartnerInvalid) as info:
        validate_partner(
            {"id": "A B", "url": "gopher://x", "prefix": "", "set": "a b"}, creating=True
        )
    assert set(info.value.errors) == {"id", "name", "url", "prefix", "set"}
    with pytest.raises(PartnerInvalid) as info:
        validate_partner({"id": "new-id"}, creating=False)
    assert info.value.errors == {"id": "a partner's id cannot change"}
    assert validate_partner({"name": {"msa": "Pustaka"}}, creating=False) == {
        "name": {"ms": "Pustaka"}  # canonical language tags
    }


def test_a_new_url_prefix_or_set_restarts_from_the_beginning():
    partner = Partner({"en": "X"}, "https://x.example/oai")
    partner.last_datestamp, partner.granularity = "2024-01-01T00:00:00Z", "YYYY-MM-DD"
    apply_partner(partner, {"schedule": "1w", "enabled": False, "name": {"en": "Y"}})
    assert partner.last_datestamp and partner.interval == 7 * 86400 and not partner.enabled
    apply_partner(partner, {"set": "naskah"})
    assert partner.last_datestamp == "" and partner.granularity == ""


def test_due_follows_the_schedule_and_the_last_run():
    now = datetime.now(UTC)
    partner = Partner({"en": "X"}, "https://x.example/oai", schedule="12h")
    assert partner.due(now)  # never harvested
    partner.start_run()
    assert not partner.due(now + timedelta(hours=11))
    assert partner.due(now + timedelta(hours=12, seconds=1))
    partner.set_schedule("0")
    assert not partner.due(now + timedelta(days=30))
    partner.set_schedule("1d")
    partner.enabled = False
    assert not partner.due(now + timedelta(days=30))


def test_the_log_keeps_the_newest_runs_and_marks_abandoned_ones():
    partner = Partner({"en": "X"}, "https://x.example/oai")
    first = partner.start_run()
    assert first.outcome == RUNNING
    second = partner.start_run()  # the first never finished
    assert first.outcome == INTERRUPTED and "did not finish" in first.error
    second.outcome = SUCCESS
    for _ in range(RUNS_KEPT + 5):
        partner.start_run().outcome = FAILED
    runs = partner.latest_runs()
    assert len(runs) == RUNS_KEPT == len(partner.runs)
    assert runs[0] is partner.last_run
    assert runs[0].started >= runs[-1].started
    assert partner.as_dict()["last_run"]["outcome"] == FAILED


def test_partner_ids_are_checked():
    partners = Partners()
    with pytest.raises(ValueError):
        partners.add("a:b", Partner({"en": "X"}, "https://x.example/oai"))


def fields(identifier, *, title="Hikayat", deleted=False, datestamp="2024-01-01"):
    return {
        "identifier": identifier,
        "datestamp": datestamp,
        "deleted": deleted,
        "metadata": {} if deleted else {"title": ({"value": title, "lang": "ms"},)},
        "link": "" if deleted else f"https://p.example/{identifier}",
    }


def test_store_adds_updates_deletes_and_counts_live_records():
    harvested = Harvested()
    name = {"en": "Partner"}
    assert harvested.store("p", name, fields("a"))[0] == "added"
    assert harvested.store("p", name, fields("b"))[0] == "added"
    assert harvested.store("p", name, fields("a"))[0] == "unchanged"  # seen again
    what, record = harvested.store(
        "p", name, fields("a", title="Hikayat Baru", datestamp="2024-02-01")
    )
    assert what == "updated" and record.metadata["title"][0]["value"] == "Hikayat Baru"
    assert harvested.store("p", name, fields("b", deleted=True))[0] == "deleted"
    assert (
        harvested.store("p", name, fields("b", deleted=True, datestamp="2024-03-01"))[0]
        == "unchanged"
    )
    assert harvested.store("p", name, fields("never-had", deleted=True)) == ("unchanged", None)
    assert len(harvested) == 1 == len(harvested.records_of("p"))
    assert harvested.store("p", name, fields("b", title="Kembali"))[0] == "added"  # live again
    assert len(harvested) == 2
    record = harvested.get("p:a")
    assert record.key == "p:a" and record.partner_id == "p" and record.partner_name == name
    assert harvested.get("nobody:a") is None and harvested.get("no-colon") is None
    dropped = harvested.drop("p", ["a", "b", "zzz"])
    assert [r.key for r in dropped] == ["p:a", "p:b"]
    assert len(harvested) == 0 and harvested.records_of("p") is None


def test_new_databases_and_the_evolve_step_have_partners_and_records():
    assert "step_0009_union_catalogue" in step_names()
    db = DB(None)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()["app"] = Root()
            assert isinstance(root.partners, Partners) and isinstance(root.harvested, Harvested)
            partners = root.partners
            del root.partners, root.harvested
            evolve(root)
            assert root.partners is not partners and root.partners.__parent__ is root
            assert root.harvested.__name__ == "harvested"
            root.partners.add("kept", Partner({"en": "X"}, "https://x.example/oai"))
            evolve(root)  # running it again changes nothing
            assert "kept" in root.partners
    finally:
        conn.close()
        db.close()
