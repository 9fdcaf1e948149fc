"""Tests for heritage.validation: API input checked field by field, all errors at once."""

from __future__ import annotations

import pytest

from heritage.validation import (
    ValidationFailed,
    collection_schema,
    deserialize,
    institution_schema,
    json_body,
    validate_item,
)

METADATA = {"title": [{"value": "Hikayat Raja Pasai", "lang": "ms"}], "date": ["1850~"]}
ITEM = {"id": "unimas-ms-0007", "collection": "manuscripts", "metadata": METADATA}


def item(**fields):
    return {**ITEM, **fields}


def errors_of(data, **kw):
    with pytest.raises(ValidationFailed) as info:
        validate_item(data, **kw)
    return info.value.errors


# -- validate_item: a new item ----------------------------------------------------------------


def test_minimal_item_defaults_to_staff_access():
    clean = validate_item(ITEM)
    assert clean == {
        "id": "unimas-ms-0007",
        "collection": "manuscripts",
        "metadata": {
            "title": ({"value": "Hikayat Raja Pasai", "lang": "ms"},),
            "date": ({"value": "1850~"},),
        },
        "access": "staff",
    }


def test_full_item():
    clean = validate_item(
        item(
            access="community",
            community="iban-pua-kumbu",
            rights="http://rightsstatements.org/vocab/InC-EDU/1.0/",
            viewing_direction="right-to-left",
        )
    )
    assert clean["access"] == "community"
    assert clean["community"] == "iban-pua-kumbu"
    assert clean["rights"] == "http://rightsstatements.org/vocab/InC-EDU/1.0/"
    assert clean["viewing_direction"] == "right-to-left"


@pytest.mark.parametrize("access", ["public", "metadata-only", "staff"])
def test_access_levels(access):
    assert validate_item(item(access=access))["access"] == access


def test_unknown_fields_are_named():
    errors = errors_of(item(title="x", state="published"))
    assert errors == {"title": "unknown field", "state": "unknown field"}


@pytest.mark.parametrize(
    "item_id", ["UNIMAS-1", "un imas", "-abc", "abc-", "ab--c", "ab", "a" * 65]
)
def test_bad_item_id(item_id):
    assert list(errors_of(item(id=item_id))) == ["id"]


@pytest.mark.parametrize("missing", ["id", "collection", "metadata"])
def test_required_fields(missing):
    data = dict(ITEM)
    del data[missing]
    assert missing in errors_of(data)


def test_bad_access():
    errors = errors_of(item(access="secret"))
    assert list(errors) == ["access"]
    assert "public" in errors["access"]


@pytest.mark.parametrize("community", [None, "", "   "])
def test_community_access_needs_a_community(community):
    data = item(access="community")
    if community is not None:
        data["community"] = community
    assert list(errors_of(data)) == ["community"]


@pytest.mark.parametrize(
    "rights",
    [
        "http://rightsstatements.org/vocab/InC/1.0/",
        "http://rightsstatements.org/vocab/NoC-NKC/1.0/",
        "http://creativecommons.org/licenses/by/4.0/",
        "http://creativecommons.org/licenses/by-nc-sa/4.0/",
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "http://creativecommons.org/publicdomain/mark/1.0/",
        "",
    ],
)
def test_standard_rights_uris(rights):
    assert validate_item(item(rights=rights))["rights"] == rights


@pytest.mark.parametrize(
    "rights",
    [
        "https://rightsstatements.org/vocab/InC/1.0/",
        "https://creativecommons.org/licenses/by/4.0/",
        "http://rightsstatements.org/vocab/InC/1.0",
        "http://creativecommons.org/licenses/by/4.0",
        "http://rightsstatements.org/page/InC/1.0/",
        "http://example.org/licenses/by/4.0/",
        "All rights reserved",
        "http://creativecommons.org/licenses/by/4.0/?x=1",
    ],
)
def test_other_rights_are_refused(rights):
    errors = errors_of(item(rights=rights))
    assert list(errors) == ["rights"]
    assert "rightsstatements.org" in errors["rights"]


def test_bad_viewing_direction():
    assert list(errors_of(item(viewing_direction="sideways"))) == ["viewing_direction"]


def test_metadata_must_be_an_object():
    assert list(errors_of(item(metadata=["title"]))) == ["metadata"]


def test_metadata_errors_carry_their_paths():
    errors = errors_of(item(metadata={"date": ["soon"]}))
    assert set(errors) == {"metadata.date[0]", "metadata.title"}


def test_every_error_is_reported_together():
    errors = errors_of(
        {
            "id": "Not An Id",
            "metadata": {"date": ["soon"], "author": ["x"]},
            "access": "nope",
            "rights": "https://creativecommons.org/licenses/by/4.0/",
            "viewing_direction": "sideways",
            "colour": "red",
        }
    )
    assert set(errors) == {
        "id",
        "collection",
        "access",
        "rights",
        "viewing_direction",
        "colour",
        "metadata.date[0]",
        "metadata.author",
        "metadata.title",
    }


