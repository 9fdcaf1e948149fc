"""Tests for heritage.search.text and heritage.search.dates: folding, queries, snippets, dates."""

from __future__ import annotations

import pytest

from heritage.search import dates
from heritage.search.text import (
    FoldingSplitter,
    Query,
    fold_words,
    highlight,
    modern_spelling,
    parse_query,
    snippet,
)
from workflows.selection import normalize_title


@pytest.mark.parametrize(
    ("old", "modern"),
    [
        ("tjerita", "cerita"),
        ("radja", "raja"),
        ("koetai", "kutai"),
        ("tjahaja", "cahaya"),
        ("cherita", "cerita"),
        ("shair", "syair"),
        ("njonja", "nyonya"),
        ("sjair", "syair"),
        ("mendjadi", "menjadi"),
    ],
)
def test_old_spellings_read_as_today(old, modern):
    assert modern_spelling(old) == modern
    assert fold_words(old) == fold_words(modern)


@pytest.mark.parametrize("word", ["raja", "menjadi", "masjid", "kerajaan", "jawi", "nyanyi"])
def test_words_written_today_are_left_alone(word):
    assert modern_spelling(word) == word


def test_folding_is_the_duplicate_warnings_normalisation_word_by_word():
    text = "Hikayat  Raja-Raja Pasai: l'édition «ÉCRITE» — ١٢٣ كتاب\u0640 "
    assert fold_words(text) == [modern_spelling(w) for w in normalize_title(text).split()]
    assert fold_words("ÉDITION Ünïcode") == ["edition", "unicode"]


def test_the_lexicon_pipeline_keeps_every_word():
    # No stop words: "the", "and", "dan", "yang" are words like any other.
    assert FoldingSplitter().process(["The padi and the river", "padi dan yang"]) == [
        "the",
        "padi",
        "and",
        "the",
        "river",
        "padi",
        "dan",
        "yang",
    ]


def test_queries_are_words_and_phrases_never_syntax():
    assert parse_query('Hikayat "Raja Pasai" not') == Query(
        ("hikayat", "not"), (("raja", "pasai"),)
    )
    assert parse_query("“Tjerita Radja”") == Query((), (("cerita", "raja"),))
    assert parse_query("hikayat-banjar") == Query((), (("hikayat", "banjar"),))
    assert parse_query('AND OR ( ) * "unclosed phrase') == Query(
        ("and", "or"), (("unclosed", "phrase"),)
    )
    assert not parse_query("!!! ??? ---")
    assert parse_query("raja Raja RAJA").words == ("raja",)
    assert parse_query(" ".join(f"w{i}" for i in range(50))).words == tuple(
        f"w{i}" for i in range(16)
    )


def test_highlight_escapes_then_marks_matches():
    html = highlight("<b>Tjerita</b> Radja & Koetai", {"cerita", "kutai"})
    assert html == "&lt;b&gt;<mark>Tjerita</mark>&lt;/b&gt; Radja &amp; <mark>Koetai</mark>"


def test_snippet_is_cut_around_the_first_match():
    text = ("lorem ipsum " * 40) + "sungai Mahakam " + ("dolor sit " * 40)
    html = snippet(text, {"mahakam"}, width=80)
    assert "<mark>Mahakam</mark>" in html
    assert html.startswith("…") and html.endswith("…")
    assert len(html) < 140
    assert snippet("short", {"x"}) == "short"


@pytest.mark.parametrize(
    ("value", "span", "decade_list", "century_list"),
    [
        ("1850~", (1850, 1850), ["1850"], ["1800"]),
        ("18XX", (1800, 1899), [str(y) for y in range(1800, 1900, 10)], ["1800"]),
        ("1923/1925", (1923, 1925), ["1920"], ["1900"]),
        ("1895/1905", (1895, 1905), ["1890", "1900"], ["1800", "1900"]),
        ("1962-05", (1962, 1962), ["1960"], ["1900"]),
        ("1850/..", (1850, 1850), ["1850"], ["1800"]),
        ("c. 1850-1860", (1850, 1860), ["1850", "1860"], ["1800"]),
        ("[18--]", None, [], []),
        ("", None, [], []),
    ],
)
def test_dates_span_decades_and_centuries(value, span, decade_list, century_list):
    assert dates.years([value]) == span
    assert dates.decades(span) == decade_list
    assert dates.centuries(span) == century_list


@pytest.mark.parametrize(
    "value",
    [
        "1850",
        "1850~",
        "1850?",
        "1962-05",
        "1962-02",
        "2000-02-29",
        "18XX",
        "198X",
        "1923/1925",
        "1923-05/1925",
    ],
)
def test_plain_dates_are_read_as_the_edtf_library_reads_them(value):
    from edtf import parse_edtf

    parsed = parse_edtf(value)
    lower, upper = parsed.lower_strict(), parsed.upper_strict()
    expected = [tuple(t[:3]) for t in (lower, upper) if not isinstance(t, float)]
    bounds = dates._plain_bounds(value)
    assert bounds is not None
    assert bounds == tuple(expected)


def test_an_open_interval_is_its_known_year():
    assert dates.date_bounds("1850/..") == ((1850, 1, 1), (1850, 12, 31))
    assert dates.date_bounds("../1850-05") == ((1850, 5, 1), (1850, 5, 31))


def test_dates_the_fast_path_leaves_to_the_edtf_library():
    for value in ("1850-21", "2004-06~-11", "[1850..1860]", "1850-13", "2001-02-30"):
        assert dates._plain_bounds(value) is None
    assert dates.date_bounds("[1850..1860]") == ((1850, 1, 1), (1860, 12, 31))
    assert dates.date_bounds("1850-21") == ((1850, 3, 1), (1850, 5, 31))


def test_date_sort_key_and_labels():
    assert dates.sort_key(["1962-05", "1850~"]) == 18500101
    assert dates.sort_key(["undated"]) is None
    assert dates.label("decade", "1850") == "1850–1859"
    assert dates.label("century", "1800") == "1800–1899"
