"""The OAI-PMH 2.0 provider: six verbs over ``root.oai``, answered as XML documents.

The view (``heritage.views.oai``) hands over the request's key/value pairs with the URLs and
settings it knows; this module decides everything else and returns the response bytes.
Only records in ``root.oai`` are served, and a live one only while the public may still see
its item (checked again here, so a stale list can never leak a restricted item).

Spec: https://www.openarchives.org/OAI/openarchivesprotocol.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from heritage.dublincore import DC, OAI_DC, dublin_core
from heritage.dublincore import SCHEMA_LOCATION as OAI_DC_SCHEMA_LOCATION
from heritage.mods import MODS, mods_record
from heritage.mods import SCHEMA as MODS_SCHEMA
from heritage.oai import listing
from heritage.oai.protocol import (
    OAIError,
    OAIErrors,
    OAIRequest,
    lower_bound,
    parse_request,
    upper_bound,
)
from heritage.oai.records import OAIRecord, OAIRecords, datestamp
from heritage.oai.sets import all_sets
from heritage.oai.tokens import BadToken, ListState, decode_token, encode_token
from heritage.resources.institution import Institution
from heritage.security import publicly_listed, publicly_visible
from heritage.xmlns import OAI, XML_LANG

XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA_LOCATION = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
#: oai-identifier.xsd's repositoryIdentifierType: a domain name.
REPOSITORY_ID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", OAI_DC_SCHEMA_LOCATION.split()[1], OAI_DC),
    "mods": MetadataFormat("mods", MODS_SCHEMA, MODS),
}


@dataclass(frozen=True)
class Links:
    """Absolute URLs the responses carry, built by the view from the request."""

    base_url: str
    item: Callable[[str], str]
    manifest: Callable[[str], str]
    institution: Callable[[str], str]
    collection: Callable[[str], str]


@dataclass(frozen=True)
class ProviderConfig:
    repository_name: str
    repository_id: str  # identifiers are oai:<repository_id>:<item id>
    admin_emails: tuple[str, ...]
    page_size: int
    token_seconds: int
    token_key: bytes
    languages: tuple[str, ...] = ("en", "ms", "id")


def _o(name: str) -> str:
    return f"{{{OAI}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> Any:
    node = etree.SubElement(parent, _o(name))
    if text is not None:
        node.text = text
    return node


def _utc(seconds: float) -> str:
    return datestamp(datetime.fromtimestamp(seconds, UTC))


class Provider:
    """Answer one OAI-PMH request against a repository root."""

    def __init__(
        self, root: Any, config: ProviderConfig, links: Links, now: datetime | None = None
    ) -> None:
        self.root = root
        self.records: OAIRecords = root.oai
        self.config = config
        self.links = links
        self.now = now or datetime.now(UTC)

    # -- the envelope --------------------------------------------------------------------------

    def respond(self, pairs: Iterable[tuple[str, str]]) -> tuple[str, bytes]:
        """Return the verb answered ("" when the request was bad) and the response XML."""
        try:
            request = parse_request(pairs)
        except OAIErrors as errors:
            return "", self._serialize(self._error_document(None, errors))
        handler = getattr(self, f"_{request.verb}")
        try:
            document = self._document(request)
            handler(request, document)
        except OAIErrors as errors:
            return request.verb, self._serialize(self._error_document(request, errors))
        return request.verb, self._serialize(document)

    def _document(self, request: OAIRequest | None) -> etree._Element:
        document = etree.Element(_o("OAI-PMH"), nsmap={None: OAI, "xsi": XSI})
        document.set(f"{{{XSI}}}schemaLocation", OAI_SCHEMA_LOCATION)
        _sub(document, "responseDate", datestamp(self.now))
        echo = _sub(document, "request", self.links.base_url)
        if request is not None:
            echo.set("verb", request.verb)
            for key, value in request.arguments.items():
                echo.set(key, value)
        return document

    def _error_document(self, request: OAIRequest | None, errors: OAIErrors) -> etree._Element:
        document = self._document(request if errors.echo_arguments else None)
        for error in errors.errors:
            node = _sub(document, "error", error.message)
            node.set("code", error.code)
        return document

    @staticmethod
    def _serialize(document: etree._Element) -> bytes:
        return etree.tostring(document, xml_declaration=True, encoding="UTF-8")

    # -- identifiers, formats, records ---------------------------------------------------------

    def identifier(self, item_id: str) -> str:
        return f"oai:{self.config.repository_id}:{item_id}"

    def item_id_of(self, identifier: str) -> str | None:
        prefix = f"oai:{self.config.repository_id}:"
        return identifier[len(prefix) :] if identifier.startswith(prefix) else None

    @staticmethod
    def _format(prefix: str | None) -> MetadataFormat:
        fmt = FORMATS.get(prefix or "")
        if fmt is None:
            raise OAIErrors(
                OAIError(
                    "cannotDisseminateFormat",
                    f"{prefix!r} is not a metadata format here; formats: {', '.join(FORMATS)}",
                )
            )
        return fmt

    def _live_item(self, item_id: str, record: OAIRecord) -> Any:
        """Return the item whose metadata may be served now, or None (deleted)."""
        if record.deleted:
            return None
        item = self.root.items.get(item_id)
        if item is None or not publicly_listed(item):
            return None
        return item

    def _header(self, parent: etree._Element, item_id: str, record: OAIRecord, live: bool) -> None:
        header = _sub(parent, "header")
        if not live:
            header.set("status", "deleted")
        _sub(header, "identifier", self.identifier(item_id))
        _sub(header, "datestamp", record.datestamp)
        for spec in record.sets:
            _sub(header, "setSpec", spec)

    def _record(
        self, parent: etree._Element, item_id: str, record: OAIRecord, fmt: MetadataFormat
    ) -> None:
        item = self._live_item(item_id, record)
        node = _sub(parent, "record")
        self._header(node, item_id, record, item is not None)
        if item is not None:
            _sub(node, "metadata").append(self._metadata(item, record, fmt))

    def _metadata(self, item: Any, record: OAIRecord, fmt: MetadataFormat) -> etree._Element:
        item_url = self.links.item(item.item_id)
        manifest_url = self.links.manifest(item.item_id) if publicly_visible(item) else ""
        if fmt.prefix == "mods":
            collection = item.collection
            return mods_record(
                item,
                item_url=item_url,
                manifest_url=manifest_url,
                collection_url=self.links.collection(collection.__name__) if collection else "",
                record_changed=record.datestamp,
            )
        element = dublin_core(item, item_url=item_url, manifest_url=manifest_url)
        for node in element.findall(f"{{{DC}}}identifier"):
            if not node.text:  # no manifest for the public (metadata-only)
                element.remove(node)
        return element

    # -- verbs ---------------------------------------------------------------------------------

    def _Identify(self, request: OAIRequest, document: etree._Element) -> None:
        body = _sub(document, "Identify")
        _sub(body, "repositoryName", self.config.repository_name)
        _sub(body, "baseURL", self.links.base_url)
        _sub(body, "protocolVersion", "2.0")
        for email in self.config.admin_emails:
            _sub(body, "adminEmail", email)
        _sub(body, "earliestDatestamp", self.records.earliest_datestamp())
        _sub(body, "deletedRecord", "persistent")
        _sub(body, "granularity", GRANULARITY)
        if REPOSITORY_ID_RE.match(self.config.repository_id):
            description = _sub(body, "description")
            ident = etree.SubElement(
                description, f"{{{OAI_IDENTIFIER}}}oai-identifier", nsmap={None: OAI_IDENTIFIER}
            )
            ident.set(f"{{{XSI}}}schemaLocation", f"{OAI_IDENTIFIER} {OAI_IDENTIFIER_SCHEMA}")
            for name, text in (
                ("scheme", "oai"),
                ("repositoryIdentifier", self.config.repository_id),
                ("delimiter", ":"),
                ("sampleIdentifier", self.identifier(self._sample_id())),
            ):
                etree.SubElement(ident, f"{{{OAI_IDENTIFIER}}}{name}").text = text

    def _ListMetadataFormats(self, request: OAIRequest, document: etree._Element) -> None:
        identifier = request.get("identifier")
        if identifier is not None:
            item_id = self.item_id_of(identifier)
            record = self.records.get(item_id) if item_id else None
            if record is None:
                raise OAIErrors(self._no_such_id(identifier))
            if self._live_item(item_id, record) is None:
                raise OAIErrors(
                    OAIError(
                        "noMetadataFormats",
                        f"{identifier} is deleted: no metadata can be disseminated for it",
                    )
                )
        body = _sub(document, "ListMetadataFormats")
        for fmt in FORMATS.values():
            node = _sub(body, "metadataFormat")
            _sub(node, "metadataPrefix", fmt.prefix)
            _sub(node, "schema", fmt.schema)
            _sub(node, "metadataNamespace", fmt.namespace)

    def _ListSets(self, request: OAIRequest, document: etree._Element) -> None:
        if request.get("resumptionToken"):
            raise OAIErrors(
                OAIError("badResumptionToken", "ListSets answers in one response: no token")
            )
        sets = all_sets(self.root)
        if not sets:
            raise OAIErrors(self._no_sets())
        body = _sub(document, "ListSets")
        for spec, obj in sets:
            node = _sub(body, "set")
            _sub(node, "setSpec", spec)
            names = obj.name if isinstance(obj, Institution) else obj.title
            _sub(node, "setName", self._pick(names) or spec)
            node.append(self._set_description(spec, obj, names))

    def _set_description(self, spec: str, obj: Any, names: Mapping[str, str]) -> Any:
        description = etree.Element(_o("setDescription"))
        dc = etree.SubElement(
            description, f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI}
        )
        dc.set(f"{{{XSI}}}schemaLocation", OAI_DC_SCHEMA_LOCATION)
        for lang, text in names.items():
            etree.SubElement(dc, f"{{{DC}}}title", {XML_LANG: lang}).text = text
        if isinstance(obj, Institution):
            url = self.links.institution(obj.__name__)
        else:
            for lang, text in obj.description.items():
                etree.SubElement(dc, f"{{{DC}}}description", {XML_LANG: lang}).text = text
            for lang, text in obj.institution.name.items():
                etree.SubElement(dc, f"{{{DC}}}publisher", {XML_LANG: lang}).text = text
            url = self.links.collection(obj.__name__)
        etree.SubElement(dc, f"{{{DC}}}identifier").text = url
        return description

    def _ListIdentifiers(self, request: OAIRequest, document: etree._Element) -> None:
        self._list(request, document)

    def _ListRecords(self, request: OAIRequest, document: etree._Element) -> None:
        self._list(request, document)

    def _GetRecord(self, request: OAIRequest, document: etree._Element) -> None:
        errors: list[OAIError] = []
        fmt = None
        try:
            fmt = self._format(request.get("metadataPrefix"))
        except OAIErrors as exc:
            errors.extend(exc.errors)
        identifier = request.get("identifier") or ""
        item_id = self.item_id_of(identifier)
        record = self.records.get(item_id) if item_id else None
        if record is None:
            errors.append(self._no_such_id(identifier))
        if errors:
            raise OAIErrors(*errors)
        self._record(_sub(document, "GetRecord"), item_id, record, fmt)

    # -- lists ---------------------------------------------------------------------------------

    def _list(self, request: OAIRequest, document: etree._Element) -> None:
        token = request.get("resumptionToken")
        if token is not None:
            try:
                state = decode_token(
                    token, self.config.token_key, verb=request.verb, now=self.now.timestamp()
                )
                fmt = self._format(state.prefix)
            except (BadToken, OAIErrors) as exc:
                raise OAIErrors(OAIError("badResumptionToken", str(exc))) from None
        else:
            fmt = self._format(request.get("metadataPrefix"))
            spec = request.get("set")
            if spec is not None and not len(self.root.institutions):
                raise OAIErrors(self._no_sets())
            start = lower_bound(request.arguments["from"]) if "from" in request.arguments else None
            end = upper_bound(request.arguments["until"]) if "until" in request.arguments else None
            state = ListState(
                verb=request.verb,
                prefix=fmt.prefix,
                start=start,
                end=end,
                spec=spec,
                after="",
                cursor=0,
                size=listing.count(self.records, start, end, spec),
                expires=0,
            )
        found, more = listing.page(
            self.records,
            start=state.start,
            end=state.end,
            spec=state.spec,
            after=state.after or None,
            limit=self.config.page_size,
        )
        if not found:
            raise OAIErrors(
                OAIError("noRecordsMatch", "no records match these from, until and set arguments")
            )
        body = _sub(document, request.verb)
        for item_id, record in found:
            if request.verb == "ListRecords":
                self._record(body, item_id, record, fmt)
            else:
                self._header(body, item_id, record, self._live_item(item_id, record) is not None)
        sent = state.cursor + len(found)
        if more:
            expires = int(self.now.timestamp()) + self.config.token_seconds
            next_state = replace(state, after=found[-1][0], cursor=sent, expires=expires)
            node = _sub(body, "resumptionToken", encode_token(next_state, self.config.token_key))
            node.set("expirationDate", _utc(expires))
            node.set("completeListSize", str(max(state.size, sent + 1)))
            node.set("cursor", str(state.cursor))
        elif token is not None:  # the last part of a list in several: an empty token
            node = _sub(body, "resumptionToken")
            node.set("completeListSize", str(max(state.size, sent)))
            node.set("cursor", str(state.cursor))

    # -- small things --------------------------------------------------------------------------

    def _no_such_id(self, identifier: str) -> OAIError:
        return OAIError("idDoesNotExist", f"{identifier or 'the identifier'} is not known here")

    def _sample_id(self) -> str:
        return next(iter(self.records.records.keys()), "pns-ms-0001")

    @staticmethod
    def _no_sets() -> OAIError:
        return OAIError("noSetHierarchy", "this repository has no sets yet")

    def _pick(self, names: Mapping[str, str]) -> str:
        for lang in self.config.languages:
            if names.get(lang):
                return names[lang]
        return next(iter(names.values()), "")
