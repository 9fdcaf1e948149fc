"""Dates for the search facets: the years a date value spans, its decades and centuries.

Our items' dates are EDTF (``1850~``, ``18XX``, ``1923/1925``), read with the ``edtf``
library, so that *some year in the 1800s* is in every decade of that century and an
interval is in each decade it crosses. Harvested records' dates are whatever a partner
wrote (``1850``, ``c. 1850``, ``1850-1860``, ``[18--]``): when they are not EDTF, their
four-digit years are taken as the span. Nothing here knows Pyramid or ZODB.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from functools import lru_cache

from edtf import parse_edtf
from edtf.parser.edtf_exceptions import EDTFParseException

#: A span longer than this is too vague to place in decades (it still has centuries).
MAX_DECADE_SPAN = 300
#: ... and one longer than this is not placed in time at all.
MAX_SPAN = 3000
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
#: The EDTF forms most dates take (``1850``, ``1962-05``, ``1850~``, ``18XX``, ``198X``),
#: read here without the ``edtf`` parser, which takes milliseconds a value (pyparsing).
_PLAIN = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(\d{2}))?)?[~?%]?$")
_UNSPECIFIED = re.compile(r"^(\d{2,3})(X{1,2})[~?%]?$")

Bounds = tuple[tuple[int, int, int], tuple[int, int, int]]


def _year_month_day(struct: object) -> tuple[int, int, int] | None:
    if isinstance(struct, float) or struct is None:  # an open or unknown end: ±inf
        return None
    year, month, day = struct[:3]  # type: ignore[index]
    return int(year), int(month), int(day)


def _plain_bounds(text: str) -> Bounds | None:
    """Return the bounds of a plain EDTF date or interval of them, or None if not plain."""
    if "/" in text:
        start, _, end = text.partition("/")
        lower = _plain_bounds(start) if start not in ("", "..") else None
        upper = _plain_bounds(end) if end not in ("", "..") else None
        if (lower is None and start not in ("", "..")) or (upper is None and end not in ("", "..")):
            return None
        if lower is None and upper is None:
            return None
        return (lower or upper)[0], (upper or lower)[1]  # type: ignore[index]
    match = _PLAIN.match(text)
    if match:
        year = int(match.group(1))
        if match.group(3):
            day = int(match.group(3))
            month = int(match.group(2))
            if not 1 <= day <= calendar.monthrange(year, month)[1]:
                return None
            return (year, month, day), (year, month, day)
        if match.group(2):
            month = int(match.group(2))
            return (year, month, 1), (year, month, calendar.monthrange(year, month)[1])
        return (year, 1, 1), (year, 12, 31)
    match = _UNSPECIFIED.match(text)
    if match and len(match.group(1)) + len(match.group(2)) == 4:
        step = 10 ** len(match.group(2))
        first = int(match.group(1)) * step
        return (first, 1, 1), (first + step - 1, 12, 31)
    return None


@lru_cache(maxsize=20_000)
def date_bounds(text: str) -> Bounds | None:
    """Return the earliest and latest ``(year, month, day)`` a date value may mean, or None.

    An open end (``1850/..``) is taken to be the known end.
    """
    text = text.strip()
    if not text:
        return None
    plain = _plain_bounds(text)
    if plain is not None:
        return (plain[1], plain[0]) if plain[1] < plain[0] else plain
    try:
        parsed = parse_edtf(text)
        lower = _year_month_day(parsed.lower_strict())
        upper = _year_month_day(parsed.upper_strict())
    except (EDTFParseException, ValueError, TypeError, AttributeError, OverflowError):
        years = [int(y) for y in _YEAR.findall(text)]
        if not years:
            return None
        return (min(years), 1, 1), (max(years), 12, 31)
    lower = lower or upper
    upper = upper or lower
    if lower is None or upper is None:
        return None
    if upper < lower:
        lower, upper = upper, lower
    if upper[0] - lower[0] > MAX_SPAN:
        return None
    return lower, upper


def years(values: Iterable[str]) -> tuple[int, int] | None:
    """Return the first and last year that any of the date ``values`` spans, or None."""
    bounds = [b for b in (date_bounds(v) for v in values) if b is not None]
    if not bounds:
        return None
    return min(b[0][0] for b in bounds), max(b[1][0] for b in bounds)


def sort_key(values: Iterable[str]) -> int | None:
    """Return an integer ``YYYYMMDD`` of the earliest day the dates may mean (sorts by date)."""
    lowest = min((b[0] for b in (date_bounds(v) for v in values) if b is not None), default=None)
    if lowest is None:
        return None
    year, month, day = lowest
    return year * 10_000 + month * 100 + day


def decades(span: tuple[int, int] | None) -> list[str]:
    """Return the decades a span of years touches, as their first year (``"1850"``)."""
    if span is None or span[1] - span[0] > MAX_DECADE_SPAN:
        return []
    return [str(d) for d in range(_floor(span[0], 10), span[1] + 1, 10)]


def centuries(span: tuple[int, int] | None) -> list[str]:
    """Return the centuries a span of years touches, as their first year (``"1800"``)."""
    if span is None:
        return []
    return [str(c) for c in range(_floor(span[0], 100), span[1] + 1, 100)]


def _floor(year: int, step: int) -> int:
    return math.floor(year / step) * step


def label(facet: str, value: str) -> str:
    """Return how a decade or century value reads: ``1850–1859``, ``1800–1899``."""
    start = int(value)
    return f"{start}–{start + (9 if facet == 'decade' else 99)}"
