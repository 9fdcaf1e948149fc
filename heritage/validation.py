"""Validation of what forms and the JSON API send: every bad field named, in plain words."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import colander

from heritage.metadata import MetadataError, normalize_language, validate_record
from heritage.resources.folder import FolderError, check_name
from heritage.resources.item import ITEM_ID_RE, VIEWING_DIRECTIONS, validate_item_id
from heritage.security import ACCESS_LEVELS

#: Rights must be a standard statement, so that IIIF viewers and aggregators understand them.
RIGHTS_RE = re.compile(
    r"^http://(rightsstatements\.org/vocab/[A-Za-z-]+/1\.0/"
    r"|creativecommons\.org/(licenses|publicdomain)/[a-z0-9.+/-]+/)$"
)


class ValidationFailed(Exception):
    """Input was refused; ``errors`` maps each bad field to a message."""

    def __init__(self, errors: Mapping[str, str], message: str = "") -> None:
        self.errors = dict(errors)
        self.message = message or "Some fields need fixing: " + "; ".join(
            f"{k}: {v}" for k, v in self.errors.items()
        )
        super().__init__(self.message)


def json_body(request: Any) -> dict[str, Any]:
    """Return the request's JSON object, or raise ValidationFailed saying what is wrong."""
    if not request.body:
        raise ValidationFailed({"body": "a JSON object is required"})
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed({"body": f"not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    return data


def _check_item_id(node: colander.SchemaNode, value: str) -> None:
    try:
        validate_item_id(value)
    except ValueError as exc:
        raise colander.Invalid(node, str(exc)) from None


def _check_rights(node: colander.SchemaNode, value: str) -> None:
    if value and not RIGHTS_RE.match(value):
        raise colander.Invalid(
            node,
            "use a RightsStatements.org or Creative Commons URI, e.g. "
            "http://rightsstatements.org/vocab/NoC-NKC/1.0/ or "
            "http://creativecommons.org/licenses/by/4.0/",
        )


class _Metadata(colander.SchemaType):
    """Pass the metadata object through; :func:`validate_record` checks it in detail."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, dict):
            raise colander.Invalid(node, "must be an object of Dublin Core elements")
        return cstruct


def _string(**kw: Any) -> colander.SchemaNode:
    return colander.SchemaNode(colander.String(allow_empty=kw.pop("allow_empty", False)), **kw)


def item_schema(*, partial: bool) -> colander.SchemaNode:
    """Return the schema of an item in the API; ``partial`` for updates (all optional)."""
    missing = {"missing": colander.drop} if partial else {}
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"))
    if not partial:
        schema.add(_string(name="id", validator=_check_item_id))
        schema.add(_string(name="collection"))
    schema.add(colander.SchemaNode(_Metadata(), name="metadata", **missing))
    schema.add(
        _string(
            name="access",
            validator=colander.OneOf(ACCESS_LEVELS),
            missing=colander.drop if partial else "staff",
        )
    )
    schema.add(_string(name="community", allow_empty=True, missing=colander.drop))
    schema.add(
        _string(name="rights", allow_empty=True, validator=_check_rights, missing=colander.drop)
    )
    schema.add(
        _string(
            name="viewing_direction",
            validator=colander.OneOf(VIEWING_DIRECTIONS),
            missing=colander.drop,
        )
    )
    section = colander.SchemaNode(colander.Mapping(unknown="raise"), name="section")
    section.add(_language_map("label"))
    section.add(
        colander.SchemaNode(
            colander.Sequence(),
            colander.SchemaNode(
                colander.String(),
                validator=colander.Regex(r"^[1-9][0-9]{0,8}$", 'a file number, e.g. "3"'),
            ),
            name="files",
            validator=colander.Length(min=1, max=10_000),
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.Sequence(),
            section,
            name="sections",
            validator=colander.Length(max=1000),
            missing=colander.drop,
        )
    )
    return schema


def validate_item(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Return clean item fields from API data, or raise ValidationFailed naming each field."""
    errors: dict[str, str] = {}
    try:
        clean = deserialize(item_schema(partial=partial), data)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        clean = {}
    if "metadata" in data and isinstance(data["metadata"], dict):
        try:
            clean["metadata"] = validate_record(data["metadata"])
        except MetadataError as exc:
            errors.update(exc.errors)
    access = clean.get("access", data.get("access"))
    community = clean.get("community", data.get("community"))
    if access == "community" and not (isinstance(community, str) and community.strip()):
        errors["community"] = "community access needs the name of the community protocol"
    if errors:
        raise ValidationFailed(errors)
    return clean


def deserialize(schema: colander.SchemaNode, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` deserialized by ``schema``; unknown fields and bad ones all reported."""
    known = {child.name for child in schema.children}
    errors = {key: "unknown field" for key in data if key not in known}
    try:
        fields = schema.deserialize(dict(data))
    except colander.Invalid as exc:
        errors.update(exc.asdict())
        fields = {}
    if errors:
        raise ValidationFailed(errors)
    return fields


def _check_slug(node: colander.SchemaNode, value: str) -> None:
    try:
        check_name(value)
    except FolderError as exc:
        raise colander.Invalid(node, str(exc)) from None
    if not ITEM_ID_RE.match(value) or len(value) > 64:
        raise colander.Invalid(node, "use lowercase letters and digits joined by hyphens")


def _check_language_map(node: colander.SchemaNode, value: dict) -> None:
    if not value:
        raise colander.Invalid(node, 'give at least one language, e.g. {"en": "..."}')
    for lang, text in value.items():
        try:
            normalize_language(lang)
        except ValueError as exc:
            raise colander.Invalid(node, str(exc)) from None
        if not isinstance(text, str) or not text.strip():
            raise colander.Invalid(node, f"the {lang!r} value must be non-empty text")


def _normalize_keys(value: Any) -> Any:
    """Store language maps under canonical tags (``msa`` → ``ms``), like metadata values."""
    if not isinstance(value, dict):
        return value
    out = {}
    for lang, text in value.items():
        try:
            out[normalize_language(lang)] = text
        except ValueError:
            out[lang] = text  # the validator reports it
    return out


def _language_map(name: str, **kw: Any) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.Mapping(unknown="preserve"),
        name=name,
        preparer=_normalize_keys,
        validator=_check_language_map,
        **kw,
    )


def institution_schema() -> colander.SchemaNode:
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"))
    schema.add(_string(name="id", validator=_check_slug))
    schema.add(_language_map("name"))
    schema.add(
        _string(
            name="country",
            validator=colander.Regex(r"^[A-Z]{2}$", "an ISO 3166 country code, e.g. MY, ID or BN"),
        )
    )
    schema.add(_string(name="homepage", validator=colander.url, missing=""))
    return schema


def collection_schema() -> colander.SchemaNode:
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"))
    schema.add(_string(name="id", validator=_check_slug))
    schema.add(_string(name="institution"))
    schema.add(_language_map("title"))
    schema.add(_language_map("description", missing={}))
    return schema


def transition_schema() -> colander.SchemaNode:
    """A request to move an item: ``{"to": STATE, "note": …}`` and what some moves ask for."""
    from workflows.states import STATES

    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"))
    schema.add(_string(name="to", validator=colander.OneOf(STATES)))
    schema.add(
        _string(name="note", allow_empty=True, missing="", validator=colander.Length(max=5000))
    )
    # Strict: only true/1 sign off the QA ("no", null, "perhaps" are errors, not a yes).
    schema.add(
        colander.SchemaNode(
            colander.Boolean(false_choices=("false", "0"), true_choices=("true", "1")),
            name="qa_signoff",
            missing=False,
        )
    )
    schema.add(colander.SchemaNode(colander.Date(), name="defer_until", missing=None))
    schema.add(
        colander.SchemaNode(
            colander.Sequence(),
            colander.SchemaNode(colander.String()),
            name="rescan",
            missing=(),
            validator=colander.Length(max=10_000),
        )
    )
    return schema
