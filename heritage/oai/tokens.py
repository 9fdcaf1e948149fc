"""Resumption tokens: the state of an incomplete list, signed so it cannot be forged.

A token carries the list's arguments (verb, metadataPrefix, from, until, set), the last item
id already sent (lists page by item id, a stable key: records added or changed between pages
neither shift nor repeat the rest), the cursor, the list size counted at the first request
and an expiry. It is ``base64url(JSON).base64url(HMAC-SHA256)`` with a key derived from
``heritage.secret``, so any process of the site can continue a list, and a tampered,
foreign or expired token is ``badResumptionToken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

VERSION = 1


class BadToken(ValueError):
    """The token is malformed, forged, for another verb, or expired."""


@dataclass(frozen=True)
class ListState:
    verb: str
    prefix: str
    start: str | None  # from, second granularity
    end: str | None  # until, second granularity
    spec: str | None  # set
    after: str  # the last item id sent
    cursor: int  # how many records were sent before the next page
    size: int  # completeListSize, counted at the first request
    expires: int  # POSIX seconds


def derive_key(secret: str) -> bytes:
    """Return the signing key for tokens: never the session secret itself."""
    return hmac.new(secret.encode("utf-8"), b"heritage.oai.resumption-token", "sha256").digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(state: ListState, key: bytes) -> str:
    payload = json.dumps({"v": VERSION, **asdict(state)}, separators=(",", ":")).encode()
    body = _b64(payload)
    signature = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{signature}"


def decode_token(token: str, key: bytes, *, verb: str, now: float) -> ListState:
    """Return the state in ``token``; raise :class:`BadToken` saying why not."""
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature or not token.isascii():
        raise BadToken("the resumptionToken is not one this repository issued")
    expected = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise BadToken("the resumptionToken is not one this repository issued")
    try:
        data: dict[str, Any] = json.loads(_unb64(body))
        version = data.pop("v")
        state = ListState(**data)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadToken(f"the resumptionToken cannot be read ({exc})") from None
    if version != VERSION:
        raise BadToken("the resumptionToken is from an older version of this repository")
    if state.verb != verb:
        raise BadToken(f"the resumptionToken continues {state.verb}, not {verb}")
    if state.expires < now:
        raise BadToken("the resumptionToken has expired: start the list again")
    return state
