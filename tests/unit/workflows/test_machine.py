"""Tests for workflows.machine: the transitions, who may make them and what they require."""

from __future__ import annotations

import ast
import sys
from collections import deque
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from workflows import machine
from workflows.machine import (
    ADMIN,
    DEFAULT_REQUIRED_FIELDS,
    MAIN_SEQUENCE,
    ROLE_QUEUES,
    ROLES,
    STATE_LABELS,
    TERMINAL_STATES,
    TRANSITIONS,
    WORK_STEPS,
    GuardFailed,
    ItemFacts,
    NotAllowed,
    RoleRequired,
    Transition,
    TransitionRequest,
    WorkflowError,
    available,
    build_event,
    check,
    find,
    outgoing,
    queue_roles,
    queue_states,
)
from workflows.states import STATES

TODAY = date(2025, 3, 14)
LATER = date(2025, 6, 1)
CUR, DIG, CAT, RO = "curator", "digitizer", "cataloguer", "rights-officer"

#: Every transition there must be: (source, target) → (roles, send_back, inputs).
EXPECTED: dict[tuple[str, str], tuple[set[str], bool, tuple[str, ...]]] = {
    ("nominated", "selected"): ({CUR}, False, ()),
    ("nominated", "rejected"): ({CUR}, False, ("note",)),
    ("nominated", "deferred"): ({CUR}, False, ("defer_until",)),
    ("deferred", "nominated"): ({CUR}, False, ()),
    ("selected", "capture"): ({CUR, DIG}, False, ()),
    ("capture", "qa"): ({DIG}, False, ()),
    ("qa", "description"): ({DIG, CUR}, False, ("qa_signoff",)),
    ("description", "rights-review"): ({CAT}, False, ()),
    ("rights-review", "preservation"): ({RO}, False, ()),
    ("preservation", "published"): ({CUR}, False, ()),
    ("published", "withdrawn"): ({CUR}, False, ("note",)),
    ("withdrawn", "published"): ({CUR}, False, ()),
    # send-backs: from each work step to every earlier one
    ("qa", "capture"): ({DIG, CUR}, True, ("note", "rescan")),
    ("description", "capture"): ({CAT, CUR}, True, ("note", "rescan")),
    ("description", "qa"): ({CAT, CUR}, True, ("note",)),
    ("rights-review", "capture"): ({RO, CUR}, True, ("note", "rescan")),
    ("rights-review", "qa"): ({RO, CUR}, True, ("note",)),
    ("rights-review", "description"): ({RO, CUR}, True, ("note",)),
    ("preservation", "capture"): ({CUR}, True, ("note", "rescan")),
    ("preservation", "qa"): ({CUR}, True, ("note",)),
    ("preservation", "description"): ({CUR}, True, ("note",)),
    ("preservation", "rights-review"): ({CUR}, True, ("note",)),
}
KEYS = list(EXPECTED)
IDS = [f"{s}->{t}" for s, t in KEYS]


def facts(state: str, **changes: object) -> ItemFacts:
    """Return facts for an item in ``state`` that meets every item condition, then ``changes``."""
    complete = ItemFacts(
        state=state,
        file_count=3,
        metadata_present=frozenset(DEFAULT_REQUIRED_FIELDS),
        rights="http://rightsstatements.org/vocab/NoC-NC/1.0/",
        access="community",
        indigenous=True,
        consultation="Approved for community access by the Iban elders, 2025-02-01",
        file_names=("1", "2", "3"),
    )
    return replace(complete, **changes)


def ask(target: str, **fields: object) -> TransitionRequest:
    """Return a request for ``target`` that supplies everything any form may ask for."""
    full = {
        "note": "Pages 2 and 3 are blurred",
        "qa_signoff": True,
        "defer_until": LATER,
        "rescan": ("2", "3"),
    }
    full.update(fields)
    return TransitionRequest(target, today=TODAY, **full)  # type: ignore[arg-type]


# -- the table ---------------------------------------------------------------------------------


