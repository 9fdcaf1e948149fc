"""Selection for digitization: scoring nominations, ranking them, spotting digitized copies.

ARCHITECTURE.md, "Workflow": staff nominate an item with a reason; curators score it on
weighted criteria and select, defer or reject it. Each member institution sets its own
weights (CONSORTIUM.md: "each member keeps its autonomy: its own selection weights"), so
the same scores can rank differently at two members.

A nomination is a small dict, stored whole on the item and replaced whole on change
(:func:`nominate`, :func:`score`)::

    {"by": "siti", "date": "2025-03-14T09:30:00+00:00", "reason": "…",
     "scores": {"significance": 4, …}, "scored_by": "amir", "scored": "2025-03-15T…"}

The duplicate warning compares titles after :func:`normalize_title` (case, accents, Jawi
vowel marks and letter variants, punctuation) and also after modernising pre-1972 Malay and
Indonesian spellings (*Tjerita Radja Koetai* is *Cerita Raja Kutai*), and identifiers after
:func:`normalize_identifier`. Nothing here touches Pyramid or ZODB.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from types import MappingProxyType
from typing import Any

SIGNIFICANCE = "significance"
CONDITION = "condition"
DEMAND = "demand"
UNIQUENESS = "uniqueness"
RIGHTS = "rights"
#: The selection criteria, in the order forms and tables show them.
CRITERIA: tuple[str, ...] = (SIGNIFICANCE, CONDITION, DEMAND, UNIQUENESS, RIGHTS)

MIN_SCORE = 0
MAX_SCORE = 5
MIN_WEIGHT = 0
MAX_WEIGHT = 10
MAX_REASON = 2000
#: A priority is the weighted mean score scaled to 0–100.
MAX_PRIORITY = 100.0
#: Titles at least this similar (difflib ratio of the normalised forms) are close matches.
TITLE_THRESHOLD = 0.85

#: Weights used until an institution sets its own.
DEFAULT_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {SIGNIFICANCE: 3, CONDITION: 3, DEMAND: 2, UNIQUENESS: 2, RIGHTS: 1}
)

#: The name of each criterion in the interface languages.
CRITERION_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        SIGNIFICANCE: {"en": "Significance", "ms": "Kepentingan", "id": "Signifikansi"},
        CONDITION: {
            "en": "Condition / risk of loss",
            "ms": "Keadaan / risiko kehilangan",
            "id": "Kondisi / risiko kehilangan",
        },
        DEMAND: {"en": "User demand", "ms": "Permintaan pengguna", "id": "Permintaan pengguna"},
        UNIQUENESS: {"en": "Uniqueness", "ms": "Keunikan", "id": "Keunikan"},
        RIGHTS: {"en": "Rights clarity", "ms": "Kejelasan hak", "id": "Kejelasan hak"},
    }
)

#: One line saying what a high score means, for each criterion.
CRITERION_HELP: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        SIGNIFICANCE: {
            "en": "Cultural, historical or research value for Borneo: higher = more significant",
            "ms": "Nilai budaya, sejarah atau kajian bagi Borneo: lebih tinggi = lebih penting",
            "id": "Nilai budaya, sejarah atau penelitian bagi Borneo: lebih tinggi = lebih penting",
        },
        CONDITION: {
            "en": "Risk of loss (fragile, damaged, obsolete carrier): higher = more urgent",
            "ms": "Risiko kehilangan (rapuh, rosak, media usang): lebih tinggi = lebih mendesak",
            "id": "Risiko kehilangan (rapuh, rusak, media usang): lebih tinggi = lebih mendesak",
        },
        DEMAND: {
            "en": "How often readers and researchers ask for it: higher = more asked for",
            "ms": "Kekerapan pembaca dan penyelidik memintanya: lebih tinggi = lebih dicari",
            "id": "Seberapa sering pembaca dan peneliti memintanya: lebih tinggi = lebih dicari",
        },
        UNIQUENESS: {
            "en": "No other copy held or digitized elsewhere: higher = rarer",
            "ms": "Tiada naskhah lain disimpan atau didigitalkan: lebih tinggi = lebih jarang",
            "id": "Tidak ada salinan lain, tersimpan atau digital: lebih tinggi = lebih langka",
        },
        RIGHTS: {
            "en": "How clear it is that we may digitize and share it: higher = clearer",
            "ms": "Jelasnya hak untuk mendigital dan berkongsi: lebih tinggi = lebih jelas",
            "id": "Jelasnya hak untuk mendigitalkan dan membagikan: lebih tinggi = lebih jelas",
        },
    }
)


class SelectionError(ValueError):
    """Bad scores, weights or nomination; ``errors`` maps each bad field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def label(criterion: str, lang: str) -> str:
    """Return the name of ``criterion`` in ``lang`` (English when there is none)."""
    names = CRITERION_LABELS[criterion]
    return names.get(lang, names["en"])


