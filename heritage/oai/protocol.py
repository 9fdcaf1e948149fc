"""OAI-PMH 2.0 requests: verbs, their arguments, and the argument errors.

A pure parser (the ``zimeon/iiif`` shape): key/value pairs in, an :class:`OAIRequest` or
:class:`OAIErrors` out; it knows nothing of the database. Which records exist is the
provider's business (``heritage.oai.provider``).

Spec: https://www.openarchives.org/OAI/openarchivesprotocol.html (§3.1 requests, §3.3 dates,
§3.6 errors, §4 verbs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

#: verb → (required, optional, exclusive) arguments (§4).
VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "Identify": ((), (), None),
    "ListMetadataFormats": ((), ("identifier",), None),
    "ListSets": ((), (), "resumptionToken"),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set"), "resumptionToken"),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set"), "resumptionToken"),
    "GetRecord": (("identifier", "metadataPrefix"), (), None),
}

#: Patterns of the schema's own types (OAI-PMH.xsd), so that every argument echoed in the
#: ``request`` element is valid there.
METADATA_PREFIX_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
SET_SPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
#: Characters XML 1.0 cannot hold: an argument with one could not be echoed in ``request``.
NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

DAY = "YYYY-MM-DD"
SECOND = "YYYY-MM-DDThh:mm:ssZ"


@dataclass(frozen=True)
class OAIError:
    """One ``<error code="…">message</error>`` of a response (§3.6)."""

    code: str
    message: str


class OAIErrors(Exception):
    """The request cannot be answered; ``errors`` go into the response in order."""

    def __init__(self, *errors: OAIError) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))

    @property
    def echo_arguments(self) -> bool:
        """badVerb and badArgument answers give the base URL only, no attributes (§3.2)."""
        return not any(e.code in ("badVerb", "badArgument") for e in self.errors)


def bad_argument(message: str) -> OAIErrors:
    return OAIErrors(OAIError("badArgument", message))


@dataclass(frozen=True)
class OAIRequest:
    verb: str
    arguments: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(pairs: Iterable[tuple[str, str]]) -> OAIRequest:
    """Return the request the ``pairs`` (from a query string or form body) make.

    :raises OAIErrors: badVerb for a missing, repeated or unknown verb; badArgument (one
        error per problem) for illegal, repeated, missing or malformed arguments.
    """
    pairs = list(pairs)
    verbs = [value for key, value in pairs if key == "verb"]
    if not verbs:
        raise OAIErrors(OAIError("badVerb", "the verb argument is missing"))
    if len(verbs) > 1:
        raise OAIErrors(OAIError("badVerb", "the verb argument is repeated"))
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIErrors(
            OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb; verbs: {', '.join(VERBS)}")
        )
    required, optional, exclusive = VERBS[verb]
    allowed = {*required, *optional, *([exclusive] if exclusive else [])}

    problems: list[str] = []
    arguments: dict[str, str] = {}
    for key, value in pairs:
        if key == "verb":
            continue
        if key not in allowed:
            problems.append(f"{key!r} is not an argument of {verb}")
        elif key in arguments:
            problems.append(f"the argument {key!r} is repeated")
        elif not value:
            problems.append(f"the argument {key!r} is empty")
        arguments.setdefault(key, value)
    if exclusive and exclusive in arguments:
        others = sorted(set(arguments) - {exclusive})
        if others:
            problems.append(f"{exclusive} is exclusive: it cannot go with {', '.join(others)}")
    else:
        problems.extend(
            f"the argument {name!r} is required by {verb}"
            for name in required
            if name not in arguments
        )
    problems.extend(_check_values(arguments))
    if problems:
        raise OAIErrors(*(OAIError("badArgument", p) for p in dict.fromkeys(problems)))
    return OAIRequest(verb, arguments)


def _check_values(arguments: dict[str, str]) -> list[str]:
    problems = [
        f"the argument {key!r} has characters XML cannot carry"
        for key, value in arguments.items()
        if NOT_XML_RE.search(value)
    ]
    prefix = arguments.get("metadataPrefix")
    if prefix and not METADATA_PREFIX_RE.match(prefix):
        problems.append(f"metadataPrefix {prefix!r} has characters a prefix cannot have")
    spec = arguments.get("set")
    if spec and not SET_SPEC_RE.match(spec):
        problems.append(f"set {spec!r} is not a setSpec (e.g. pns or pns:pns-manuscripts)")
    granularities = {}
    for name in ("from", "until"):
        text = arguments.get(name)
        if not text:
            continue
        try:
            granularities[name] = date_granularity(text)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if len(granularities) == 2:
        if granularities["from"] != granularities["until"]:
            problems.append("from and until must have the same granularity")
        elif lower_bound(arguments["from"]) > upper_bound(arguments["until"]):
            problems.append("from is later than until")
    return problems


def date_granularity(text: str) -> str:
    """Return ``DAY`` or ``SECOND`` for a valid UTC date(time); raise ValueError otherwise."""
    if DAY_RE.match(text):
        fmt, granularity = "%Y-%m-%d", DAY
    elif SECOND_RE.match(text):
        fmt, granularity = "%Y-%m-%dT%H:%M:%SZ", SECOND
    else:
        raise ValueError(f"{text!r} is not a UTC date {DAY} or date and time {SECOND}")
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date or time") from None
    return granularity


def lower_bound(text: str) -> str:
    """Return a ``from`` value at second granularity (a day starts at 00:00:00)."""
    return f"{text}T00:00:00Z" if DAY_RE.match(text) else text


def upper_bound(text: str) -> str:
    """Return an ``until`` value at second granularity (a day includes its last second)."""
    return f"{text}T23:59:59Z" if DAY_RE.match(text) else text