def test_the_table_lists_every_transition_once():
    keys = [(t.source, t.target) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(EXPECTED)


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_transition_roles_send_back_and_inputs(key):
    roles, send_back, inputs = EXPECTED[key]
    t = find(*key)
    assert (t.source, t.target) == key
    assert t.roles == roles
    assert t.send_back is send_back
    assert t.inputs == inputs
    assert t.key == f"{key[0]}->{key[1]}"


@pytest.mark.parametrize("key", KEYS, ids=IDS)
@pytest.mark.parametrize("role", [*ROLES, ADMIN])
def test_role_check(key, role):
    source, target = key
    allowed = role == ADMIN or role in EXPECTED[key][0]
    if allowed:
        assert check(facts(source), {role}, ask(target)) is find(source, target)
    else:
        with pytest.raises(RoleRequired) as failed:
            check(facts(source), {role}, ask(target))
        assert failed.value.transition is find(source, target)
        assert failed.value.roles == (*sorted(EXPECTED[key][0]), ADMIN)


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_admin_may_do_everything_even_without_institution_roles(key):
    assert find(*key).allows({ADMIN})
    assert find(*key).allows([ADMIN, "reader"])


def test_any_one_permitted_role_is_enough():
    t = find("description", "rights-review")
    assert t.allows({DIG, CAT})
    assert not t.allows({DIG, RO})
    assert not t.allows(set())


def test_a_lone_role_name_is_taken_as_one_role():
    t = find("description", "rights-review")
    assert t.allows("cataloguer")
    assert not t.allows("c")  # not the letters of some other string
    assert check(facts("description"), "cataloguer", ask("rights-review")) is t


def test_role_required_says_who_may():
    with pytest.raises(RoleRequired, match=r"^Only cataloguer or admin may move an item from "):
        check(facts("description"), {DIG}, ask("rights-review"))


def test_the_role_is_checked_before_the_guard():
    with pytest.raises(RoleRequired):
        check(facts("capture", file_count=0), {CAT}, ask("qa"))


# -- guards ------------------------------------------------------------------------------------

#: (source, target, changes to the complete facts, request fields, every reason expected)
GUARD_CASES = [
    ("capture", "qa", {"file_count": 0}, {}, ["Upload at least one file: this item has none yet"]),
    (
        "qa",
        "description",
        {"files_failing_qa": ("3", "7")},
        {},
        ["2 files failed automatic QA and have no signed-off exception: 3, 7"],
    ),
    (
        "qa",
        "description",
        {},
        {"qa_signoff": False},
        ["Sign off the QA: confirm that you have looked at the images yourself"],
    ),
    (
        "qa",
        "description",
        {"file_count": 0, "files_failing_qa": ("1",)},
        {"qa_signoff": False},
        [
            "Upload at least one file: this item has none yet",
            "1 file failed automatic QA and has no signed-off exception: 1",
            "Sign off the QA: confirm that you have looked at the images yourself",
        ],
    ),
    (
        "qa",
        "capture",
        {},
        {"note": ""},
        ["Say what to rescan and why (name the pages)"],
    ),
    (
        "qa",
        "capture",
        {},
        {"note": " ", "rescan": ("2", "40")},
        [
            "Say what to rescan and why (name the pages)",
            "These pages to rescan are not files of this item: 40",
        ],
    ),
    (
        "description",
        "rights-review",
        {"metadata_present": frozenset({"title", "type"})},
        {},
        ["Required fields are missing: date, language"],
    ),
    (
        "description",
        "rights-review",
        {"metadata_present": frozenset({"title"}), "required_fields": ("title", "subject")},
        {},
        ["Required fields are missing: subject"],
    ),
    (
        "description",
        "qa",
        {},
        {"note": ""},
        ["Say what to check again in the quality check"],
    ),
    (
        "rights-review",
        "preservation",
        {"rights": ""},
        {},
        ["Choose a rights statement"],
    ),
    (
        "rights-review",
        "preservation",
        {"access": ""},
        {},
        ["Choose an access level"],
    ),
    (
        "rights-review",
        "preservation",
        {"rights": "", "access": "", "consultation": ""},
        {},
        [
            "Choose a rights statement",
            "Choose an access level",
            "Record the community consultation decision: this is Indigenous cultural material",
        ],
    ),
    (
        "rights-review",
        "description",
        {},
        {"note": ""},
        ["Say what to fix in the description"],
    ),
    (
        "preservation",
        "published",
        {"preservation_missing": ("fixity values", "PREMIS agent")},
        {},
        ["The preservation record is not complete; still missing: fixity values, PREMIS agent"],
    ),
    (
        "preservation",
        "rights-review",
        {},
        {"note": ""},
        ["Say what to reconsider in the rights review"],
    ),
    (
        "withdrawn",
        "published",
        {"preservation_missing": ("a replica",)},
        {},
        ["The preservation record is not complete; still missing: a replica"],
    ),
    ("published", "withdrawn", {}, {"note": ""}, ["Give a reason for withdrawing the item"]),
    ("nominated", "rejected", {}, {"note": "\t"}, ["Give a reason for rejecting the item"]),
    (
        "nominated",
        "deferred",
        {},
        {"defer_until": None},
        ["Give the date until which the item is deferred"],
    ),
    (
        "nominated",
        "deferred",
        {},
        {"defer_until": TODAY},
        ["Choose a date after today to defer until: 2025-03-14 is not in the future"],
    ),
]


@pytest.mark.parametrize(
    ("source", "target", "changes", "fields", "reasons"),
    GUARD_CASES,
    ids=[f"{c[0]}->{c[1]}-{i}" for i, c in enumerate(GUARD_CASES)],
)
def test_guard_fails_with_every_reason(source, target, changes, fields, reasons):
    with pytest.raises(GuardFailed) as failed:
        check(facts(source, **changes), {ADMIN}, ask(target, **fields))
    assert failed.value.reasons == reasons
    assert failed.value.transition is find(source, target)
    assert str(failed.value) == "; ".join(reasons)


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_every_guard_is_met_by_a_complete_item_and_request(key):
    source, target = key
    assert check(facts(source), {ADMIN}, ask(target)) is find(source, target)


SEND_BACKS = [k for k in KEYS if EXPECTED[k][1]]


@pytest.mark.parametrize("key", SEND_BACKS, ids=[f"{s}->{t}" for s, t in SEND_BACKS])
def test_every_send_back_needs_a_note(key):
    source, target = key
    with pytest.raises(GuardFailed) as failed:
        check(facts(source), {ADMIN}, ask(target, note=""))
    assert len(failed.value.reasons) == 1
    assert failed.value.reasons[0].startswith("Say what to ")


def test_cultural_protocol_applies_only_to_indigenous_material():
    plain = facts("rights-review", indigenous=False, consultation="")
    assert check(plain, {RO}, ask("preservation")) is find("rights-review", "preservation")


def test_the_guard_property_composes_the_conditions():
    t = find("capture", "qa")
    assert t.guard is not None
    assert t.guard(facts("capture", file_count=0), ask("qa")) == [
        "Upload at least one file: this item has none yet"
    ]
    assert find("nominated", "selected").guard is None


def test_unmet_now_ignores_what_the_form_supplies():
    t = find("qa", "description")
    unready = facts("qa", files_failing_qa=("4",))
    assert t.unmet_now(unready) == ["1 file failed automatic QA and has no signed-off exception: 4"]
    assert t.unmet_now(facts("qa")) == []


# -- transitions that do not exist -------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "reachable", "message"),
    [
        (
            "nominated",
            "published",
            ("selected", "rejected", "deferred"),
            "An item in nominated cannot go to published; it can go to: selected, rejected, "
            "deferred",
        ),
        (
            "capture",
            "description",
            ("qa",),
            "An item in capture cannot go to description; it can go to: qa",
        ),
        (
            "published",
            "preservation",
            ("withdrawn",),
            "An item in published cannot go to preservation; it can go to: withdrawn",
        ),
        (
            "qa",
            "qa",
            ("description", "capture"),
            "An item in qa cannot go to qa; it can go to: description, capture",
        ),
        (
            "selected",
            "bogus",
            ("capture",),
            "An item in selected cannot go to bogus; it can go to: capture",
        ),
        (
            "rejected",
            "nominated",
            (),
            "An item in rejected cannot go to nominated; it cannot move on from rejected",
        ),
    ],
)
def test_not_allowed_names_the_reachable_states(source, target, reachable, message):
    with pytest.raises(NotAllowed) as failed:
        check(facts(source), {ADMIN}, ask(target))
    assert failed.value.reachable == reachable
    assert (failed.value.source, failed.value.target) == (source, target)
    assert str(failed.value) == message
    with pytest.raises(NotAllowed):
        find(source, target)