def test_community_error_is_reported_with_other_errors():
    errors = errors_of(item(id="Not An Id", access="community"))
    assert set(errors) == {"id", "community"}


def test_validation_failed_message_lists_fields():
    with pytest.raises(ValidationFailed) as info:
        validate_item(item(access="nope", colour="red"))
    assert "access" in str(info.value)
    assert "colour: unknown field" in info.value.message


# -- validate_item: partial updates -----------------------------------------------------------


def test_partial_update_needs_nothing():
    assert validate_item({}, partial=True) == {}


def test_partial_update_returns_only_what_was_sent():
    assert validate_item({"access": "public"}, partial=True) == {"access": "public"}
    assert validate_item({"rights": ""}, partial=True) == {"rights": ""}


def test_partial_update_may_not_change_id_or_collection():
    errors = errors_of({"id": "other-id", "collection": "x"}, partial=True)
    assert errors == {"id": "unknown field", "collection": "unknown field"}


def test_partial_update_checks_what_it_gets():
    errors = errors_of({"access": "nope", "viewing_direction": "up", "metadata": 7}, partial=True)
    assert set(errors) == {"access", "viewing_direction", "metadata"}


def test_partial_community_update():
    assert validate_item({"access": "community", "community": "kenyah"}, partial=True) == {
        "access": "community",
        "community": "kenyah",
    }
    assert list(errors_of({"access": "community"}, partial=True)) == ["community"]


def test_partial_metadata_replaces_the_record_so_needs_a_title():
    errors = errors_of({"metadata": {"description": [{"value": "x", "lang": "en"}]}}, partial=True)
    assert list(errors) == ["metadata.title"]


# -- deserialize and the other schemas --------------------------------------------------------

INSTITUTION = {
    "id": "unimas",
    "name": {"en": "UNIMAS Library", "ms": "Perpustakaan UNIMAS"},
    "country": "MY",
}
COLLECTION = {"id": "manuscripts", "institution": "unimas", "title": {"en": "Manuscripts"}}


def test_institution():
    assert deserialize(institution_schema(), INSTITUTION) == {**INSTITUTION, "homepage": ""}
    homepage = {**INSTITUTION, "homepage": "https://www.unimas.my/"}
    assert deserialize(institution_schema(), homepage)["homepage"] == "https://www.unimas.my/"


def test_institution_errors_all_at_once():
    with pytest.raises(ValidationFailed) as info:
        deserialize(
            institution_schema(),
            {"id": "UNIMAS", "name": {}, "country": "my", "homepage": "not a url", "x": 1},
        )
    assert set(info.value.errors) == {"id", "name", "country", "homepage", "x"}
    assert info.value.errors["x"] == "unknown field"


@pytest.mark.parametrize(
    "name", [{"xx": "UNIMAS"}, {"en": ""}, {"en": "  "}, {"en": 7}, {"en": "ok", "english": "x"}]
)
def test_institution_name_must_be_a_language_map(name):
    with pytest.raises(ValidationFailed) as info:
        deserialize(institution_schema(), {**INSTITUTION, "name": name})
    assert list(info.value.errors) == ["name"]


@pytest.mark.parametrize("slug", ["a/b", "@@view", "Upper", "two words", "-x", "x" * 65, ""])
def test_institution_and_collection_ids_are_slugs(slug):
    for schema, data in ((institution_schema(), INSTITUTION), (collection_schema(), COLLECTION)):
        with pytest.raises(ValidationFailed) as info:
            deserialize(schema, {**data, "id": slug})
        assert list(info.value.errors) == ["id"]


def test_collection():
    assert deserialize(collection_schema(), COLLECTION) == {**COLLECTION, "description": {}}
    described = {**COLLECTION, "description": {"ms": "Naskhah"}}
    assert deserialize(collection_schema(), described)["description"] == {"ms": "Naskhah"}


def test_collection_errors_all_at_once():
    with pytest.raises(ValidationFailed) as info:
        deserialize(
            collection_schema(), {"id": "a/b", "title": {"xx": "M"}, "description": {"en": ""}}
        )
    assert set(info.value.errors) == {"id", "institution", "title", "description"}


# -- json_body --------------------------------------------------------------------------------


class FakeRequest:
    def __init__(self, body: bytes) -> None:
        self.body = body


def test_json_body():
    assert json_body(FakeRequest(b'{"id": "x"}')) == {"id": "x"}


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_json_body_refuses(body):
    with pytest.raises(ValidationFailed) as info:
        json_body(FakeRequest(body))
    assert list(info.value.errors) == ["body"]
