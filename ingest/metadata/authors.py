"""The page's author: the names of the people who wrote it.

Looked for in JSON-LD ``author``, ``rel=author``, ``itemprop=author``, author ``<meta>``
tags, ``.author``/``.byline`` elements, links to author pages, a "By Jane Doe" line, the
feed's author, trafilatura's; the first that names a person wins, the publisher's name
only when none does. Several authors are joined with ``"; "``; a byline that names
several people ("von Jane Doe und John Roe", author links side by side) gives them all.
Labels ("Von", "Eingestellt von", "Interview:"), roles and degrees after a name ("Staff
Writer", "Chefredakteur", ", PhD"), handles and profile links are not names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from ingest.metadata.page import _clean, _is_site, _key, _Page, _short_text, _site_keys, _types
from ingest.metadata.rules import metadata_rules
from ingest.metadata.xpaths import (
    AUTHOR_LINKS,
    BODY_TEXTS,
    BODY_TEXTS_AT,
    BYLINE_CLASSES,
    ITEMPROP_AUTHOR,
    ITEMPROP_NAME,
    REL_AUTHOR,
)

_RULES = metadata_rules().authors
_AUTHOR_META = _RULES.author_meta


def _any(words: Iterable[str]) -> str:
    """The alternation of a list of ``rules/metadata.yml`` (regex alternatives)."""
    return "|".join(words)


_L = _RULES.labels
_LABEL = (
    rf"(?:(?:{_any(_L.noun_prefixes)})\s+)?(?:{_any(_L.nouns)})"
    rf"|(?:{_any(_L.verbs)})"
    rf"(?:\s+(?:{_any(_L.verb_prepositions)}))?"
    rf"|{_any(_L.words)}"
)
_LEADING_LABELS = re.compile(rf"^(?:(?:{_LABEL})\b\s*[:&]?\s*)+", re.IGNORECASE)
_MONTH = rf"(?:{_any(_RULES.month_stems)})[a-zä]*\.?\s+\d"
_TRAILING = re.compile(
    rf"(?:\s+|\s*[|,–—·-]\s*)(?:(?:{_any(_RULES.date_prepositions)})\s+)?(?:\d|{_MONTH}).*$"
    rf"|\s+(?:{_any(_RULES.credits)})\s+(?:{_any(_RULES.credit_prepositions)})\b.*$"
    r"|\s+@\w+$|\s*[|,–—·-]\s*$",
    re.IGNORECASE,
)
# After a name of two words or more: a role, a degree, an author page's link.
_ROLE_TAIL = re.compile(
    rf"(?:\s+(?:{_any(_RULES.roles)})|,?\s+(?:{_any(_RULES.degrees)})\.?)$",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(
    r"https?://|www\.|@\w+\.\w|\w\.[a-z]{2,}/\S|\[at\]|^\W*$|[!?©]|^\d|^@"
    rf"|^(?:{_any(_RULES.not_name_starts)})\b",
    re.IGNORECASE,
)
_NOT_NAMES = _RULES.not_names
MAX_AUTHOR_WORDS = 6


@dataclass(slots=True, frozen=True)
class _Byline:
    names: str
    organisation: bool = False


def _author(page: _Page, *fallbacks: Any) -> str | None:
    """A person's name from the most reliable place that has one; the publisher's
    name (many pages credit only it) when none does."""
    site = _site_keys(page)
    fallback = (  # a callable fallback is asked only when the page names nobody
        _Byline(n)
        for n in (clean_author(f() if callable(f) else f) for f in fallbacks)
        if n
    )
    bylines = itertools.chain(_bylines(page), fallback)
    first: str | None = None
    for byline in bylines:
        if not byline.organisation and not _is_site(byline.names, site):
            if people := _people(byline.names):
                return "; ".join(people)
            if _ROLE_WORDS.search(byline.names):
                return _without_role(byline.names, bylines)
            return byline.names
        first = first or byline.names
    return first


_NAME_LIST = re.compile(
    rf"\s*(?:[;,&]|\b(?:{_any(_RULES.name_conjunctions)})\b)\s*", re.IGNORECASE
)


def _people(text: str) -> list[str] | None:
    """The names of a byline that names several people ("Jane Doe und John Roe")."""
    parts = [part for part in _NAME_LIST.split(text) if part]
    return parts if 1 < len(parts) <= 4 and all(map(_a_name, parts)) else None


_BYLINE_LABEL = re.compile(rf"(?:{_LABEL})", re.IGNORECASE)


def _a_name(text: str) -> bool:
    """Two or three words, none of them a byline's label ("Veröffentlicht", "Text"),
    not ending with a role ("eHow Contributor")."""
    words = text.split()
    return 2 <= len(words) <= 3 and _ROLE_TAIL.search(text) is None and not any(
        len(word) > 3 and _BYLINE_LABEL.fullmatch(word) for word in words)


_ROLE_WORDS = re.compile(
    rf"\s[—–|-]\s|\s(?!(?:{_any(_RULES.name_particles)})\b)"
    r"[a-zäöüéè]{3,}\b"
)


def _without_role(names: str, others: Iterator[_Byline]) -> str:
    """``Jane Doe`` where the byline says ``Jane Doe — veröffentlicht`` or ``Alles von
    Jane Doe`` and another place on the page names her alone."""
    for other in others:
        if other.names != names and _ROLE_WORDS.search(other.names) is None and (
            re.search(rf"(?:^|\s){re.escape(other.names)}(?:\s|$)", names)
        ):
            return other.names
    return names


def _bylines(page: _Page) -> Iterator[_Byline]:
    """Each place that names the author, most reliable first (as measured)."""
    if page.article is not None:
        yield from _jsonld_bylines(page.article.get("author"))
    yield from _markup_bylines(page, REL_AUTHOR)
    yield from _markup_bylines(page, ITEMPROP_AUTHOR)
    for key in _AUTHOR_META:
        values = [v for v in (clean_author(v) for v in page.meta.get(key, ())) if v]
        if values:
            yield _Byline("; ".join(dict.fromkeys(values)))
    yield from _markup_bylines(page, BYLINE_CLASSES)
    yield from _markup_bylines(page, AUTHOR_LINKS)
    if found := _by_text(page.tree):
        yield _Byline(found)


def _jsonld_bylines(value: Any) -> Iterator[_Byline]:
    items = value if isinstance(value, list) else [value]
    people: list[str] = []
    organisations: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else item
        if isinstance(name, str) and (cleaned := clean_author(name)):
            is_org = isinstance(item, Mapping) and bool(_types(item) - {"person"})
            (organisations if is_org else people).append(cleaned)
    if people:
        yield _Byline("; ".join(dict.fromkeys(people)))
    if organisations:
        yield _Byline("; ".join(dict.fromkeys(organisations)), organisation=True)


def _markup_bylines(page: _Page, xpath: str) -> Iterator[_Byline]:
    """Bylines in the page's markup: first the names of the first one's siblings
    together; when a later one is the start of the first (``Jane Doe`` after ``Jane
    Doe Staff Writer``), the later one, without the role."""
    named = [(element, name) for element in page.tree.xpath(xpath)
             if (name := _markup_name(element))]
    if not named:
        return
    parent = named[0][0].getparent()
    together = list(dict.fromkeys(name for element, name in named
                                  if element.getparent() is parent))
    if 1 < len(together) <= 4 and all(map(_a_name, together)):
        yield _Byline("; ".join(together))  # "<a>Jane Doe</a> and <a>John Roe</a>"
    found = [name for _, name in named]
    first = found[0]
    shorter = [] if _people(first) else [n for n in found[1:] if first.startswith(n + " ")]
    yield _Byline(min(shorter, key=len) if shorter else first)
    for name in found[1:]:
        yield _Byline(name)


# A "By Jane Doe" line: "By", "Von", ... or a lead-in ("Ein Artikel von"), in any case.
_BY_TEXT = re.compile(
    rf"^(?i:{_any([*_RULES.by_line_lead_ins, *_RULES.by_line_words])})\s*:?\s*"
    r"(?P<name>(?:[A-ZÄÖÜÉ][\w.'’-]+\s*){2,4})$",
)
MAX_BYLINE_CHARS = 60


def _by_text(tree: HtmlElement) -> str | None:
    """The first short "By Jane Doe" / "Von Jane Doe" line of the page's body; the
    name may sit in its own element just after the word."""
    for node in _by_nodes(tree):
        owner = node.getparent()
        if found := _byline_around(owner.getparent() if node.is_tail else owner):
            return found
    return None


def _by_nodes(tree: HtmlElement) -> list[Any]:
    """The body's text nodes whose first word is a byline word, in page order. Their
    texts are read as plain strings and matched in C (``compress``/``map``), then the
    few that match fetched by position: an XPath test of every text node, or a
    Python loop over them, costs several times more."""
    matches = map(_BY_WORD.match, BODY_TEXTS(tree))
    found = itertools.compress(itertools.count(1), matches)  # the positions that match
    positions = " or ".join(f"position() = {n}" for n in found)
    return tree.xpath(BODY_TEXTS_AT.format(positions=positions)) if positions else []


def _any_case(word: str) -> str:
    """``word`` in any case, as a regex without IGNORECASE (``[bB][yY]``)."""
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


# The text's first word (after XML white space or no-break spaces, up to the next) is
# a byline word ("by", "von", ..., each maybe with a colon) or a lead-in's first ("ein"),
# these letters in any case.
_BY_FIRST = dict.fromkeys(lead.split()[0] for lead in _RULES.by_line_lead_ins)
_BY_WORD = re.compile(
    rf"[ \t\n\r\xa0]*(?:(?:{_any(map(_any_case, _RULES.by_line_words))}):?"
    rf"|{_any(map(_any_case, _BY_FIRST))})(?:[ \t\n\r\xa0]|\Z)"
)


def _byline_around(element: HtmlElement | None) -> str | None:
    """The name in a short "By ..." element or its parent."""
    for candidate in (element, None if element is None else element.getparent()):
        if candidate is None or not isinstance(candidate.tag, str):
            return None
        text = _short_text(candidate, MAX_BYLINE_CHARS)
        if text and (match := _BY_TEXT.match(text)):
            return clean_author(match["name"])
    return None


def _markup_name(element: HtmlElement) -> str | None:
    named = element.xpath(ITEMPROP_NAME)
    target = named[0] if named else element
    return clean_author(target.get("content") or " ".join(target.itertext()))


def clean_author(value: Any) -> str | None:
    """A byline reduced to names: no "By"/"Von"/"Autor:", no trailing date or
    handle, no URLs or e-mail addresses, nothing as long as a sentence."""
    text = _clean(value)
    if not text or _NOT_A_NAME.search(text):
        return None
    text = _TRAILING.sub("", _LEADING_LABELS.sub("", text)).strip(" ,;|-–:&»›→")
    if len((named := _ROLE_TAIL.sub("", text)).split()) >= 2:
        text = named
    words = text.split()
    half = len(words) // 2
    if half and words[:half] == words[half:]:  # a picture's alt text, then the name again
        words = words[:half]
        text = " ".join(words)
    if not words or len(words) > MAX_AUTHOR_WORDS or _key(text) in _NOT_NAMES:
        return None
    return None if _NOT_A_NAME.search(text) else text
