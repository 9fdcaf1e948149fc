"""Partners of the union catalogue: other repositories we harvest over OAI-PMH.

An admin configures each partner (name, base URL, metadata prefix, set, schedule); the
harvester (:mod:`heritage.harvest`) keeps the datestamp to continue from and a short log of
its runs on the partner. Only admins see or change partners.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow

from heritage.metadata import normalize_language
from heritage.resources.folder import Folder
from heritage.security import ADMIN_PRINCIPAL

#: How many runs each partner's log keeps (the newest).
RUNS_KEPT = 50
#: A partner id: like institution ids (lowercase words joined by hyphens); never a ``:``,
#: so that ``{partner_id}:{oai identifier}`` keys split unambiguously.
PARTNER_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: ``0`` (off) or a number and a unit: ``30m``, ``12h``, ``1d``, ``1w``.
SCHEDULE_RE = re.compile(r"^(0|[1-9][0-9]{0,4}[mhdw])$")
SCHEDULE_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: A metadata prefix as OAI-PMH allows it (unreserved URI characters).
PREFIX_RE = re.compile(r"^[A-Za-z0-9_.!~*'()-]{1,64}$")
#: A setSpec: colon-separated unreserved URI characters.
SET_RE = re.compile(r"^[A-Za-z0-9_.!~*'()-]+(:[A-Za-z0-9_.!~*'()-]+)*$")

RUNNING, SUCCESS, FAILED, INTERRUPTED = "running", "success", "failed", "interrupted"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PartnerError(ValueError):
    """A partner setting is not valid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def validate_partner_id(value: Any) -> str:
    if not isinstance(value, str) or not PARTNER_ID_RE.match(value) or not 2 <= len(value) <= 64:
        raise PartnerError("id", "use 2-64 lowercase letters and digits in words joined by hyphens")
    return value


def validate_base_url(value: Any) -> str:
    """Return an OAI-PMH base URL: http(s), a host, no credentials, query or fragment.

    The protocol appends its own query (``?verb=…``), so a base URL with one is a mistake.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise PartnerError("url", "the partner's OAI-PMH base URL is required")
    if len(text) > 2000 or any(c.isspace() for c in text):
        raise PartnerError("url", "not a URL")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PartnerError("url", "use an http:// or https:// URL, e.g. https://example.org/oai")
    if parts.username or parts.password:
        raise PartnerError("url", "no user name or password in the URL")
    if parts.query or parts.fragment:
        raise PartnerError("url", "the base URL has no ?query or #fragment (OAI-PMH adds ?verb=…)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise PartnerError("url", "the port is not a number from 0 to 65535") from None
    return text


def parse_schedule(value: Any) -> int:
    """Return a schedule's interval in seconds (``0``: off); raise PartnerError."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not SCHEDULE_RE.match(text):
        raise PartnerError("schedule", "0 (off) or an interval like 30m, 12h, 1d or 1w")
    if text == "0":
        return 0
    return int(text[:-1]) * SCHEDULE_UNITS[text[-1]]


