"""Tests for workflows.guards: each check met and unmet, with the exact words staff read."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from workflows import guards
from workflows.guards import REQUEST_INPUTS, Condition, needs_note
from workflows.machine import ItemFacts, TransitionRequest

TODAY = date(2025, 3, 14)

#: An item every item condition is happy with.
COMPLETE = ItemFacts(
    state="qa",
    file_count=3,
    files_failing_qa=(),
    metadata_present=frozenset({"title", "date", "type", "language", "creator"}),
    rights="http://rightsstatements.org/vocab/InC/1.0/",
    access="public",
    indigenous=True,
    consultation="Approved by the longhouse committee, 2025-02-01",
    preservation_missing=(),
    file_names=("1", "2", "3"),
)


def request(**kw: object) -> TransitionRequest:
    return TransitionRequest("description", today=TODAY, **kw)  # type: ignore[arg-type]


# -- item checks -------------------------------------------------------------------------------

ITEM_CASES = [
    # (check, changes to COMPLETE, expected reasons)
    (guards.has_files, {}, []),
    (guards.has_files, {"file_count": 1}, []),
    (guards.has_files, {"file_count": 0}, ["Upload at least one file: this item has none yet"]),
    (guards.files_pass_qa, {}, []),
    (
        guards.files_pass_qa,
        {"files_failing_qa": ("3", "7")},
        ["2 files failed automatic QA and have no signed-off exception: 3, 7"],
    ),
    (
        guards.files_pass_qa,
        {"files_failing_qa": ("12",)},
        ["1 file failed automatic QA and has no signed-off exception: 12"],
    ),
    (guards.required_metadata, {}, []),
    (
        guards.required_metadata,
        {"metadata_present": frozenset({"title", "type"})},
        ["Required fields are missing: date, language"],
    ),
    (
        guards.required_metadata,
        {"metadata_present": frozenset({"title"}), "required_fields": ("title", "creator")},
        ["Required fields are missing: creator"],
    ),
    (guards.required_metadata, {"metadata_present": frozenset(), "required_fields": ()}, []),
    (guards.rights_statement, {}, []),
    (guards.rights_statement, {"rights": ""}, ["Choose a rights statement"]),
    (guards.rights_statement, {"rights": "  "}, ["Choose a rights statement"]),
    (guards.access_level, {}, []),
    (guards.access_level, {"access": ""}, ["Choose an access level"]),
    (guards.cultural_protocol, {}, []),
    (guards.cultural_protocol, {"indigenous": False, "consultation": ""}, []),
    (
        guards.cultural_protocol,
        {"consultation": ""},
        ["Record the community consultation decision: this is Indigenous cultural material"],
    ),
    (
        guards.cultural_protocol,
        {"consultation": " "},
        ["Record the community consultation decision: this is Indigenous cultural material"],
    ),
    (guards.preservation_complete, {}, []),
    (
        guards.preservation_complete,
        {"preservation_missing": ("fixity values", "format identification")},
        [
            "The preservation record is not complete; still missing: "
            "fixity values, format identification"
        ],
    ),
]


@pytest.mark.parametrize(
    ("check", "changes", "expected"),
    ITEM_CASES,
    ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(ITEM_CASES)],
)
def test_item_check(check, changes, expected):
    assert check(replace(COMPLETE, **changes)) == expected


# -- request checks ----------------------------------------------------------------------------

REQUEST_CASES = [
    # (check, changes to COMPLETE, request fields, expected reasons)
    (guards.qa_signed_off, {}, {"qa_signoff": True}, []),
    (
        guards.qa_signed_off,
        {},
        {},
        ["Sign off the QA: confirm that you have looked at the images yourself"],
    ),
    (guards.defer_date, {}, {"defer_until": date(2025, 3, 15)}, []),
    (guards.defer_date, {}, {}, ["Give the date until which the item is deferred"]),
    (
        guards.defer_date,
        {},
        {"defer_until": TODAY},
        ["Choose a date after today to defer until: 2025-03-14 is not in the future"],
    ),
    (
        guards.defer_date,
        {},
        {"defer_until": date(2024, 1, 1)},
        ["Choose a date after today to defer until: 2024-01-01 is not in the future"],
    ),
    (guards.rescan_pages, {}, {}, []),
    (guards.rescan_pages, {}, {"rescan": ("1", "3")}, []),
    (
        guards.rescan_pages,
        {},
        {"rescan": ("1", "12", "13")},
        ["These pages to rescan are not files of this item: 12, 13"],
    ),
    (
        guards.rescan_pages,
        {"file_names": ()},
        {"rescan": ("1",)},
        ["These pages to rescan are not files of this item: 1"],
    ),
]


@pytest.mark.parametrize(
    ("check", "changes", "fields", "expected"),
    REQUEST_CASES,
    ids=[f"{c.__name__}-{i}" for i, (c, _, _, _) in enumerate(REQUEST_CASES)],
)
def test_request_check(check, changes, fields, expected):
    assert check(replace(COMPLETE, **changes), request(**fields)) == expected


@pytest.mark.parametrize(
    ("note", "expected"),
    [("", ["Give a reason"]), ("   \n", ["Give a reason"]), ("Pages 3-4 blurred", [])],
)
def test_needs_note(note, expected):
    condition = needs_note("Give a reason", "A reason")
    assert condition.text == "A reason"
    assert condition.asks == "note"
    assert condition.unmet(COMPLETE, request(note=note)) == expected


def test_needs_note_has_a_default_text():
    assert needs_note("Give a reason").text == "A note"


# -- conditions --------------------------------------------------------------------------------


def test_an_item_condition_reads_only_the_facts():
    seen = []
    condition = Condition("Something", lambda facts: seen.append(facts) or [])
    assert condition.unmet(COMPLETE, request()) == []
    assert seen == [COMPLETE]


def test_a_request_condition_reads_the_request_too():
    condition = Condition("Something", lambda facts, req: [req.note], asks="note")
    assert condition.unmet(COMPLETE, request(note="hello")) == ["hello"]


def test_a_condition_asks_only_for_request_fields():
    with pytest.raises(ValueError, match="asks must be one of note, qa_signoff"):
        Condition("Something", guards.has_files, asks="colour")


def test_request_inputs_are_fields_of_a_request():
    fields = TransitionRequest.__dataclass_fields__
    assert all(name in fields for name in REQUEST_INPUTS)


CONDITIONS = [
    guards.HAS_FILES,
    guards.FILES_PASS_QA,
    guards.QA_SIGNED_OFF,
    guards.REQUIRED_METADATA,
    guards.RIGHTS_STATEMENT,
    guards.ACCESS_LEVEL,
    guards.CULTURAL_PROTOCOL,
    guards.PRESERVATION_COMPLETE,
    guards.DEFER_DATE,
    guards.RESCAN_PAGES,
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.check.__name__)
def test_ready_made_conditions_are_met_by_a_complete_request(condition):
    complete = request(qa_signoff=True, defer_until=date(2025, 4, 1), rescan=("2",))
    assert condition.text[0].isupper()
    assert condition.unmet(COMPLETE, complete) == []


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.check.__name__)
def test_ready_made_conditions_fail_on_an_empty_item_and_request(condition):
    empty = ItemFacts(state="qa", indigenous=True)
    blank = request(rescan=("9",))
    reasons = condition.unmet(empty, blank)
    if condition is guards.FILES_PASS_QA or condition is guards.PRESERVATION_COMPLETE:
        assert reasons == []  # nothing failed and nothing is listed as missing
    else:
        assert len(reasons) == 1
