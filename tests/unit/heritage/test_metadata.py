"""Tests for heritage.metadata: Dublin Core records with language-tagged values."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st

from heritage.metadata import (
    DC_ELEMENTS,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    UNTAGGED,
    MetadataError,
    first_value,
    language_name,
    normalize_language,
    validate_edtf,
    validate_record,
    values_by_language,
)

TITLE = {"value": "Hikayat Raja Pasai", "lang": "ms"}


def record(**elements):
    """Return a record with a valid title plus ``elements``."""
    return {"title": [TITLE], **elements}


def errors_of(data, **kw):
    with pytest.raises(MetadataError) as info:
        validate_record(data, **kw)
    return info.value.errors


# -- what is accepted -------------------------------------------------------------------------


def test_dublin_core_has_fifteen_elements():
    assert len(DC_ELEMENTS) == len(set(DC_ELEMENTS)) == 15
    assert UNTAGGED <= set(DC_ELEMENTS)


@pytest.mark.parametrize("element", sorted(set(DC_ELEMENTS) - UNTAGGED))
def test_text_elements_take_language_tagged_values(element):
    clean = validate_record(
        record(**{element: [{"value": "  Sesuatu  ", "lang": "ms"}, {"value": "x", "lang": "en"}]})
    )
    assert clean[element] == ({"value": "Sesuatu", "lang": "ms"}, {"value": "x", "lang": "en"})


@pytest.mark.parametrize(
    ("element", "value", "expected"),
    [
        ("date", "1850", "1850"),
        ("identifier", "MS 7", "MS 7"),
        ("language", "ms", "ms"),
        ("language", "msa", "ms"),
        ("format", "image/tiff", "image/tiff"),
    ],
)
def test_untagged_elements_take_plain_strings(element, value, expected):
    clean = validate_record(record(**{element: [value]}))
    assert clean[element] == ({"value": expected},)


def test_all_fifteen_elements_in_one_record():
    data = {e: [{"value": "x", "lang": "en"}] for e in DC_ELEMENTS}
    data["date"] = ["1850~"]
    data["language"] = ["iba"]
    clean = validate_record(data)
    assert set(clean) == set(DC_ELEMENTS)
    assert clean["language"] == ({"value": "iba"},)


def test_a_single_value_need_not_be_a_list():
    clean = validate_record({"title": TITLE, "date": "1850"})
    assert clean == {"title": (TITLE,), "date": ({"value": "1850"},)}


def test_untagged_elements_may_still_carry_a_language():
    clean = validate_record(record(identifier=[{"value": "MS 7", "lang": "en"}]))
    assert clean["identifier"] == ({"value": "MS 7", "lang": "en"},)


@pytest.mark.parametrize(("tag", "expected"), [("msa", "ms"), ("EN", "en"), ("ms-Arab", "ms-Arab")])
def test_language_tags_are_normalized(tag, expected):
    clean = validate_record({"title": [{"value": "Hikayat", "lang": tag}]})
    assert clean["title"] == ({"value": "Hikayat", "lang": expected},)


@pytest.mark.parametrize("date", ["1850", "1850~", "18XX", "1923/1925", "1962-05", "1850?"])
def test_edtf_dates_are_accepted(date):
    assert validate_record(record(date=[date]))["date"] == ({"value": date},)
    assert validate_edtf(date) == date


def test_coverage_takes_coordinates():
    clean = validate_record(
        record(coverage=[{"value": "Kuching", "lang": "ms", "lat": "1.55", "lon": 110.34}])
    )
    assert clean["coverage"] == ({"value": "Kuching", "lang": "ms", "lat": 1.55, "lon": 110.34},)


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0)])
def test_coordinates_on_the_edges_are_accepted(lat, lon):
    validate_record(record(coverage=[{"value": "x", "lang": "en", "lat": lat, "lon": lon}]))


def test_title_is_optional_when_asked():
    assert validate_record({}, require_title=False) == {}
    assert validate_record({"date": ["1850"]}, require_title=False) == {
        "date": ({"value": "1850"},)
    }


def test_value_of_exactly_the_maximum_length_is_accepted():
    validate_record({"title": [{"value": "x" * MAX_VALUE_LENGTH, "lang": "en"}]})


def test_maximum_number_of_values_is_accepted():
    clean = validate_record(record(subject=[{"value": "x", "lang": "en"}] * MAX_VALUES))
    assert len(clean["subject"]) == MAX_VALUES


# -- what is refused --------------------------------------------------------------------------


def test_unknown_element():
    errors = errors_of(record(author=[{"value": "x", "lang": "en"}]))
    assert list(errors) == ["metadata.author"]
    assert "unknown element" in errors["metadata.author"]


def test_text_element_without_language():
    errors = errors_of(record(description=["no language given"]))
    assert list(errors) == ["metadata.description[0]"]
    assert "'lang' is required" in errors["metadata.description[0]"]


@pytest.mark.parametrize("tag", ["xx", "english", "zz-123-foo", "", "  ", 7])
def test_invalid_language_tags(tag):
    errors = errors_of(record(subject=[{"value": "x", "lang": tag}]))
    assert list(errors) == ["metadata.subject[0]"]


@pytest.mark.parametrize("tag", ["xx", "english"])
def test_language_element_values_must_be_language_tags(tag):
    errors = errors_of(record(language=[tag]))
    assert list(errors) == ["metadata.language[0]"]


@pytest.mark.parametrize("date", ["yesterday", "1850-13", "2020-02-30", "19", "circa 1850"])
def test_non_edtf_dates(date):
    errors = errors_of(record(date=[date]))
    assert list(errors) == ["metadata.date[0]"]
    assert "EDTF" in errors["metadata.date[0]"]
    with pytest.raises(ValueError):
        validate_edtf(date)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(91, 0), (-90.5, 0), (0, 181), (0, -180.01), ("north", 0), (1.5, None), ("nan", 0)],
)
def test_coordinates_out_of_range_or_not_numbers(lat, lon):
    errors = errors_of(record(coverage=[{"value": "x", "lang": "en", "lat": lat, "lon": lon}]))
    assert list(errors) == ["metadata.coverage[0]"]


def test_coordinates_only_on_coverage():
    errors = errors_of(record(subject=[{"value": "x", "lang": "en", "lat": 1, "lon": 110}]))
    assert "coverage" in errors["metadata.subject[0]"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        {"value": "", "lang": "en"},
        {"value": " \n", "lang": "en"},
        {"lang": "en"},
        {"value": 7, "lang": "en"},
        7,
        None,
        ["nested"],
    ],
)
def test_empty_or_malformed_values(value):
    errors = errors_of(record(subject=[value]))
    assert list(errors) == ["metadata.subject[0]"]


def test_unknown_keys_in_a_value():
    errors = errors_of(record(subject=[{"value": "x", "lang": "en", "script": "Arab"}]))
    assert "script" in errors["metadata.subject[0]"]


def test_too_long_value():
    errors = errors_of(record(subject=[{"value": "x" * (MAX_VALUE_LENGTH + 1), "lang": "en"}]))
    assert list(errors) == ["metadata.subject[0]"]


def test_too_many_values():
    errors = errors_of(record(subject=[{"value": "x", "lang": "en"}] * (MAX_VALUES + 1)))
    assert list(errors) == ["metadata.subject"]


def test_values_must_be_a_list():
    errors = errors_of(record(subject=7))
    assert list(errors) == ["metadata.subject"]


@pytest.mark.parametrize("data", [None, "a title", ["title"], 7])
def test_record_must_be_a_mapping(data):
    assert list(errors_of(data)) == ["metadata"]


@pytest.mark.parametrize("data", [{}, {"title": []}, {"date": ["1850"]}])
def test_title_is_required(data):
    assert errors_of(data)["metadata.title"] == "a title is required"


def test_bad_title_is_reported_once_not_also_as_missing():
    errors = errors_of({"title": ["no language"]})
    assert list(errors) == ["metadata.title[0]"]


def test_every_error_is_reported_at_once():
    errors = errors_of(
        {
            "date": ["1850", "soon"],
            "subject": [{"value": "ok", "lang": "en"}, {"value": "x", "lang": "xx"}],
            "author": ["someone"],
            "description": ["untagged"],
            "coverage": [{"value": "x", "lang": "en", "lat": 100, "lon": 0}],
        }
    )
    assert set(errors) == {
        "metadata.date[1]",
        "metadata.subject[1]",
        "metadata.author",
        "metadata.description[0]",
        "metadata.coverage[0]",
        "metadata.title",
    }


def test_metadata_error_message_names_every_path():
    with pytest.raises(MetadataError) as info:
        validate_record({"date": ["soon"]})
    assert "metadata.date[0]" in str(info.value)
    assert "metadata.title" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_clean_record_validates_again_unchanged():
    clean = validate_record(record(date=["1850~"], subject=[{"value": "x", "lang": "en"}]))
    assert validate_record(clean) == clean


# -- properties -------------------------------------------------------------------------------

text_values = st.text(min_size=1, max_size=200).filter(lambda s: s.strip())


@hypothesis.settings(max_examples=150, deadline=None, database=None)
@hypothesis.given(text_values)
def test_any_malay_text_round_trips_after_strip(text):
    clean = validate_record({"title": [{"value": text, "lang": "ms"}]})
    assert clean == {"title": ({"value": text.strip(), "lang": "ms"},)}


dates = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9X~?%/.\-\[\]{},:T ]{0,20}", fullmatch=True),
)


@hypothesis.settings(max_examples=200, deadline=None, database=None)
@hypothesis.given(dates)
def test_any_string_as_date_is_accepted_or_refused_with_metadata_error(date):
    try:
        clean = validate_record(record(date=[date]))
    except MetadataError as exc:
        assert set(exc.errors) <= {"metadata.date[0]"}
    else:
        assert clean["date"] == ({"value": date.strip()},)


# -- reading values ---------------------------------------------------------------------------

VALUES = (
    {"value": "Hikayat", "lang": "ms"},
    {"value": "حكاية", "lang": "ms-Arab"},
    {"value": "The Tale", "lang": "en"},
    {"value": "MS 7"},
    {"value": "The Story", "lang": "en"},
)


def test_values_by_language():
    assert values_by_language(VALUES) == {
        "ms": ["Hikayat"],
        "ms-Arab": ["حكاية"],
        "en": ["The Tale", "The Story"],
        "none": ["MS 7"],
    }
    assert values_by_language(()) == {}


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        ((), "Hikayat"),
        (("en",), "The Tale"),
        (("iba", "en", "ms"), "The Tale"),
        (("id",), "Hikayat"),
    ],
)
def test_first_value_prefers_languages_in_order(languages, expected):
    assert first_value(VALUES, languages) == expected


def test_first_value_matches_a_language_prefix_but_not_a_lookalike():
    values = ({"value": "Jawi", "lang": "ms-Arab"}, {"value": "Mandar", "lang": "mdr"})
    assert first_value(values, ("ms",)) == "Jawi"
    assert first_value(({"value": "Mandar", "lang": "mdr"},), ("m",)) == "Mandar"  # fallback
    assert (
        first_value(({"value": "x", "lang": "msa-y"}, {"value": "y", "lang": "ms"}), ("ms",)) == "y"
    )


def test_first_value_of_nothing_is_empty():
    assert first_value(()) == ""
    assert first_value(iter(VALUES), ("en",)) == "The Tale"  # any iterable


@pytest.mark.parametrize(
    ("tag", "name"), [("iba", "Iban"), ("ms", "Malay"), ("id", "Indonesian"), ("en", "English")]
)
def test_language_name(tag, name):
    assert language_name(tag) == name


def test_language_name_in_another_language_and_for_junk():
    assert language_name("en", "ms") == "Inggeris"
    assert language_name("ms", "id") == "Melayu"
    assert language_name("!!not a tag!!") == "!!not a tag!!"


def test_normalize_language():
    assert normalize_language(" msa ") == "ms"
    with pytest.raises(ValueError):
        normalize_language(None)