def test_not_allowed_comes_before_the_role_check():
    with pytest.raises(NotAllowed):
        check(facts("nominated"), {"reader"}, ask("published"))


def test_every_error_is_a_workflow_error():
    for error in (NotAllowed, RoleRequired, GuardFailed):
        assert issubclass(error, WorkflowError)


# -- available() -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_available_to_admin_lists_every_outgoing_transition(state):
    listed = available(facts(state), {ADMIN})
    assert [t for t, _ in listed] == [t for t in TRANSITIONS if t.source == state]
    assert [t for t, _ in listed] == list(outgoing(state))
    assert all(reasons == [] for _, reasons in listed)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_available_lists_only_what_the_role_may_do(state, role):
    listed = [(t.source, t.target) for t, _ in available(facts(state), {role})]
    assert listed == [k for k in EXPECTED if k[0] == state and role in EXPECTED[k][0]]


def test_available_gives_the_reasons_a_button_is_disabled():
    listed = dict(
        (t.target, reasons)
        for t, reasons in available(facts("qa", file_count=0, files_failing_qa=("2",)), {DIG})
    )
    assert listed == {
        "description": [
            "Upload at least one file: this item has none yet",
            "1 file failed automatic QA and has no signed-off exception: 2",
        ],
        "capture": [],  # the note is asked for by the form, not held against the button
    }


