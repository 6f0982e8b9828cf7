"""The page's title: its headline.

The heading (``<h1>``, ``itemprop=headline``, ``.entry-title``, ...) that the meta
titles (``og:title``, JSON-LD ``headline``, ``twitter:title``, the feed's title,
``<title>``) name, without a kicker set apart in its markup (a line, a classed span, a
leading ``<em>``; when meta titles name both a kicker and the headline, the later wins;
one the heading ends with a colon stays when they name it all) or a shown ``<time>`` or
ruby readings (``<rt>``); on a tie an ``<h1>``, then the longer text (a section's name
is short); the page's only ``<h1>`` instead when it starts with that heading and goes
on. Another ``<h2>`` that a meta title names exactly comes next, and first when two or
more name it and a single one names the heading (og:title and JSON-LD the ``<h2>``, an
SEO ``<title>`` the ``<h1>``); else the page's only ``<h1>``, or of several the only one
inside an ``<article>`` (the others: a newsletter box, a sidebar); else, without an
``<h1>``, its only ``<h2>`` that markup declares the headline (``itemprop=headline``,
``.entry-title``, a link to the page itself); else, with no meta title but the
``<title>`` (often the page's name in the site's menu), the first ``<h2>`` of the page's
``<main>`` or article that is not hidden (``sr-only``, ``text-hide``), or of a page
without one the first when it shares a word with the ``<title>`` (``Bootsdienst
Ausbildung`` under ``Feuerwehr Oldenburg - Ausbildung``); else the piece that meta
titles which differ all have (``Preview: Headline`` and ``News: Headline``); else the
first meta title of more than one word. Meta titles, and headings at their end, lose the
site's name (``Headline | Site``, ``Headline | AOC media - Analyse``, ``标题-新华网``) and a
date set before the headline; the site is known from ``og:site_name``, JSON-LD, the host
name or a logo heading, and a heading that starts with it is a banner, not the headline.
Headings lose marks set before them like a bullet (``[> Name``, ``» Headline``); one
whose class names a kicker (``strapline``, ``article__topline``, ``-kicker``) is none. A
meta title cut short by an unescaped quote in its attribute is made whole from another.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from ingest.metadata.page import _clean, _is_site, _key, _Page, _site_keys, _text
from ingest.metadata.rules import metadata_rules
from ingest.metadata.xpaths import (
    ARTICLE_H1S,
    CHILD_LINK_HREFS,
    H2S,
    HEADLINES,
    IN_FOOTER,
    LINK_HREFS,
    LINKED_SUBHEADS,
    TITLE_ELEMENT,
)

_RULES = metadata_rules().titles

_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff01-\uff60"
# CJK titles have no spaces: there a bare dash or underscore between two
# ideographs is a separator too ("标题-新华网").
_SITE_SEPARATORS = (
    rf"\s+(?:[|│–—·•»«/~*]|-|::|\|\||>>)\s+|\s*[|│]\s*|(?<=[{_CJK}])[-_](?=[{_CJK}])"
)
_SEPARATORS = re.compile(rf"{_SITE_SEPARATORS}|\s+:\s+|(?<=[^\s\d]):\s+")
_TAIL = re.compile(_SITE_SEPARATORS)
# a kicker's class, alone or ending a BEM name (``article__topline``; not ``typo_topline``)
_KICKER = re.compile(rf"(?:^|\s|-|__)(?:{'|'.join(_RULES.kicker_classes)})(?:\s|$)")
_BRANDING = re.compile("|".join(_RULES.branding_classes))  # a logo, or hidden from sight


@dataclass(slots=True, frozen=True)
class _Source:
    """One place that names the title: its text and the pieces it is made of (the
    runs between separators of a meta title, the child elements of a heading)."""

    kind: str
    text: str
    pieces: tuple[str, ...]


def _title(page: _Page, feed_title: str | None) -> str | None:
    """The page's headline: the heading that the meta titles confirm (without its
    kicker); else an ``<h2>`` that one of them names exactly (first when two or more
    name it and one alone names that heading); else the page's only ``<h1>`` (where
    nothing agrees, the visible headline was right far more often than an SEO title)
    or of several the only one in an ``<article>``; or without one its only ``<h2>``
    declared a headline, or the first ``<h2>`` of its ``<main>`` when only a
    ``<title>`` names the page; else the piece that meta titles which differ share;
    else the first meta title of more than one word. The only ``<h1>`` wins over a
    confirmed heading it starts with (:func:`_fuller_h1`)."""
    headings, subheads, metas = _title_sources(page, feed_title)
    h1s = {_key(h.text): h.text for h in headings if h.kind == "h1"}  # copies count once
    found = _confirmed_heading(headings, metas)
    if not found or found[0] < MIN_H2_VOTES:  # else no <h2> can win: skip their votes
        other = _confirmed_heading(subheads, metas, 1.0)
        if other and (not found or 1 <= found[0] < MIN_H2_VOTES <= other[0]):
            found = other
    if found:
        return _fuller_h1(found[1], h1s, headings + subheads)
    if len(h1s) == 1:
        return next(iter(h1s.values()))
    if len(h1s) > 1 and (inside := _article_h1(page, h1s)):
        return inside
    declared = {_key(h.text): h.text for h in headings if h.kind == "h2"}
    if not h1s and len(declared) == 1:
        return next(iter(declared.values()))
    if not h1s and all(m.kind == "title" for m in metas) and (first := _first_h2(page, metas)):
        return first
    if shared := _shared_piece(metas):
        return shared
    if metas:  # a lone word is a section's name more often than a headline
        return _lone_title(max(metas, key=lambda m: _words(m.text) > 1))
    return headings[0].text if headings else None


def _article_h1(page: _Page, h1s: dict[str, str]) -> str | None:
    """The only ``<h1>`` inside an ``<article>`` of a page with several (the others:
    a newsletter box, a sidebar)."""
    inside = (_heading_source(h1) for h1 in page.tree.xpath(ARTICLE_H1S))
    found = {_key(h.text) for h in inside if h} & h1s.keys()
    return h1s[found.pop()] if len(found) == 1 else None


def _first_h2(page: _Page, metas: list[_Source]) -> str | None:
    """The first shown ``<h2>`` of the article the page marks (:attr:`_Page.article_element`);
    of a page that marks none, its first when it shares a word (not a short one) with
    a meta title."""
    article = page.article_element
    for h2 in (page.tree if article is None else article).iter("h2"):
        if not _is_branding(h2) and (found := _heading_source(h2)):
            if article is not None:
                return found.text
            words = {w for w in _word_set(found.text) if len(w) >= MIN_SHARED_CHARS}
            return found.text if any(words & _word_set(m.text) for m in metas) else None
    return None


MIN_SHARED_CHARS = 4  # "the", "und", "des" are shared by chance
MIN_H2_VOTES = 2  # an <h2> beats a heading one meta title names when this many name it


def _confirmed_heading(
    headings: list[_Source], metas: list[_Source], floor: float = 0.0
) -> tuple[float, str] | None:
    """The heading text the meta titles confirm most (with at least ``floor`` votes);
    on a tie an ``<h1>``, then the longer text (the shorter is a section's name:
    ``<h1>News</h1>`` above the story's own ``<h1>``)."""
    best: tuple[float, bool, int, str] | None = None
    for heading in headings:
        votes, text = _confirmed(heading, metas)
        if not votes or votes < floor:
            continue
        rank = (votes, heading.kind == "h1", _words(text), text)
        if best is None or (rank[:3] > best[:3] and _key(text) != _key(best[3])):
            best = rank  # the first of two copies keeps its case
    return (best[0], best[3]) if best else None


def _shared_piece(metas: list[_Source]) -> str | None:
    """The longest piece of more than one word that meta titles which differ all
    have: the headline, each adding its own kicker or section (``Industriell
    Revolutioniert?: Anno 1800 Beta`` and ``Vorschauen: Anno 1800 Beta``)."""
    if len({_key(m.text) for m in metas}) < 2:
        return None
    common: dict[str, str] = {}
    for number, meta in enumerate(metas):
        pieces = {_key(p): p for p in (meta.text, *meta.pieces) if _words(p) > 1}
        common = pieces if not number else {k: v for k, v in common.items() if k in pieces}
    return max(common.values(), key=len) if common else None


def _fuller_h1(found: str, h1s: dict[str, str], headings: list[_Source]) -> str:
    """The page's only ``<h1>`` when it starts with the text of another heading that
    the meta titles confirm and goes on (``Ultium Cells erhöht Gigafactory-Kapazität in
    Tennessee``): that heading is the page's teaser in a list, and the meta titles a
    shortened headline (``Ultium Cells erhöht Gigafactory-Kapazität``)."""
    key = _key(found)
    if len(h1s) != 1 or not any(h.text == found and h.kind != "h1" for h in headings):
        return found
    h1 = next(iter(h1s))
    return h1s[h1] if h1 != key and h1.startswith(key) else found


MIN_TITLE_WORDS = 3


def _lone_title(meta: _Source) -> str:
    """A meta title that nothing confirms. A ``<title>`` alone loses what follows its
    first separator (not a colon: headlines have those) when the first part is a
    phrase of its own: ``Headline – Blog`` with the blog's name known nowhere else."""
    first = _TAIL.split(meta.text, maxsplit=1)[0].strip()
    if meta.kind == "title" and first != meta.text and _words(first) >= MIN_TITLE_WORDS:
        return first
    return meta.text


def _words(text: str) -> int:
    """Words in a text, two CJK characters counting as one (no spaces there)."""
    return len(text.split()) + len(_CJK_CHARS.findall(text)) // 2


_CJK_CHARS = re.compile(f"[{_CJK}]")


def _confirmed(heading: _Source, metas: list[_Source]) -> tuple[float, str]:
    """How strongly the meta titles name this heading, and the heading text they
    name. A meta title that says it, or a run of its pieces, is a vote; a later run
    wins over an earlier one (kickers come first, so they are left out). Where none
    says it: half a vote for each that contains it or is contained in it (SEO titles
    add or drop words), then a quarter for each with mostly the same words or all of
    the heading's."""
    best = _named(heading, metas)
    if not best[0]:
        key = _key(heading.text)
        best = (0.5 * sum(_overlaps(key, _key(m.text)) for m in metas), heading.text)
    if not best[0]:
        words = _word_set(heading.text)
        similar = sum(any(_alike(words, _word_set(t)) for t in (m.text, *m.pieces)) for m in metas)
        best = (0.25 * similar, heading.text)
    return best


def _named(heading: _Source, metas: list[_Source]) -> tuple[float, str]:
    """The votes for the heading or its runs of pieces; a piece a meta title's piece
    only contains (``kostenloser Stromcheck`` for ``Kostenloser Stromcheck für
    private Haushalte``) half a vote. A run with as many votes as the whole heading
    wins, unless the heading shows its kicker with a colon (``<h1><span>Tanz in der
    Lokremise:</span> Mit allen Wassern gewaschen</h1>``): there the kicker is part of
    the headline the page prints, not a label set above it."""
    best = (0.0, heading.text)
    shown = any(piece.endswith(":") for piece in heading.pieces[:-1])
    for text in (heading.text, *_runs(heading.pieces)):
        key = _key(text)
        votes = float(sum(key == _key(m.text) or key in map(_key, m.pieces) for m in metas))
        if not votes and text in heading.pieces:
            votes = 0.5 * sum(any(_overlaps(key, _key(p)) for p in m.pieces) for m in metas)
        tie = votes == best[0] and not shown
        if votes and (votes > best[0] or tie or best[1] != heading.text):
            best = (max(votes, best[0]), text)
    return best


def _word_set(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


_WORD = re.compile(r"\w+")
MIN_SHARED_WORDS = 0.75


def _alike(heading: set[str], meta: set[str]) -> bool:
    """Mostly the same words, or all the heading's: an SEO title that reorders the
    headline's words or adds some (``Schnell aufgefrischtes Haar ... mit dem neuen
    Wellaflex``; ``Run Windows on Mac - Parallels Desktop 15 Virtual Machine for Mac``
    for ``Parallels Desktop 15 for Mac``)."""
    shared = len(heading & meta)
    return len(heading) >= MIN_TITLE_WORDS and (
        shared == len(heading) or shared >= MIN_SHARED_WORDS * max(len(heading), len(meta)))


def _overlaps(one: str, other: str) -> bool:
    short, long = sorted((one, other), key=len)
    return len(short) >= max(8, len(long) // 2) and short in long


def _title_sources(
    page: _Page, feed_title: str | None
) -> tuple[list[_Source], list[_Source], list[_Source]]:
    """The headline's headings, the page's other ``<h2>`` and its meta titles, each
    without the site's name."""
    site = _site_keys(page)
    elements = page.tree.xpath(HEADLINES) + _self_links(page)
    chosen = set(elements)
    others = [h2 for h2 in page.tree.xpath(H2S) if h2 not in chosen]
    headings: list[_Source] = []
    subheads: list[_Source] = []
    for element in elements + others:
        if _is_branding(element):
            site.add(_key(_text(element)))
        elif _KICKER.search(element.get("class", "")):
            continue
        elif heading := _heading_source(element):
            (headings if element in chosen else subheads).append(heading)
    metas = {
        "og": page.meta_first("og:title"),
        "jsonld": _clean(page.article.get("headline")) if page.article else None,
        "twitter": page.meta_first("twitter:title"),
        "feed": _clean(feed_title),
        "title": _clean(_text(page.tree.find(TITLE_ELEMENT))),
    }
    sources = [_meta_source(kind, text, site) for kind, text in metas.items() if text]
    sources = [_uncut(m, sources) for m in sources]
    return (
        _not_site(headings, site),
        _not_site(subheads, site),
        [m for m in sources if _key(m.text) not in site],
    )


def _not_site(headings: list[_Source], site: set[str]) -> list[_Source]:
    """Headings without the site's name, and none that only name the site."""
    trimmed = (_without_site(h, site) for h in headings)
    return [h for h in trimmed if not _names_site(h, site)]


def _uncut(meta: _Source, metas: list[_Source]) -> _Source:
    """A meta title whole again where an unescaped quote in its attribute cut it
    (``content="... Biden de "incapacitado""``) and another meta title goes on."""
    for other in metas:
        rest = other.text.removeprefix(meta.text)
        if rest != other.text and rest.lstrip()[:1] in _QUOTES:
            return _Source(meta.kind, other.text, other.pieces)
    return meta


_QUOTES = set("\"“”„«»")


def _names_site(heading: _Source, site: set[str]) -> bool:
    """A heading that is the site's name, or starts with it in a piece of its own:
    a banner (``<h1>ProNATs e.V.<br>Verein zur Unterstützung ...</h1>``)."""
    first = heading.pieces[0] if heading.pieces else ""
    return _key(heading.text) in site or _is_site(first, site)


def _without_site(heading: _Source, site: set[str]) -> _Source:
    """A heading without the site's name at its end: some pages print their
    ``<title>`` (``Headline | Site``) as the heading. (Not at its start: there a
    short site name is more often the headline's first words.)"""
    text = _join(_without_date(_strip_site(_split(heading.text, _TAIL), site, head=False)))
    return heading if text == heading.text else _Source(heading.kind, text, ())


def _self_links(page: _Page) -> list[HtmlElement]:
    """Headings that link to the page itself: a blog post's title above its text."""
    path = urlsplit(page.url).path.rstrip("/")
    if len(path) < 2:
        return []
    return [
        h
        for h in page.tree.xpath(LINKED_SUBHEADS)
        if any(urlsplit(str(href)).path.rstrip("/") == path for href in h.xpath(CHILD_LINK_HREFS))
    ]


_HOME_LINK = re.compile(r"(?:^|//[^/]+)/?(?:index\.\w+)?$")


def _is_branding(element: HtmlElement) -> bool:
    """A heading that names the site: a logo, or a link to the home page."""
    if _BRANDING.search(element.get("class", "")):
        return True
    links = element.xpath(LINK_HREFS)
    return len(links) == 1 and bool(_HOME_LINK.search(str(links[0]).strip()))


def _heading_source(element: HtmlElement) -> _Source | None:
    if element.xpath(IN_FOOTER):
        return None
    pieces = _pieces(element)
    if pieces:
        pieces[0] = _undecorated(pieces[0])
    text = " ".join(pieces)
    if not text or len(text) > 300:
        return None
    return _Source(element.tag, text, tuple(pieces) if len(pieces) > 1 else ())


def _undecorated(text: str) -> str:
    """A heading's text without the marks set before it like a bullet (``[> Jens
    Weber``, ``» Port reopens``); not a quote, nor a bracket closed later."""
    match = _DECORATION.match(text)
    if not match or (match[1].count("[") and "]" in text[match.end() :]):
        return text
    return text[match.end() :] or text


_DECORATION = re.compile(r"([\[<>»›|/\\•·~=–—-]+)\s+(?=\w)")


def _runs(pieces: Sequence[str]) -> list[str]:
    """The runs of pieces from either end: a kicker before the headline, a subtitle
    after it, or a headline whose markup splits it (``Hot <span>and</span> Fresh``)."""
    ends = range(1, len(pieces))
    return [" ".join(pieces[:i]) for i in ends] + [" ".join(pieces[i:]) for i in ends]


def _pieces(element: HtmlElement) -> list[str]:
    """A heading's text in the pieces its markup sets apart: a kicker in its own
    line or ``<span class>``, the headline."""
    pieces = (_clean(chunk) for chunk in "".join(_walk(element)).split(_MARK))
    return [p.rstrip("¶#§ ") for p in pieces if p and _key(p)]


_NOT_SHOWN = {"time", "rt", "rp"}  # a date; ruby readings set above the words
_BLOCKS = {"br", "div", "p", "small", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul"}
_MARK = "\x00"


def _walk(element: HtmlElement) -> Iterator[str]:
    """An element's text, a mark where a block or a classed span sets words apart;
    without a ``<time>`` (a date shown in the heading is no part of the headline) or
    ruby readings (``<rt>``: the kana set above a kanji)."""
    yield element.text or ""
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _NOT_SHOWN:
            mark = _MARK if _apart(child) else ""
            yield mark
            yield from _walk(child)
            yield mark
        yield child.tail or ""


def _apart(child: HtmlElement) -> bool:
    """A child that sets its words apart: a block, a classed span, or a kicker in
    emphasis before the headline (``<h1><em>Gedenktag</em> Erinnerung an ...</h1>``)."""
    if child.tag in _BLOCKS or (child.tag in {"span", "strong"} and child.get("class")):
        return True
    parent = child.getparent()
    first = parent.index(child) == 0 and not (parent.text or "").strip()
    return child.tag in _EMPHASIS and first and bool((child.tail or "").strip())


_EMPHASIS = {"em", "i", "b", "strong"}


def _meta_source(kind: str, text: str, site: set[str]) -> _Source:
    parts = _without_date(_strip_site(_split(text), site))
    ends = range(1, len(parts), 2)
    runs = [_join(parts[:i]) for i in ends] + [_join(parts[i + 1 :]) for i in ends]
    return _Source(kind, _join(parts), tuple(runs))


def _split(title: str, separators: re.Pattern[str] = _SEPARATORS) -> list[str]:
    """Text and separators alternating: ``['A', ' | ', 'B']``."""
    out: list[str] = []
    last = 0
    for match in separators.finditer(title):
        out += [title[last : match.start()], match.group()]
        last = match.end()
    return [*out, title[last:]]


def _strip_site(parts: list[str], site: set[str], *, head: bool = True) -> list[str]:
    """Drop the site's name from either end of a split title (or only its tail), a
    name with a separator of its own included (``Headline | AOC media - Analyse``)."""
    while len(parts) > 2 and (count := _site_parts(parts, site, tail=True)):
        parts = parts[: -count - 1]
    while head and len(parts) > 2 and (count := _site_parts(parts, site, tail=False)):
        parts = parts[count + 1 :]
    return parts


def _site_parts(parts: list[str], site: set[str], *, tail: bool) -> int:
    """How many parts (separators included) at one end name the site: one part that
    :func:`_is_site_part` accepts, or several that are exactly the site's name."""
    for count in range(1, len(parts) - 1, 2):
        run = parts[-count:] if tail else parts[:count]
        if _is_site_part(run[0], site) if count == 1 else _key(_join(run)) in site:
            return count
    return 0


def _without_date(parts: list[str]) -> list[str]:
    """Without a date set before the headline (``23.01.2022 - Headline``)."""
    return parts[2:] if len(parts) > 2 and _DATE_PART.fullmatch(parts[0].strip()) else parts


_DATE_PART = re.compile(
    r"\d{1,2}\.\s?\d{1,2}\.(?:\s?\d{2,4})?|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}"
)


def _join(parts: list[str]) -> str:
    return "".join(parts).strip()


def _is_site_part(part: str, site: set[str]) -> bool:
    """A title's part that names the site: :func:`_is_site`, or a long name among a
    few words (``EFC Bayrische Bembel Regensburg`` on bayrische-bembel.de)."""
    key = _key(part)
    return _is_site(part, site) or (
        len(part.split()) <= MAX_SITE_WORDS
        and any(len(s) >= MIN_BRAND_CHARS and s in key for s in site)
    )


MIN_BRAND_CHARS = 8  # a name this long is distinctive inside a few words
MAX_SITE_WORDS = 5
