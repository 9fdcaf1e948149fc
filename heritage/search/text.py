"""Words for the search index: folding, old spellings, user queries and highlighted snippets.

The index and the query fold text the same way, so that what a reader types finds what a
cataloguer wrote whatever the case, accents or spelling: :func:`fold_words` is the duplicate
warning's :func:`~workflows.selection.normalize_title` (NFKD, accents and Arabic vowel marks
dropped, Jawi letter variants folded, casefold, punctuation made spaces) followed by
:func:`modern_spelling`, which rewrites a word spelt the pre-1972 way (*Tjerita Radja
Koetai*) as it is written today (*cerita raja kutai*) with the same tables the duplicate
warning uses. Nothing here knows Pyramid or ZODB.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from workflows.selection import modern_spelling, normalize_title

#: The longest query we parse, and the most words we look up for one.
MAX_QUERY_LENGTH = 500
MAX_TERMS = 16


@lru_cache(maxsize=200_000)
def _fold_chunk(chunk: str) -> tuple[str, ...]:
    return tuple(modern_spelling(w) for w in normalize_title(chunk).split())


def fold_words(text: str) -> list[str]:
    """Return the words of ``text`` as the index stores them (see the module docstring).

    Folded chunk by chunk between spaces (the same result as folding the whole text, since
    folding never joins across a space), with a cache: words repeat, folding is Python.
    """
    words: list[str] = []
    for chunk in text.split():
        words.extend(_fold_chunk(chunk))
    return words


#: Put between two metadata values in the indexed text; the splitter records it as a word
#: of its own (one no query can contain: folding makes control characters spaces), so that
#: a phrase never matches across two values ("… Banjar" ending one title, "Hikayat …"
#: starting the next).
BOUNDARY = "\x1e"


class FoldingSplitter:
    """The lexicon's whole pipeline: split and fold (no stop words: hypatia's default list is
    English, and dropping "the" before recording positions lets phrases match wrongly).

    Stored in the catalog's lexicon by reference to this class: keep its name and module.
    """

    def process(self, texts: Iterable[str]) -> list[str]:
        words: list[str] = []
        for text in texts:
            for i, part in enumerate(text.split(BOUNDARY)):
                if i:
                    words.append(BOUNDARY)
                words.extend(fold_words(part))
        return words

    processGlob = process  # hypatia's pipeline interface


# -- queries -----------------------------------------------------------------------------------

_QUOTED = re.compile(r'["“”„«»](.*?)(?:["“”„«»]|$)', re.DOTALL)


@dataclass(frozen=True)
class Query:
    """A parsed query: the words every hit must have, and the phrases (2+ words in order).

    Operators (``and``, ``or``, ``not``), globs and brackets are not syntax here: whatever a
    reader types is words, so no text can make the search fail.
    """

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    @property
    def terms(self) -> frozenset[str]:
        """Every folded word of the query (for highlighting)."""
        return frozenset(self.words).union(*self.phrases) if self.phrases else frozenset(self.words)


def parse_query(text: str) -> Query:
    """Return the :class:`Query` of a reader's text.

    Double quotes (straight or curly) make a phrase; an unclosed quote runs to the end. A
    chunk that folds to several words (``Hikayat-Banjar``, ``l'Islam``) is a phrase too.
    Repeated words count once; at most :data:`MAX_TERMS` terms are kept.
    """
    text = text[:MAX_QUERY_LENGTH]
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []

    def add(folded: list[str]) -> None:
        if len(folded) == 1:
            if folded[0] not in words:
                words.append(folded[0])
        elif len(folded) > 1 and tuple(folded) not in phrases:
            phrases.append(tuple(folded))

    last = 0
    for match in _QUOTED.finditer(text):
        for chunk in text[last : match.start()].split():
            add(fold_words(chunk))
        add(fold_words(match.group(1)))
        last = match.end()
    for chunk in text[last:].split():
        add(fold_words(chunk))
    kept_phrases = phrases[:MAX_TERMS]
    return Query(tuple(words[: MAX_TERMS - len(kept_phrases)]), tuple(kept_phrases))


# -- highlighting ------------------------------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category == "Cf" or category[0] not in "PSZC"


def _runs(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each run of word characters (as folding sees them)."""
    start = None
    for i, ch in enumerate(text):
        if _is_word_char(ch):
            if start is None:
                start = i
        elif start is not None:
            yield start, i
            start = None
    if start is not None:
        yield start, len(text)


def matches(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Return the spans of ``text`` whose words fold to one of ``terms``."""
    terms = frozenset(terms)
    if not terms:
        return []
    return [(a, b) for a, b in _runs(text) if terms.intersection(fold_words(text[a:b]))]


def highlight(text: str, terms: Iterable[str], spans: list[tuple[int, int]] | None = None) -> str:
    """Return ``text`` as HTML: escaped, with the words matching ``terms`` in ``<mark>``."""
    if spans is None:
        spans = matches(text, terms)
    out: list[str] = []
    last = 0
    for a, b in spans:
        out.append(html.escape(text[last:a]))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        last = b
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(text: str, terms: Iterable[str], width: int = 240) -> str:
    """Return HTML for up to about ``width`` characters of ``text`` around its first match
    (its start when nothing matches), highlighted, with ``…`` where it was cut."""
    spans = matches(text, terms)
    if len(text) <= width:
        return highlight(text, terms, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space > start - 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > end - 30 else end
    part = text[start:end]
    inside = [(a - start, b - start) for a, b in spans if a >= start and b <= end]
    before = "…" if start else ""
    after = "…" if end < len(text) else ""
    return before + highlight(part, terms, inside) + after
