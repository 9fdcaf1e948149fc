"""Tests for workflows.selection: scores, weights, priority, ranking and the duplicate checks."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workflows import selection
from workflows.selection import (
    CRITERIA,
    CRITERION_HELP,
    CRITERION_LABELS,
    DEFAULT_WEIGHTS,
    SelectionError,
    compare_titles,
    help_text,
    label,
    nominate,
    normalize_identifier,
    normalize_title,
    priority,
    rank,
    same_identifier,
    score,
    similar_titles,
    spelling_variants,
    validate_reason,
    validate_scores,
    validate_weights,
)

WHEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)
ALL_THREE = dict.fromkeys(CRITERIA, 3)


# -- criteria ------------------------------------------------------------------------------------


def test_the_criteria_in_form_order():
    assert CRITERIA == ("significance", "condition", "demand", "uniqueness", "rights")


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("lang", ["en", "ms", "id"])
def test_every_criterion_has_a_label_and_a_one_line_help_in_each_language(criterion, lang):
    assert CRITERION_LABELS[criterion][lang].strip()
    text = CRITERION_HELP[criterion][lang]
    assert text.strip() and "\n" not in text
    assert label(criterion, lang) == CRITERION_LABELS[criterion][lang]
    assert help_text(criterion, lang) == text


def test_condition_means_risk_of_loss_and_higher_is_more_urgent():
    assert "risk of loss" in label("condition", "en").lower()
    assert "higher = more urgent" in help_text("condition", "en")


def test_an_unknown_language_falls_back_to_english():
    assert label("demand", "iba") == "User demand"
    assert help_text("rights", "fr") == CRITERION_HELP["rights"]["en"]


def test_default_weights_cover_every_criterion_and_are_valid():
    assert set(DEFAULT_WEIGHTS) == set(CRITERIA)
    assert validate_weights(dict(DEFAULT_WEIGHTS)) == dict(DEFAULT_WEIGHTS)
    with pytest.raises(TypeError):
        DEFAULT_WEIGHTS["rights"] = 5  # type: ignore[index]


# -- validation ----------------------------------------------------------------------------------

#: (scores, the fields named in the error, or None if valid)
SCORES: list[tuple[object, set[str] | None]] = [
    (ALL_THREE, None),
    (dict.fromkeys(CRITERIA, 0), None),
    (dict.fromkeys(CRITERIA, 5), None),
    ({**ALL_THREE, "demand": 6}, {"demand"}),
    ({**ALL_THREE, "demand": -1}, {"demand"}),
    ({**ALL_THREE, "rights": 2.5}, {"rights"}),
    ({**ALL_THREE, "rights": "3"}, {"rights"}),
    ({**ALL_THREE, "rights": True}, {"rights"}),
    ({**ALL_THREE, "rights": None}, {"rights"}),
    ({k: v for k, v in ALL_THREE.items() if k != "uniqueness"}, {"uniqueness"}),
    ({**ALL_THREE, "beauty": 5}, {"beauty"}),
    ({}, set(CRITERIA)),
    ([3, 3, 3, 3, 3], {"scores"}),
    (None, {"scores"}),
]


@pytest.mark.parametrize(("scores", "bad"), SCORES)
def test_validate_scores(scores, bad):
    if bad is None:
        assert validate_scores(scores) == scores
    else:
        with pytest.raises(SelectionError) as info:
            validate_scores(scores)
        assert set(info.value.errors) == bad
        assert all(info.value.errors.values())


#: (weights, the fields named in the error, or None if valid)
WEIGHTS: list[tuple[object, set[str] | None]] = [
    (dict(DEFAULT_WEIGHTS), None),
    ({**dict.fromkeys(CRITERIA, 0), "rights": 1}, None),
    (dict.fromkeys(CRITERIA, 10), None),
    (dict.fromkeys(CRITERIA, 0), {"weights"}),
    ({**DEFAULT_WEIGHTS, "demand": 11}, {"demand"}),
    ({**DEFAULT_WEIGHTS, "demand": -2}, {"demand"}),
    ({**DEFAULT_WEIGHTS, "demand": 1.5}, {"demand"}),
    ({**DEFAULT_WEIGHTS, "demand": False}, {"demand"}),
    ({**DEFAULT_WEIGHTS, "colour": 2}, {"colour"}),
    ({"significance": 3}, set(CRITERIA) - {"significance"}),
    ("3,3,2,2,1", {"weights"}),
]


@pytest.mark.parametrize(("weights", "bad"), WEIGHTS)
def test_validate_weights(weights, bad):
    if bad is None:
        assert validate_weights(weights) == weights
    else:
        with pytest.raises(SelectionError) as info:
            validate_weights(weights)
        assert set(info.value.errors) == bad


def test_a_selection_error_says_every_field_in_its_message():
    with pytest.raises(SelectionError, match=r"demand: .*rights: required"):
        validate_scores({"significance": 1, "condition": 1, "demand": 9, "uniqueness": 1})
    assert issubclass(SelectionError, ValueError)


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        ("Fragile palm-leaf manuscript, much asked for", True),
        ("  padded  ", True),
        ("", False),
        ("   ", False),
        (None, False),
        (42, False),
        ("x" * selection.MAX_REASON, True),
        ("x" * (selection.MAX_REASON + 1), False),
    ],
)
def test_validate_reason(reason, ok):
    if ok:
        assert validate_reason(reason) == reason.strip()
    else:
        with pytest.raises(SelectionError) as info:
            validate_reason(reason)
        assert list(info.value.errors) == ["reason"]


# -- priority ------------------------------------------------------------------------------------

#: (scores, weights, expected priority)
PRIORITIES: list[tuple[dict | None, dict, float | None]] = [
    (dict.fromkeys(CRITERIA, 5), dict(DEFAULT_WEIGHTS), 100.0),
    (dict.fromkeys(CRITERIA, 0), dict(DEFAULT_WEIGHTS), 0.0),
    (ALL_THREE, dict(DEFAULT_WEIGHTS), 60.0),
    # (5*3 + 5*3 + 0*2 + 0*2 + 0*1) / 11 = 2.727… of 5 → 54.5
    (
        {"significance": 5, "condition": 5, "demand": 0, "uniqueness": 0, "rights": 0},
        dict(DEFAULT_WEIGHTS),
        54.5,
    ),
    # only rights counts
    (
        {"significance": 5, "condition": 5, "demand": 5, "uniqueness": 5, "rights": 1},
        {**dict.fromkeys(CRITERIA, 0), "rights": 4},
        20.0,
    ),
    # equal weights: the plain mean (1+2+3+4+5)/5 = 3 → 60
    (
        {"significance": 1, "condition": 2, "demand": 3, "uniqueness": 4, "rights": 5},
        dict.fromkeys(CRITERIA, 1),
        60.0,
    ),
    (None, dict(DEFAULT_WEIGHTS), None),
    ({}, dict(DEFAULT_WEIGHTS), None),
    # a partial set counts the criteria scored
    ({"significance": 4}, dict(DEFAULT_WEIGHTS), 80.0),
    # scored only where the weight is 0
    ({"rights": 5}, {**dict(DEFAULT_WEIGHTS), "rights": 0}, None),
]


@pytest.mark.parametrize(("scores", "weights", "expected"), PRIORITIES)
def test_priority(scores, weights, expected):
    assert priority(scores, weights) == expected


def test_the_same_scores_rank_differently_with_another_institutions_weights():
    old_fragile = {"significance": 2, "condition": 5, "demand": 1, "uniqueness": 4, "rights": 3}
    popular = {"significance": 3, "condition": 1, "demand": 5, "uniqueness": 2, "rights": 5}
    conservator = {**DEFAULT_WEIGHTS, "condition": 10, "demand": 0}
    reading_room = {**DEFAULT_WEIGHTS, "condition": 0, "demand": 10}
    assert priority(old_fragile, conservator) > priority(popular, conservator)
    assert priority(popular, reading_room) > priority(old_fragile, reading_room)


# -- ranking -------------------------------------------------------------------------------------


def _n(item_id: str, p: float | None, date: str) -> dict:
    return {"id": item_id, "priority": p, "date": date}


#: (nominations, expected order of ids)
RANKINGS = [
    ([_n("a", 10.0, "2025-01-01"), _n("b", 90.0, "2025-01-02")], ["b", "a"]),
    # equal priority: the older nomination first
    ([_n("late", 50.0, "2025-02-01"), _n("early", 50.0, "2025-01-01")], ["early", "late"]),
    # unscored last, oldest first among them
    (
        [_n("u2", None, "2025-02-01"), _n("s", 0.0, "2025-03-01"), _n("u1", None, "2025-01-01")],
        ["s", "u1", "u2"],
    ),
    # everything equal: by id, so the order is stable
    ([_n("b", 40.0, "2025-01-01"), _n("a", 40.0, "2025-01-01")], ["a", "b"]),
    ([], []),
]


@pytest.mark.parametrize(("nominations", "order"), RANKINGS)
def test_rank(nominations, order):
    before = list(nominations)
    assert [n["id"] for n in rank(nominations)] == order
    assert nominations == before  # a new list; the input is left alone


# -- the stored nomination -----------------------------------------------------------------------


def test_nominate_makes_an_unscored_nomination():
    assert nominate("siti", "  Rare Jawi manuscript  ", WHEN) == {
        "by": "siti",
        "date": "2025-03-14T09:30:00+00:00",
        "reason": "Rare Jawi manuscript",
        "scores": {},
        "scored_by": "",
        "scored": "",
    }


def test_nominate_keeps_the_scores_of_a_record_scored_before_its_nomination():
    scored = score(None, ALL_THREE, "amir", LATER)
    assert not selection.is_nominated(scored)
    nominated = nominate("siti", "Fragile", WHEN, previous=scored)
    assert selection.is_nominated(nominated)
    assert (nominated["by"], nominated["reason"]) == ("siti", "Fragile")
    assert (nominated["scores"], nominated["scored_by"]) == (ALL_THREE, "amir")
    assert nominated["scores"] is not scored["scores"]  # a copy: the old dict is left alone
    assert not selection.is_nominated(None)


def test_nominate_needs_a_reason():
    with pytest.raises(SelectionError) as info:
        nominate("siti", " ", WHEN)
    assert list(info.value.errors) == ["reason"]


def test_score_returns_a_new_dict_and_leaves_the_old_one_alone():
    first = nominate("siti", "Fragile", WHEN)
    scored = score(first, ALL_THREE, "amir", LATER)
    assert scored is not first and first["scores"] == {} and first["scored_by"] == ""
    assert scored == {
        **first,
        "scores": ALL_THREE,
        "scored_by": "amir",
        "scored": "2025-03-15T10:00:00+00:00",
    }
    again = score(scored, dict.fromkeys(CRITERIA, 5), "rina", LATER)
    assert scored["scores"] == ALL_THREE and again["scored_by"] == "rina"


def test_score_on_a_record_never_nominated_through_the_form():
    scored = score(None, ALL_THREE, "amir", LATER)
    assert scored["by"] == "" and scored["reason"] == "" and scored["scores"] == ALL_THREE


def test_score_refuses_bad_scores():
    with pytest.raises(SelectionError) as info:
        score(nominate("siti", "Fragile", WHEN), {**ALL_THREE, "demand": 7}, "amir", LATER)
    assert list(info.value.errors) == ["demand"]


# -- titles --------------------------------------------------------------------------------------

#: (text, normalised)
NORMALISED = [
    ("  Hikayat   Banjar ", "hikayat banjar"),
    ("HIKAYAT-BANJAR!", "hikayat banjar"),
    ("Sêjarah Mêlayu", "sejarah melayu"),  # pre-1972 Malay ê
    ("Cerita «Raja» Kutai; jilid 1.", "cerita raja kutai jilid 1"),
    ("Undang\u2013Undang Adat", "undang undang adat"),  # en dash
    ("ﬁrst", "first"),  # ligature, by NFKD
    ("حِكَايَة", "حکاية"),  # vowel marks dropped, Arabic kaf → Jawi keheh
    ("حکايت\u0640\u0640 بنجر", "حکايت بنجر"),  # tatweel
    ("حکاية، بنجر", "حکاية بنجر"),  # Arabic comma
    ("ﺣﻜﺎﻳﺖ", "حکايت"),  # presentation forms, by NFKD
    ("سورت ١٨١٩", "سورت 1819"),  # Arabic-Indic digits
    ("ڤرينته\u200c راج", "ڤرينته راج"),  # zero-width non-joiner; Jawi pa kept
    ("", ""),
    ("?!", ""),
]


@pytest.mark.parametrize(("text", "expected"), NORMALISED)
def test_normalize_title(text, expected):
    assert normalize_title(text) == expected


#: (normalised title, one of the modernised spellings)
VARIANTS = [
    ("tjerita radja koetai", "cerita raja kutai"),  # Van Ophuijsen Indonesian
    ("hikajat bandjar", "hikayat banjar"),  # Soewandi Indonesian
    ("sjair njanji", "syair nyanyi"),
    ("achir zaman", "akhir zaman"),  # Indonesian ch → kh
    ("cherita", "cerita"),  # Za'ba Malay ch → c
    ("shair", "syair"),  # Malay sh → sy
]


@pytest.mark.parametrize(("old", "modern"), VARIANTS)
def test_spelling_variants_include_the_modern_spelling(old, modern):
    assert modern in spelling_variants(old)
    assert old in spelling_variants(old)


def test_spelling_variants_leave_other_scripts_alone():
    assert spelling_variants("حکايت بنجر") == {"حکايت بنجر"}


#: (a, b): the same work written differently; similar_titles must find it.
SAME_WORK = [
    ("Hikayat Banjar", "Hikayat Banjar"),
    ("Hikayat Banjar", "HIKAYAT BANJAR."),
    ("Hikajat Bandjar", "Hikayat Banjar"),
    ("Tjerita Radja Koetai", "Cerita Raja Kutai"),
    ("Sjair Perang Mengkasar", "Syair Perang Makassar"),
    ("Chendera Kirana", "Cendera Kirana"),
    ("Shair Burong Punggok", "Syair Burung Pungguk"),
    ("Undang-Undang Adat Iban", "Undang Undang Adat Iban"),
    ("Adat Istiadat Melayu Brunei", "Adat-istiadat Melayu Brunei"),
    ("Hikayat Raja Pasai", "Hikayat Raja-Raja Pasai"),
    ("Sêjarah Mêlayu", "Sejarah Melayu"),
    ("Hikayat Banjar", "Hikayat Banjar dan Kotaringin"),  # words contained
    ("Syair Siti Zubaidah", "Syair Siti Zubaidah Perang Cina"),  # words contained
    ("Surat Perjanjian 1819", "Surat Perjanjian ١٨١٩"),
    # Jawi: with and without vowel marks, Arabic or Jawi kaf, presentation forms, tatweel
    ("حکايت بنجر", "حكايت بنجر"),
    ("حِكَايَة بَنْجَر", "حکاية بنجر"),
    ("ﺣﻜﺎﻳﺖ ﺑﻨﺠﺮ", "حکايت بنجر"),
    ("حکايت\u0640 بنجر", "حکايت بنجر"),
    ("سجاره ملايو", "سجاره ملايو."),
]

#: (a, b): different works; similar_titles must not match them.
DIFFERENT_WORKS = [
    ("Hikayat Banjar", "Syair Perahu"),
    ("Hikayat", "Hikayat Raja Pasai"),  # one word is not enough
    ("Kamus Iban", "Kamus Bidayuh"),
    ("Hikayat Banjar Jilid 1", "Hikayat Banjar Jilid 2"),  # another volume
    ("Surat Perjanjian 1819", "Surat Perjanjian 1823"),  # another year
    ("Syair Perang", "Syair Perang Banjarmasin dengan Belanda di Martapura"),  # too few words
    ("سجاره ملايو", "حکايت بنجر"),
    ("حکايت بنجر", "Hikayat Banjar"),  # Jawi and Rumi are compared as written
    ("", "Hikayat Banjar"),
    ("...", "..."),
]


@pytest.mark.parametrize(("a", "b"), SAME_WORK)
def test_similar_titles_finds_the_same_work(a, b):
    assert [m.key for m in similar_titles(a, [("x", b)])] == ["x"]
    assert [m.key for m in similar_titles(b, [("x", a)])] == ["x"]  # symmetric


@pytest.mark.parametrize(("a", "b"), DIFFERENT_WORKS)
def test_similar_titles_leaves_different_works_alone(a, b):
    assert similar_titles(a, [("x", b)]) == []
    assert similar_titles(b, [("x", a)]) == []


def test_similar_titles_closest_first_with_the_candidates_keys_and_titles():
    matches = similar_titles(
        "Hikayat Banjar",
        [
            ("far", "Syair Perahu"),
            ("longer", "Hikayat Banjar dan Kotaringin"),
            ("exact", "Hikayat Banjar"),
            ("old", "Hikajat Bandjar"),
        ],
    )
    assert [m.key for m in matches] == ["exact", "old", "longer"]
    exact, old, longer = matches
    assert (exact.title, exact.similarity, exact.contained) == ("Hikayat Banjar", 1.0, True)
    assert old.similarity == 1.0  # the same once modernised
    assert longer.contained and longer.similarity < selection.TITLE_THRESHOLD


def test_similar_titles_threshold_is_adjustable():
    assert similar_titles("Kamus Iban", [(1, "Kamus Bidayuh")], threshold=0.5)
    assert not similar_titles("Kamus Iban", [(1, "Kamus Bidayuh")])


def test_compare_titles_numbers_must_agree():
    assert compare_titles("Jilid 1", "Jilid 2") == (0.0, False)
    assert compare_titles("Hikayat Banjar 2", "Hikayat Banjar ٢")[0] == 1.0


# -- identifiers ---------------------------------------------------------------------------------

#: (raw, normalised)
IDENTIFIERS = [
    ("ISBN 978-983-62-0001-1", "9789836200011"),
    ("urn:isbn:9789836200011", "9789836200011"),
    ("isbn: 978 983 62 0001 1", "9789836200011"),
    ("0-306-40615-2", "9780306406157"),  # ISBN-10 as ISBN-13
    ("0-306-40615-3", "0306406153"),  # not a valid ISBN-10: left as it is
    ("(OCoLC)12345678", "12345678"),
    ("doi:10.1000/XYZ", "101000xyz"),
    ("MS 123", "ms123"),
    ("  ", ""),
]


@pytest.mark.parametrize(("raw", "expected"), IDENTIFIERS)
def test_normalize_identifier(raw, expected):
    assert normalize_identifier(raw) == expected


#: (a, b, same)
SAME_IDENTIFIER = [
    ("ISBN 978-983-62-0001-1", "9789836200011", True),
    ("0-306-40615-2", "978-0-306-40615-7", True),
    ("PNS MS 123", "pns-ms-123", True),
    ("PNS MS 123", "PNS MS 124", False),
    ("", "", False),
    ("--", "  ", False),
]


@pytest.mark.parametrize(("a", "b", "same"), SAME_IDENTIFIER)
def test_same_identifier(a, b, same):
    assert same_identifier(a, b) is same
    assert same_identifier(b, a) is same


# -- the house rules ---------------------------------------------------------------------------


def test_the_library_imports_neither_pyramid_nor_zodb_nor_heritage():
    tree = ast.parse(Path(selection.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"pyramid", "ZODB", "persistent", "transaction", "heritage"}
