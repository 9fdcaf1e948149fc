"""The ``heritage.*`` settings: a typed table, waitress style.

Each row names a setting, the converter that parses it from the ini, its default and what it
is for. Unknown ``heritage.*`` keys fail at start-up, so that a typo never silently falls back
to a default.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "heritage."


class SettingsError(ValueError):
    """A ``heritage.*`` setting is unknown or cannot be parsed."""


def asbool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def aslist(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return tuple(str(value).split())


def asbytesize(value: Any) -> int:
    """Parse ``10MB``, ``512KB``, ``1GB`` or a plain number of bytes."""
    text = str(value).strip().upper().replace(" ", "")
    units = {"GB": 1024**3, "MB": 1024**2, "KB": 1024, "B": 1}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def asduration(value: Any) -> float:
    """Parse ``7d``, ``12h``, ``30m``, ``45s`` or a plain number of seconds; ``0`` is never."""
    text = str(value).strip().lower().replace(" ", "")
    units = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
    factor = units.get(text[-1:], 1) if text else 1
    number = text[:-1] if text[-1:] in units else text
    seconds = float(number) * factor
    if seconds < 0 or seconds != seconds:  # negative, or NaN
        raise ValueError(f"not a duration: {value!r}")
    return seconds


def aspositiveint(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be at least 1: {value!r}")
    return number


#: A domain name, as oai-identifier.xsd's repositoryIdentifier requires.
_DOMAIN_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


def asdomain(value: Any) -> str:
    text = str(value).strip()
    if text and not _DOMAIN_RE.match(text):
        raise ValueError(f"not a domain name (e.g. heritage.example.org): {value!r}")
    return text


def asurl(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    convert: Callable[[Any], Any]
    default: Any
    comment: str


TABLE: tuple[Setting, ...] = (
    Setting("var_dir", str, "var", "folder for the database, blobs, derivatives, secrets"),
    Setting("secret", str, "", "session signing secret; empty: kept in var_dir/session.secret"),
    Setting("public_url", asurl, "", "the site's public base URL; empty: built from the request"),
    Setting("max_body_bytes", asbytesize, "1MB", "largest request body outside uploads"),
    Setting("max_upload_bytes", asbytesize, "2GB", "largest upload request (all its files)"),
    Setting("max_image_pixels", int, 400_000_000, "Pillow decompression-bomb limit"),
    Setting("languages", aslist, ("en", "ms", "id"), "interface languages, first is default"),
    Setting("secure_cookies", asbool, False, "send session cookies over HTTPS only"),
    Setting("session_max_age", int, 8 * 3600, "seconds a login lasts without activity"),
    Setting("page_size", int, 20, "items per page in lists and the JSON API"),
    Setting("zeo_storage", str, "", "file:// URI of the FileStorage that `heritage zeo` serves"),
    Setting("zeo_address", str, "", "unix socket path that `heritage zeo` listens on"),
    Setting("derivatives_dir", str, "", "tile pyramids and caches; empty: var_dir/derivatives"),
    Setting("staging_dir", str, "", "uploads and ingest copies; empty: var_dir/staging"),
    Setting("worker_processes", int, 2, "processes a worker builds derivatives with"),
    Setting("worker_in_process", asbool, False, "`heritage serve` runs one worker itself"),
    Setting("iiif_max_width", int, 10_000, "Image API maxWidth (and maxHeight)"),
    Setting("iiif_max_area", int, 64_000_000, "Image API maxArea, in pixels"),
    Setting("image_cache_bytes", asbytesize, "1GB", "disk cache of computed image responses"),
    Setting("x_accel_prefix", str, "", "nginx internal location of the tiles (X-Accel-Redirect)"),
    Setting("sample_data", asbool, False, "load the sample consortium into an empty database"),
    Setting("oai_repository_id", asdomain, "", "OAI-PMH ids are oai:<this>:<item>; empty: host"),
    Setting("oai_admin_email", aslist, (), "OAI-PMH Identify adminEmail(s); empty: admin@host"),
    Setting("oai_page_size", aspositiveint, 100, "records per OAI-PMH list response"),
    Setting("oai_token_seconds", aspositiveint, 3600, "how long a resumptionToken stays valid"),
    Setting("audit_interval", asduration, "7d", "how often the worker audits masters; 0: never"),
    Setting("harvest_timeout", float, 30.0, "seconds to wait for each answer of a partner"),
    Setting("harvest_retries", int, 3, "tries again after a network error, timeout or 5xx"),
    Setting("harvest_backoff", float, 1.0, "seconds before the first retry, doubled each time"),
    Setting("harvest_batch", int, 200, "harvested records stored per transaction"),
    Setting("harvest_check", asduration, "5m", "how often the worker looks for due partners"),
    Setting("pack_interval", asduration, "1d", "how often the worker packs the database; 0: never"),
    Setting(
        "pack_keep", asduration, "7d", "object history a pack keeps (for undo and ZEO clients)"
    ),
)
BY_NAME = {s.name: s for s in TABLE}


@dataclass(frozen=True)
class HeritageSettings:
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def parse_settings(settings: Mapping[str, Any]) -> HeritageSettings:
    """Return the typed ``heritage.*`` settings; raise SettingsError on unknown or bad keys."""
    values = {
        s.name: s.convert(s.default) if isinstance(s.default, str) else s.default for s in TABLE
    }
    for key, raw in settings.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        setting = BY_NAME.get(name)
        if setting is None:
            known = ", ".join(PREFIX + s.name for s in TABLE)
            raise SettingsError(f"unknown setting {key!r}; known settings: {known}")
        try:
            values[name] = setting.convert(raw)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"bad value for {key}: {exc}") from None
    return HeritageSettings(values)


def apply_image_limits(max_pixels: int) -> None:
    """Set Pillow's decompression-bomb limit for this process (STYLE.md, "Libraries")."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels


def staging_dir(hs: HeritageSettings) -> Path:
    """Return the staging folder: beside the blobs, so blobs take files over by renaming."""
    return Path(hs.staging_dir or Path(hs.var_dir) / "staging")


def session_secret(hs: HeritageSettings) -> str:
    """Return the session secret, creating ``var_dir/session.secret`` once if none is set.

    Kept in a file rather than made per process, so that several processes and restarts
    share logins.
    """
    if hs.secret:
        return hs.secret
    path = Path(hs.var_dir) / "session.secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    tmp.replace(path)
    return path.read_text().strip()