def validate_prefix(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not PREFIX_RE.match(text):
        raise PartnerError("prefix", "a metadata prefix such as oai_dc")
    return text


def validate_set(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text and (len(text) > 500 or not SET_RE.match(text)):
        raise PartnerError("set", "a setSpec such as pns or pns:pns-manuscripts, or nothing")
    return text


class PartnerInvalid(ValueError):
    """Partner fields were refused; ``errors`` maps each bad field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


PARTNER_FIELDS = ("id", "name", "url", "prefix", "set", "schedule", "enabled")


def validate_name(value: Any) -> dict[str, str]:
    """Return a language map ``{"en": "...", "ms": "..."}`` with canonical tags."""
    if not isinstance(value, Mapping) or not value:
        raise PartnerError("name", 'a language map, e.g. {"en": "Sabah State Library"}')
    name = {}
    for lang, text in value.items():
        try:
            tag = normalize_language(lang)
        except ValueError as exc:
            raise PartnerError("name", str(exc)) from None
        if not isinstance(text, str) or not text.strip() or len(text) > 500:
            raise PartnerError("name", f"the {lang!r} name must be text of 1-500 characters")
        name[tag] = text.strip()
    return name


def validate_partner(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Return clean partner fields from ``data`` (API, form or command line).

    Creating needs ``id``, ``name`` and ``url``; the rest default (``prefix`` oai_dc, no
    ``set``, ``schedule`` 1d, ``enabled``). Updating takes any of the fields but ``id``.

    :raises PartnerInvalid: naming every bad field.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in data:
        if key not in PARTNER_FIELDS or (key == "id" and not creating):
            errors[key] = "unknown field" if key != "id" else "a partner's id cannot change"
    checks = {
        "id": validate_partner_id,
        "name": validate_name,
        "url": validate_base_url,
        "prefix": validate_prefix,
        "set": validate_set,
        "schedule": lambda v: (parse_schedule(v), v.strip().lower())[1],
    }
    for key, check in checks.items():
        if key in data and key not in errors:
            try:
                clean[key] = check(data[key])
            except PartnerError as exc:
                errors[key] = str(exc).split(": ", 1)[1]
        elif creating and key in ("id", "name", "url"):
            errors.setdefault(key, "required")
    if "enabled" in data:
        if isinstance(data["enabled"], bool):
            clean["enabled"] = data["enabled"]
        else:
            errors["enabled"] = "true or false"
    if errors:
        raise PartnerInvalid(errors)
    return clean


def apply_partner(partner: Partner, fields: Mapping[str, Any]) -> None:
    """Change a partner; a new URL, prefix or set starts the next harvest from the beginning
    (the old datestamp belongs to another list of records)."""
    restart = False
    if "name" in fields:
        partner.name = PersistentMapping(fields["name"])
    for key, attr in (("url", "url"), ("prefix", "prefix"), ("set", "set_spec")):
        if key in fields and fields[key] != getattr(partner, attr):
            setattr(partner, attr, fields[key])
            restart = True
    if "schedule" in fields:
        partner.set_schedule(fields["schedule"])
    if "enabled" in fields:
        partner.enabled = fields["enabled"]
    if restart:
        partner.last_datestamp = partner.granularity = ""


def new_partner(fields: Mapping[str, Any]) -> Partner:
    """Return a partner made from :func:`validate_partner` fields (``creating=True``)."""
    return Partner(
        fields["name"],
        fields["url"],
        prefix=fields.get("prefix", "oai_dc"),
        set_spec=fields.get("set", ""),
        schedule=fields.get("schedule", "1d"),
        enabled=fields.get("enabled", True),
    )


class HarvestRun(Persistent):
    """One harvest of a partner: when, from which datestamp, what came of it."""

    __name__: str | None = None
    __parent__: Any = None

    def __init__(self, from_datestamp: str) -> None:
        self.started = now_iso()
        self.finished = ""
        self.outcome = RUNNING
        self.from_datestamp = from_datestamp  # "" for a full harvest
        self.added = self.updated = self.deleted = self.unchanged = 0
        self.error = ""

    @property
    def records(self) -> int:
        return self.added + self.updated + self.deleted + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "finished": self.finished,
            "outcome": self.outcome,
            "from": self.from_datestamp,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "error": self.error,
        }


class Partner(Persistent):
    """A repository whose records we harvest into the union catalogue."""

    __name__: str | None = None
    __parent__: Any = None
    granularity = ""  # from its Identify: "YYYY-MM-DDThh:mm:ssZ" or "YYYY-MM-DD"

    def __init__(
        self,
        name: Mapping[str, str],
        url: str,
        *,
        prefix: str = "oai_dc",
        set_spec: str = "",
        schedule: str = "1d",
        enabled: bool = True,
    ) -> None:
        self.name = PersistentMapping(name)  # language map
        self.url = validate_base_url(url)
        self.prefix = validate_prefix(prefix)
        self.set_spec = validate_set(set_spec)
        self.set_schedule(schedule)
        self.enabled = enabled
        #: The ``from`` of the next incremental harvest: the responseDate the partner gave
        #: at the start of the last complete run (its clock, not ours); "" harvests all.
        self.last_datestamp = ""
        self.runs = OOBTree()  # sortable key (start time + random) → HarvestRun
        self._run_count = Length()

    def set_schedule(self, schedule: str) -> None:
        self.interval = parse_schedule(schedule)
        self.schedule = schedule.strip().lower()

    # -- the log -------------------------------------------------------------------------------

    def start_run(self) -> HarvestRun:
        """Add a running entry to the log (dropping the oldest beyond :data:`RUNS_KEPT`).

        An earlier entry still running belongs to a process that stopped without finishing
        it (or to one still going, whose own end will overwrite this): it is marked so.
        """
        for earlier in self.runs.values():  # at most RUNS_KEPT
            if earlier.outcome == RUNNING:
                earlier.outcome, earlier.error = INTERRUPTED, "did not finish (process stopped?)"
        run = HarvestRun(self.last_datestamp)
        key = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%f')}-{secrets.token_hex(3)}"
        run.__name__, run.__parent__ = key, self
        self.runs[key] = run
        self._run_count.change(1)
        while self._run_count() > RUNS_KEPT:
            del self.runs[self.runs.minKey()]
            self._run_count.change(-1)
        return run

    def latest_runs(self, limit: int = RUNS_KEPT) -> list[HarvestRun]:
        """Return the newest runs first."""
        keys = list(self.runs.keys())  # at most RUNS_KEPT
        return [self.runs[key] for key in reversed(keys[-limit:])]

    @property
    def last_run(self) -> HarvestRun | None:
        return self.runs[self.runs.maxKey()] if len(self.runs) else None

    def as_dict(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "id": self.__name__,
            "name": dict(self.name),
            "url": self.url,
            "prefix": self.prefix,
            "set": self.set_spec,
            "schedule": self.schedule,
            "enabled": self.enabled,
            "last_datestamp": self.last_datestamp,
            "last_run": last.as_dict() if last is not None else None,
        }

    def due(self, now: datetime) -> bool:
        """Whether the schedule asks for a harvest now: enabled, on, and the interval since
        the last run's start has passed (failed runs count, so a broken partner is tried
        once per interval, not on every check)."""
        if not self.enabled or self.interval <= 0:
            return False
        last = self.last_run
        if last is None:
            return True
        return (now - datetime.fromisoformat(last.started)).total_seconds() >= self.interval


class Partners(Folder):
    """``root.partners``: the configured partners, by id. Admins only."""

    __acl__ = [(Allow, ADMIN_PRINCIPAL, ALL_PERMISSIONS), DENY_ALL]

    def add(self, name: str, obj: Any) -> Any:
        validate_partner_id(name)
        return super().add(name, obj)

    def enabled(self) -> Iterator[Partner]:
        return (p for p in self.values() if p.enabled)
