"""An OAI-PMH 2.0 harvesting client: Sickle's paging over our own careful HTTP.

Sickle walks ``ListRecords`` and its resumption tokens and turns ``<error>`` elements into
exceptions. Around it this module adds what a harvester of many partners needs:

- one timeout per request, and retries with exponential back-off on network errors, timeouts
  and 5xx/429 answers (``Retry-After`` honoured up to :data:`MAX_DELAY`); a 4xx is final;
- strict XML: Sickle parses with ``recover=True``, which turns a broken page into a partial
  tree and silently loses records; we refuse it (no entities, no network, size-capped);
- every answer's ``responseDate``, the partner's own clock, which the next incremental harvest
  starts from;
- one exception type, :class:`HarvestError`, whose ``reason`` says what kind of failure it
  was, for the partner's log.

Spec: https://www.openarchives.org/OAI/openarchivesprotocol.html
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.response import OAIResponse

from heritage.harvest.records import OAI_NS, HarvestedData, parse_record

#: Longest wait between two tries, whatever ``Retry-After`` asks.
MAX_DELAY = 120.0
#: Largest response we read (a page of records; a partner's page is rarely over a few MB).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
USER_AGENT = "BorneoHeritage-harvester/1.0 (+OAI-PMH 2.0; Sickle)"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False
)

# Failure kinds, as the partner's log names them.
TIMEOUT = "timeout"
NETWORK = "network"
HTTP = "http"
INVALID_XML = "invalid-xml"
BAD_TOKEN = "bad-resumption-token"  # noqa: S105 - a failure kind, not a secret
OAI_ERROR = "oai-error"


class HarvestError(Exception):
    """A harvest could not go on; ``reason`` is one of the kinds above."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class ClientOptions:
    """How patient to be with a partner (from the ``heritage.harvest_*`` settings)."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0


class _StrictResponse(OAIResponse):
    """An OAI-PMH answer parsed once, strictly."""

    def __init__(self, http_response: Any, params: dict, content: bytes) -> None:
        super().__init__(http_response, params)
        try:
            self._xml = etree.fromstring(content, parser=_PARSER)
        except etree.XMLSyntaxError as exc:
            raise HarvestError(INVALID_XML, f"invalid XML from the partner: {exc}") from None
        if self._xml.tag != f"{{{OAI_NS}}}OAI-PMH":
            raise HarvestError(
                INVALID_XML, f"not an OAI-PMH response (root element {self._xml.tag!r})"
            )
        date = self._xml.find(f"{{{OAI_NS}}}responseDate")
        self.response_date = (date.text or "").strip() if date is not None else ""

    @property
    def xml(self) -> Any:
        return self._xml


class _Sickle(Sickle):
    """Sickle whose requests go through :meth:`OAIClient.fetch`."""

    def __init__(self, client: OAIClient) -> None:
        super().__init__(
            client.url,
            class_mapping={"ListRecords": lambda element: element},
        )
        self.client = client

    def harvest(self, **kwargs: Any) -> _StrictResponse:
        return self.client.fetch(kwargs)


def _oai_code(exc: Exception) -> str:
    name = type(exc).__name__
    return name[0].lower() + name[1:] if name != "OAIError" else "error"


class OAIClient:
    """Talk to one partner's OAI-PMH base URL.

    :param url: the base URL (validated by :func:`heritage.resources.partners.validate_base_url`).
    :param sleep: how to wait between tries (tests may pass a recorder).
    """

    def __init__(
        self,
        url: str,
        options: ClientOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.options = options
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.response_dates: list[str] = []
        self.requests = 0
        self._tokens: set[str] = set()  # resumption tokens followed (a partner may loop)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OAIClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- HTTP ------------------------------------------------------------------------------

    def fetch(self, params: dict[str, str]) -> _StrictResponse:
        """GET the base URL with ``params``, retrying transient failures; parse the answer."""
        token = params.get("resumptionToken")
        if token is not None:
            if token in self._tokens:
                raise HarvestError(BAD_TOKEN, "the partner sent the same resumption token again")
            self._tokens.add(token)
        tries = self.options.retries + 1
        for attempt in range(tries):
            last = attempt == tries - 1
            delay = min(self.options.backoff * 2**attempt, MAX_DELAY)
            try:
                response, content = self._get(params)
            except requests.Timeout:
                if last:
                    raise HarvestError(
                        TIMEOUT,
                        f"no answer within {self.options.timeout:g} s "
                        f"({tries} {'try' if tries == 1 else 'tries'})",
                    ) from None
            except requests.RequestException as exc:
                if last:
                    raise HarvestError(NETWORK, _network_message(self.url, exc)) from None
            else:
                status = response.status_code
                if status < 400:
                    return self._parse(response, params, content)
                if (status < 500 and status != 429) or last:
                    raise HarvestError(HTTP, f"HTTP {status} {response.reason or ''}".strip())
                delay = max(delay, _retry_after(response))
            self.sleep(min(delay, MAX_DELAY))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, params: dict[str, str]) -> tuple[requests.Response, bytes]:
        self.requests += 1
        with self.session.get(
            self.url, params=params, timeout=self.options.timeout, stream=True
        ) as response:
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(65536):
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise HarvestError(
                            HTTP, f"the response is larger than {MAX_RESPONSE_BYTES // 2**20} MB"
                        )
                    chunks.append(chunk)
            except requests.ConnectionError as exc:  # a stalled body is a timeout too
                if "timed out" in str(exc):
                    raise requests.ReadTimeout(str(exc)) from None
                raise
            return response, b"".join(chunks)

    def _parse(self, response: Any, params: dict, content: bytes) -> _StrictResponse:
        parsed = _StrictResponse(response, params, content)
        self.response_dates.append(parsed.response_date)
        return parsed

    # -- verbs -----------------------------------------------------------------------------

    def identify(self) -> dict[str, str]:
        """Return the partner's Identify fields we use (``granularity``, ``repositoryName``,
        ``earliestDatestamp``); raise HarvestError."""
        response = self.fetch({"verb": "Identify"})
        found = response.xml.find(f"{{{OAI_NS}}}Identify")
        if found is None:
            _raise_oai_error(response.xml)
            raise HarvestError(INVALID_XML, "the Identify response has no <Identify> element")
        fields = {}
        for name in ("repositoryName", "granularity", "earliestDatestamp", "protocolVersion"):
            node = found.find(f"{{{OAI_NS}}}{name}")
            fields[name] = (node.text or "").strip() if node is not None else ""
        return fields

    def list_records(
        self, prefix: str, *, set_spec: str = "", from_: str = ""
    ) -> Iterator[HarvestedData]:
        """Yield every record of ``ListRecords``, across resumption tokens.

        ``noRecordsMatch`` ends the list quietly (nothing new is a success); any other OAI
        error, or a failure of the transport or the XML, raises :class:`HarvestError`.
        """
        params = {"metadataPrefix": prefix}
        if set_spec:
            params["set"] = set_spec
        if from_:
            params["from"] = from_
        sickle = _Sickle(self)
        try:
            records = sickle.ListRecords(**params)
            for element in records:
                parsed = parse_record(element)
                if parsed is not None:
                    yield parsed
        except oaiexceptions.NoRecordsMatch:
            return
        except oaiexceptions.BadResumptionToken as exc:
            raise HarvestError(
                BAD_TOKEN, f"the partner rejected its own resumption token: {_text(exc)}"
            ) from None
        except HarvestError:
            raise
        except tuple(_OAI_EXCEPTIONS) as exc:
            raise HarvestError(OAI_ERROR, f"OAI-PMH error {_oai_code(exc)}: {_text(exc)}") from None


_OAI_EXCEPTIONS = [
    cls
    for cls in vars(oaiexceptions).values()
    if isinstance(cls, type) and issubclass(cls, Exception)
]


def _raise_oai_error(xml: Any) -> None:
    error = xml.find(f"{{{OAI_NS}}}error")
    if error is not None:
        code = error.get("code", "error")
        raise HarvestError(OAI_ERROR, f"OAI-PMH error {code}: {(error.text or '').strip()}")


def _retry_after(response: Any) -> float:
    try:
        return float(response.headers.get("Retry-After", 0))
    except ValueError:  # an HTTP date: not worth parsing, back off as usual
        return 0.0


def _text(exc: Exception) -> str:
    return (str(exc) or "no description").strip()[:500]


def _network_message(url: str, exc: Exception) -> str:
    """Return "cannot reach HOST: Connection refused" rather than urllib3's whole chain."""
    text = str(exc) or type(exc).__name__
    errno = re.search(r"\[Errno -?\d+\] ([^\"')\]]+)", text)
    host = urlsplit(url).netloc
    if errno:
        return f"cannot reach {host}: {errno.group(1).strip()}"
    return f"network error talking to {host}: {text[:300]}"