def test_available_for_a_terminal_state_is_empty():
    assert available(facts("rejected"), {ADMIN}) == []


def test_available_for_a_reader_is_empty():
    assert available(facts("nominated"), {"reader"}) == []


# -- the graph ---------------------------------------------------------------------------------


def test_every_state_takes_part_and_every_transition_uses_known_states():
    used = {t.source for t in TRANSITIONS} | {t.target for t in TRANSITIONS}
    assert used == set(STATES)


def test_no_transition_stays_in_place():
    assert all(t.source != t.target for t in TRANSITIONS)


def test_published_is_reachable_from_nominated_without_sending_back():
    seen, todo = {"nominated"}, deque(["nominated"])
    while todo:
        state = todo.popleft()
        for t in outgoing(state):
            if not t.send_back and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    assert "published" in seen
    assert seen == set(STATES)  # and every state is reachable


def test_the_main_sequence_moves_one_step_forward():
    for before, after in pairwise(MAIN_SEQUENCE):
        assert not find(before, after).send_back


def test_rejected_is_terminal_and_everything_else_has_a_way_out():
    assert TERMINAL_STATES == {"rejected"}
    assert outgoing("rejected") == ()
    for state in set(STATES) - TERMINAL_STATES:
        assert outgoing(state), state


def test_send_backs_go_to_an_earlier_work_step_and_need_a_note():
    send_backs = [t for t in TRANSITIONS if t.send_back]
    assert len(send_backs) == 10  # 1 + 2 + 3 + 4 from qa, description, rights-review, preservation
    for t in send_backs:
        assert t.source in WORK_STEPS and t.target in WORK_STEPS
        assert MAIN_SEQUENCE.index(t.target) < MAIN_SEQUENCE.index(t.source)
        assert "note" in t.inputs
        assert "curator" in t.roles
    for t in TRANSITIONS:
        if not t.send_back and t.source in MAIN_SEQUENCE and t.target in MAIN_SEQUENCE:
            assert MAIN_SEQUENCE.index(t.target) > MAIN_SEQUENCE.index(t.source)


def test_the_issue_s_send_backs_exist():
    assert find("qa", "capture").send_back
    assert find("rights-review", "description").send_back


def test_transitions_are_frozen():
    t = find("capture", "qa")
    with pytest.raises(FrozenInstanceError):
        t.target = "published"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.label["en"] = "Hack"  # type: ignore[index]
    assert hash(t) == hash(find("capture", "qa"))


def test_transitions_compare_without_labels():
    t = find("capture", "qa")
    assert replace(t, label={"en": "Other"}) == t
    assert isinstance(t, Transition)


# -- labels and queues -------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_every_transition_has_a_label_in_each_language(key):
    label = find(*key).label
    assert set(label) == {"en", "ms", "id"}
    assert all(text.strip() and text == text.strip() for text in label.values())


def test_labels_of_the_transitions_out_of_a_state_differ():
    for state in STATES:
        for lang in ("en", "ms", "id"):
            texts = [t.label[lang] for t in outgoing(state)]
            assert len(texts) == len(set(texts)), (state, lang)