def help_text(criterion: str, lang: str) -> str:
    """Return the one-line help of ``criterion`` in ``lang`` (English when there is none)."""
    texts = CRITERION_HELP[criterion]
    return texts.get(lang, texts["en"])


# -- scores and weights ------------------------------------------------------------------------


def _whole_numbers(mapping: Any, low: int, high: int, what: str) -> dict[str, int]:
    """Return ``mapping`` as {criterion: int}, every criterion present and in ``low..high``."""
    if not isinstance(mapping, Mapping):
        raise SelectionError({what: f"must be an object with a value for each of {_names()}"})
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for key in mapping:
        if key not in CRITERIA:
            errors[str(key)] = f"unknown criterion; use {_names()}"
    for criterion in CRITERIA:
        if criterion not in mapping:
            errors[criterion] = "required"
            continue
        value = mapping[criterion]
        # bool is an int in Python, but "true" is not a score.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[criterion] = f"must be a whole number from {low} to {high}"
            continue
        clean[criterion] = value
    if errors:
        raise SelectionError(errors)
    return clean


def _names() -> str:
    return ", ".join(CRITERIA)


def validate_scores(mapping: Any) -> dict[str, int]:
    """Return the scores as ``{criterion: int}``: every criterion, each from 0 to 5.

    :raises SelectionError: naming each missing, unknown or bad criterion.
    """
    return _whole_numbers(mapping, MIN_SCORE, MAX_SCORE, "scores")


def validate_weights(mapping: Any) -> dict[str, int]:
    """Return the weights as ``{criterion: int}``: every criterion, each from 0 to 10.

    A weight of 0 leaves a criterion out; at least one weight must be above 0.

    :raises SelectionError: naming each missing, unknown or bad criterion, or ``weights``
        when every weight is 0.
    """
    weights = _whole_numbers(mapping, MIN_WEIGHT, MAX_WEIGHT, "weights")
    if not any(weights.values()):
        raise SelectionError({"weights": "give at least one criterion a weight above 0"})
    return weights


def priority(scores: Mapping[str, int] | None, weights: Mapping[str, int]) -> float | None:
    """Return the priority of a nomination: the weighted mean score, scaled to 0–100.

    Only the criteria scored count (a stored nomination has all of them, see
    :func:`validate_scores`). Unscored (``None`` or empty scores), or scored only on criteria
    weighted 0, gives ``None``: such nominations rank after every scored one.
    """
    if not scores:
        return None
    used = [c for c in CRITERIA if c in scores]
    total = sum(weights.get(c, 0) for c in used)
    if total <= 0:
        return None
    mean = sum(weights.get(c, 0) * scores[c] for c in used) / total
    return round(mean / MAX_SCORE * MAX_PRIORITY, 1)