def test_every_state_has_a_label_in_each_language():
    assert set(STATE_LABELS) == set(STATES)
    for state, label in STATE_LABELS.items():
        assert set(label) == {"en", "ms", "id"}, state
        assert all(text.strip() for text in label.values())


@pytest.mark.parametrize(
    ("role", "states"),
    [
        ("digitizer", ("selected", "capture", "qa")),
        ("cataloguer", ("description",)),
        ("rights-officer", ("rights-review",)),
        ("curator", ("nominated", "deferred", "preservation")),
        (
            "admin",
            (
                "nominated",
                "selected",
                "capture",
                "qa",
                "description",
                "rights-review",
                "preservation",
                "deferred",
            ),
        ),
        ("reader", ()),
    ],
)
def test_queue_states(role, states):
    assert queue_states(role) == states


def test_a_role_can_act_on_every_item_in_its_queue():
    for role, states in ROLE_QUEUES.items():
        for state in states:
            assert any(t.allows({role}) and not t.send_back for t in outgoing(state)), (role, state)


def test_every_state_with_work_to_do_is_in_some_queue():
    waiting = {
        s for s in STATES if s not in TERMINAL_STATES and s not in {"published", "withdrawn"}
    }
    assert set(queue_states(ADMIN)) == waiting


@pytest.mark.parametrize(
    ("state", "roles"),
    [
        ("capture", ("digitizer",)),
        ("qa", ("digitizer",)),
        ("description", ("cataloguer",)),
        ("rights-review", ("rights-officer",)),
        ("published", ()),
    ],
)
def test_queue_roles(state, roles):
    assert queue_roles(state) == roles


# -- events ------------------------------------------------------------------------------------

WHEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def test_an_event_records_who_when_from_to_note_and_guard_results():
    request = ask("description", note="  Colour checked against the target  ")
    t = check(facts("qa"), {DIG}, request)
    event = build_event(t, request, agent="siti", when=WHEN)
    assert event.as_dict() == {
        "agent": "siti",
        "when": "2025-03-14T09:30:00+00:00",
        "source": "qa",
        "target": "description",
        "note": "Colour checked against the target",
        "guard_results": [
            "The item has at least one file",
            "Every file passed automatic QA or has a signed-off exception",
            "A person signed off the QA",
        ],
        "send_back": False,
        "notify": [],
        "defer_until": None,
        "qa_signoff": True,
        "rescan": [],
    }


def test_a_send_back_event_names_the_pages_and_whom_to_tell():
    request = ask("capture", note="Pages 2 and 3 are blurred", rescan=("2", "3"))
    t = check(facts("qa"), {DIG}, request)
    event = build_event(t, request, agent="siti", when=WHEN)
    assert event.send_back
    assert event.notify == ("digitizer",)
    assert event.rescan == ("2", "3")
    assert event.qa_signoff is False  # not asked by this transition, so not recorded
    assert event.guard_results == (
        "A note saying what to fix",
        "The pages named for rescan are files of the item",
    )


def test_a_deferral_event_keeps_the_date():
    request = ask("deferred")
    event = build_event(check(facts("nominated"), {CUR}, request), request, agent="a", when=WHEN)
    assert event.defer_until == LATER
    assert event.as_dict()["defer_until"] == "2025-06-01"
    assert event.rescan == ()


def test_an_unguarded_event_has_no_guard_results():
    request = ask("selected", note="")
    event = build_event(check(facts("nominated"), {CUR}, request), request, agent="a", when=WHEN)
    assert event.guard_results == ()
    assert event.note == ""


# -- requests and facts ------------------------------------------------------------------------


def test_a_request_needs_today_by_keyword():
    with pytest.raises(TypeError):
        TransitionRequest("qa")  # type: ignore[call-arg]
    request = TransitionRequest("qa", today=TODAY)
    assert (request.note, request.qa_signoff, request.defer_until, request.rescan) == (
        "",
        False,
        None,
        (),
    )


def test_facts_default_to_an_empty_item_with_the_default_required_fields():
    empty = ItemFacts(state="nominated")
    assert empty.required_fields == ("title", "date", "type", "language")
    assert empty.file_count == 0 and empty.preservation_missing == ()


def test_workflows_imports_no_web_or_database_code():
    # The standard library and our own package only: no heritage, Pyramid or ZODB.
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    for path in Path(machine.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top == "workflows" or top in allowed, (path.name, module)