def rank(nominations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the nominations, highest priority first.

    Each is a mapping with ``priority`` (float or None), ``date`` (ISO 8601, when it was
    nominated) and ``id``. Equal priorities go oldest nomination first (it has waited
    longest), then by id so the order is stable; unscored nominations come last.
    """

    def key(n: Mapping[str, Any]) -> tuple[bool, float, str, str]:
        p = n.get("priority")
        return (p is None, -(p or 0.0), n.get("date") or "", str(n.get("id", "")))

    return sorted(nominations, key=key)


# -- the stored nomination ---------------------------------------------------------------------


def _timestamp(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def validate_reason(reason: Any) -> str:
    """Return the reason for a nomination, stripped; it is required.

    :raises SelectionError: under ``reason``.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise SelectionError({"reason": "say why this item should be digitized"})
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise SelectionError({"reason": f"at most {MAX_REASON} characters"})
    return reason


def nominate(
    by: str, reason: str, when: datetime, *, previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return a new nomination by ``by`` at ``when``, unscored unless ``previous`` was scored.

    :param previous: what the item already holds: a record scored before anyone nominated
        it through the form (see :func:`score`) keeps its scores.
    :raises SelectionError: the reason is missing or too long.
    """
    kept = previous or {}
    return {
        "by": by,
        "date": _timestamp(when),
        "reason": validate_reason(reason),
        "scores": dict(kept.get("scores") or {}),
        "scored_by": kept.get("scored_by", ""),
        "scored": kept.get("scored", ""),
    }


def is_nominated(nomination: Mapping[str, Any] | None) -> bool:
    """Return whether someone nominated the item with a reason (not merely scored it)."""
    return bool(nomination and nomination.get("by"))


def score(
    nomination: Mapping[str, Any] | None, scores: Any, by: str, when: datetime
) -> dict[str, Any]:
    """Return a copy of ``nomination`` with ``scores`` given by ``by`` at ``when``.

    A record nominated before nominations were recorded (``None``) gets an empty reason.
    The copy is new: store it whole, so the database sees the change.

    :raises SelectionError: the scores are not valid (see :func:`validate_scores`).
    """
    clean = validate_scores(scores)
    base = dict(nomination) if nomination else {"by": "", "date": "", "reason": ""}
    base.update(scores=clean, scored_by=by, scored=_timestamp(when))
    return base


# -- the duplicate warning: titles -------------------------------------------------------------

#: Arabic-script letters written two ways in Jawi texts, folded to one (Jawi keheh, yeh, gaf).
_JAWI_FOLD = {
    "\u0643": "\u06a9",  # ARABIC KAF → KEHEH (Jawi kaf)
    "\u0649": "\u064a",  # ALEF MAKSURA → YEH
    "\u06cc": "\u064a",  # FARSI YEH → YEH
    "\u06af": "\u0762",  # GAF → KEHEH WITH DOT ABOVE (Jawi ga)
}
_TATWEEL = "\u0640"  # stretches a joined letter for justification; not a letter


def normalize_title(text: str) -> str:
    """Return ``text`` reduced for comparison: compatibility-decomposed (NFKD), accents and
    Arabic vowel marks dropped, Jawi letter variants folded, case folded, digits made ASCII,
    punctuation and symbols made spaces, spaces collapsed.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf") or ch == _TATWEEL:
            continue  # combining accents, harakat, hamza above, zero-width joiners
        if category == "Nd":
            out.append(str(unicodedata.digit(ch)))  # Arabic-Indic digits in Jawi titles
        elif category[0] in "PSZC":
            out.append(" ")
        else:
            out.append(_JAWI_FOLD.get(ch, ch))
    return " ".join("".join(out).casefold().split())


#: Pre-1972 Indonesian (Van Ophuijsen, Soewandi) to the 1972 spelling (EYD). A lone ``j``
#: of the old spelling is today's ``y``, while ``dj`` is today's ``j``.
_OLD_INDONESIAN = {
    "tj": "c",
    "dj": "j",
    "nj": "ny",
    "sj": "sy",
    "ch": "kh",
    "oe": "u",
    "j": "y",
}
#: Pre-1972 Malay (Za'ba's Rumi) to Rumi Baharu: ``cherita`` → ``cerita``, ``shair`` → ``syair``.
_OLD_MALAY = {"ch": "c", "sh": "sy"}


def _respell(text: str, table: Mapping[str, str]) -> str:
    """Return ``text`` with the letters of ``table`` replaced, two-letter spellings first,
    left to right, each letter replaced at most once (``dj`` → ``j`` stays ``j``)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in table:
            out.append(table[pair])
            i += 2
        else:
            out.append(table.get(text[i], text[i]))
            i += 1
    return "".join(out)


def spelling_variants(normalized: str) -> frozenset[str]:
    """Return ``normalized`` and its readings as pre-1972 Indonesian and Malay spellings,
    modernised (``tjerita radja koetai`` → ``cerita raja kutai``).

    Both titles of a comparison are modernised, so a modern title is compared with an old
    one as it is written today. Text in other scripts is returned as it is.
    """
    return frozenset(
        (
            normalized,
            _respell(normalized, _OLD_INDONESIAN),
            _respell(normalized, _OLD_MALAY),
        )
    )


#: Letter pairs that only the old spellings use anywhere in a word (Van Ophuijsen / Soewandi
#: ``tj dj oe``, Za'ba ``ch sh``). Modern Malay and Indonesian write ``nj`` (*menjadi*) and a
#: lone ``j`` (*raja*) too, so those are rewritten only in a word that shows an old mark.
_OLD_MARKS = ("tj", "dj", "oe", "ch", "sh")
#: ... and pairs that are old only at the start of a word (*njonja*, *sjair*; but *masjid*).
_OLD_INITIALS = ("nj", "sj")


def modern_spelling(word: str) -> str:
    """Return a folded word as modern Malay/Indonesian spells it, if it shows an old spelling.

    ``tjerita`` → ``cerita``, ``radja`` → ``raja``, ``koetai`` → ``kutai``, ``tjahaja`` →
    ``cahaya``, ``cherita`` → ``cerita``, ``shair`` → ``syair``, ``njonja`` → ``nyonya``; a
    word written today is returned as it is (``menjadi``, ``raja``, ``masjid``). Applied to
    the index and to queries alike, so an English word that happens to contain ``ch`` is
    rewritten on both sides and still found.
    """
    if any(mark in word for mark in _OLD_MARKS) or word.startswith(_OLD_INITIALS):
        return _respell(_respell(word, _OLD_MALAY), _OLD_INDONESIAN)
    return word


@dataclass(frozen=True)
class TitleMatch:
    """A candidate title close to the one looked for.

    :param key: what the caller passed with the candidate (e.g. an item id).
    :param title: the candidate title as given.
    :param similarity: difflib ratio of the closest normalised spellings, 0–1.
    :param contained: every word of the shorter title is in the longer one.
    """

    key: Hashable
    title: str
    similarity: float
    contained: bool


def _numbers(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(w for w in words if w.isdigit()))


def _contained(a: list[str], b: list[str]) -> bool:
    """Return whether the words of the shorter title (two at least, and at least half as
    many as the longer has) all occur in the longer: *Hikayat Banjar* in *Hikayat Banjar
    dan Kotaringin*, but not the lone *Hikayat* in every hikayat."""
    small, large = sorted((set(a), set(b)), key=len)
    return len(small) >= 2 and 2 * len(small) >= len(large) and small <= large


def compare_titles(a: str, b: str) -> tuple[float, bool]:
    """Return how close two titles are: the best difflib ratio over their spelling variants,
    and whether one's words are contained in the other's.

    Titles whose numbers differ (volumes, years: *Jilid 1*, *Jilid 2*) are different works
    and score ``(0.0, False)``.
    """
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb:
        return 0.0, False
    if _numbers(na.split()) != _numbers(nb.split()):
        return 0.0, False
    best = 0.0
    contained = False
    for va in spelling_variants(na):
        for vb in spelling_variants(nb):
            matcher = SequenceMatcher(None, va, vb, autojunk=False)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
            contained = contained or _contained(va.split(), vb.split())
    return round(best, 3), contained


def similar_titles(
    title: str,
    candidates: Iterable[tuple[Hashable, str]],
    *,
    threshold: float = TITLE_THRESHOLD,
) -> list[TitleMatch]:
    """Return the candidates whose title is close to ``title``, closest first.

    Close means a similarity of at least ``threshold`` after normalising (see
    :func:`compare_titles`), or the words of one contained in the other's.

    :param candidates: ``(key, title)`` pairs; the key comes back in each match.
    """
    matches = []
    for key, candidate in candidates:
        similarity, contained = compare_titles(title, candidate)
        if similarity >= threshold or contained:
            matches.append(TitleMatch(key, candidate, similarity, contained))
    matches.sort(key=lambda m: -m.similarity)  # stable: ties keep the candidates' order
    return matches


# -- the duplicate warning: identifiers --------------------------------------------------------

#: Scheme names written before an identifier (``ISBN 978…``, ``(OCoLC)123``, ``doi:10.…``).
_SCHEMES = ("isbn", "issn", "oclc", "ocolc", "lccn", "doi", "hdl", "handle")


def _drop_scheme(text: str) -> str:
    text = text.removeprefix("urn:").removeprefix("(")
    for scheme in _SCHEMES:
        if text.startswith(scheme):
            return text.removeprefix(scheme).removeprefix(")").lstrip(": \t")
    return text


def _isbn13(isbn10: str) -> str:
    """Return the ISBN-13 of a valid ISBN-10 (digits and a final ``x``), else ``isbn10``."""
    digits = [10 if c == "x" else int(c) for c in isbn10]
    if sum((10 - i) * d for i, d in enumerate(digits)) % 11:
        return isbn10
    body = "978" + isbn10[:9]
    check = (10 - sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(body)) % 10) % 10
    return body + str(check)


def normalize_identifier(identifier: str) -> str:
    """Return an identifier reduced for comparison: case folded, a scheme prefix
    (``ISBN``, ``urn:isbn:``, ``(OCoLC)``, ``doi:``) dropped, only letters and digits kept,
    an ISBN-10 written as its ISBN-13. Empty when nothing is left.
    """
    text = unicodedata.normalize("NFKD", identifier).casefold().strip()
    text = _drop_scheme(text)
    text = "".join(c for c in text if c.isalnum())
    if len(text) == 10 and text[:9].isdecimal() and text.isascii() and text[9] in "0123456789x":
        text = _isbn13(text)
    return text


def same_identifier(a: str, b: str) -> bool:
    """Return whether two identifiers name the same thing once normalised (see
    :func:`normalize_identifier`); blank identifiers never match."""
    na, nb = normalize_identifier(a), normalize_identifier(b)
    return bool(na) and na == nb
