"""Pick a news page's title, publication date, author and site name.

trafilatura's own metadata glues site names onto titles, keeps dates to the day
without a time zone and misses many bylines. :func:`page_metadata` reads the
page's own declarations (JSON-LD, ``<meta>``, microdata, headings, bylines) and
lets them confirm one another; trafilatura's guesses and the feed entry fill the
gaps. It is a pure function of its inputs (no I/O), so it runs in the extraction
workers. The rules and their order were chosen by measurement on the corpora in
``../shared/corpus`` (see ``tests/test_metadata.py``).

Title: the heading (``<h1>``, ``itemprop=headline``, ``.entry-title``, ...) that the
meta titles (``og:title``, JSON-LD ``headline``, ``twitter:title``, the feed's title,
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

``PageMetadata.date_source`` says which rule gave ``published_at``, tried in this
order:

=============  ===============================================================
``meta``       a ``<meta>`` publication date (``article:published_time``, ...); a
               generic one (``date``, ``dc.date``, ``dcterms.created``, ...) only
               when the page's date elements do not all show another day
``jsonld``     schema.org ``datePublished`` of the page's article in JSON-LD
``time``       markup: ``<time pubdate>``, ``itemprop=datePublished``
``text``       a date after a publication label ("Veröffentlicht am 16.08.2019",
               "Datum: 18.10.2021", "Published on", "Publié le"), else the first
               shown in a short date or byline element ("am 20.09.2020",
               "17/02/2022" but not "04/05/2022", April's or May's; not a
               clock such as "Aktuelle Zeit: ..."); in the article (``<main>``, the
               ``<article>`` with the headline) if it has one; else the first date
               in a short line of the 8 elements after the ``<h1>`` (the line
               under the headline, a figure's caption not); else a dateline (a
               paragraph that starts "29.11.2022 – ..." or "2021-10-16 | ...")
``feed``       the feed entry's date, when the caller trusts it as the publication
               date (a publisher's own feed; not an aggregator's crawl time nor an
               Atom ``<updated>``): the page's own date comes first
``htmldate``   htmldate's heuristics (trafilatura's date, when it is given)
``url``        a date in the URL path (``/2024/07/01/``, ``20240701``)
=============  ===============================================================

A bare day that ``meta``, ``jsonld`` or ``time`` declares gives way to a full
timestamp a later one of them declares on the day before or after: the same
publication, its day taken in another zone; else to the first date the article
shows, when that is the day before or after (``text``).

A date without a time zone is in the page's zone (a bare day at midnight); a UTC
timestamp is shown in it (UTC midnight, how CMSs write a bare day, is midnight
there); another offset is the publisher's and stays. The page's zone is the
source's ``zone``; when the source names none, the zone of the host's country
(``.de``, ``.com.ar``) or of the page's language where its speakers share one (``de``,
``ja``; not ``en`` or ``es``), unless the page declares an offset that zone never has;
else the offset the page declares on a timestamp (``<meta>``, JSON-LD, ``<time>``, or
a script restating one of its UTC timestamps in local time); else UTC. A declared
timestamp that the page shows in UTC, on another day than in its zone (a ``<time>``
of it that reads "26/12/2019" for ``2019-12-26T23:07:45Z``, or UTC's clock: "6 May
2022 - 2:00 a. m." for ``02:00Z``), stays in UTC: the page's day is the one it shows.
Modified dates only ever go to ``modified_at``.

Author: JSON-LD ``author``, ``rel=author``, ``itemprop=author``, author ``<meta>``
tags, ``.author``/``.byline`` elements, links to author pages, a "By Jane Doe"
line, the feed's author, trafilatura's; the first that names a person wins, the
publisher's name only when none does. Several authors are joined with ``"; "``; a
byline that names several people ("von Jane Doe und John Roe", author links side by
side) gives them all. Labels ("Von",
"Eingestellt von", "Interview:"), roles and degrees after a name ("Staff Writer",
"Chefredakteur", ", PhD"), handles and profile links are not names.
"""

from __future__ import annotations

import functools
import html as htmllib
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

MIN_YEAR = 1990
_SPACE = re.compile(r"\s+")


@dataclass(slots=True, frozen=True)
class PageMetadata:
    """What :func:`page_metadata` found; ``date_source`` is one of the module's codes."""

    title: str | None
    author: str | None
    published_at: datetime | None  # always timezone-aware
    date_source: str | None
    modified_at: datetime | None
    site_name: str | None
    zone: tzinfo | None = None  # the zone dates were read in: the source's, else the page's


def page_metadata(
    html: str | HtmlElement,
    url: str,
    *,
    zone: tzinfo | None,
    feed_title: str | None = None,
    feed_published_at: datetime | None = None,
    feed_author: str | None = None,
    fallback: Any = None,
    now: datetime | None = None,
) -> PageMetadata:
    """The page's metadata.

    ``html`` may be a parsed lxml tree, which is only read (parse once, share it with
    trafilatura). ``zone`` is the source's time zone; None when the source names
    none, and the page's own is inferred (:func:`_page_zone`). ``fallback`` is trafilatura's
    ``Document`` (or any object or dict with its ``title``, ``date``, ``author``,
    ``sitename``; each read only when needed): with a date, htmldate is not run
    again. ``now`` bounds future dates.
    """
    tree = parse_html(html) if isinstance(html, str) else html
    if tree is None:
        return PageMetadata(None, None, None, None, None, None)
    page = _Page(tree, url)
    now = now or datetime.now(UTC)
    zone = zone if zone is not None else _page_zone(page)
    published, source = _published(page, zone, now, feed_published_at, fallback)
    site_name = page.site_name or _clean(_field(fallback, "sitename"))
    return PageMetadata(
        title=_title(page, feed_title) or _clean(_field(fallback, "title")),
        author=_author(page, feed_author, lambda: _field(fallback, "author")),
        published_at=published,
        date_source=source,
        modified_at=_modified(page, zone, now),
        site_name=site_name,
        zone=zone,
    )


def parse_html(html: str) -> HtmlElement | None:
    """An lxml tree; lxml refuses str input that carries an XML encoding declaration."""
    if not html.strip():
        return None
    try:
        try:
            return lxml.html.document_fromstring(html)
        except ValueError:
            parser = lxml.html.HTMLParser(encoding="utf-8")
            return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except etree.ParserError:
        return None


def _field(fallback: Any, name: str) -> Any:
    if fallback is None:
        return None
    if isinstance(fallback, Mapping):
        return fallback.get(name)
    return getattr(fallback, name, None)


def _clean(value: Any) -> str | None:
    """Whitespace collapsed, entities decoded (some pages escape them twice)."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", htmllib.unescape(value).translate(_INVISIBLE)).strip()
    return text or None


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


# --- the page's declarations ------------------------------------------------------


class _Page:
    """What the rules read from one tree, each part computed once."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.meta = _meta_tags(tree)
        self.jsonld = list(_jsonld_objects(tree))
        self.article = _main_object(self.jsonld)
        self.site_name = self._site_name()

    @functools.cached_property
    def article_element(self) -> HtmlElement | None:
        """The article, when the page marks it: its ``<main>``, the ``<article>`` that
        holds the headline, or its only ``<article>`` (several without the headline
        are teasers of other pages)."""
        found = self.tree.xpath("(//article[.//h1]|//main)[1]")
        if not found:
            articles = self.tree.xpath("//article")
            found = articles if len(articles) == 1 else []
        return found[0] if found else None

    @functools.cached_property
    def date_boxes(self) -> list[HtmlElement]:
        """Date and byline elements, in the article when it has some."""
        article = self.article_element
        boxes: list[HtmlElement] = [] if article is None else article.xpath(".//*" + _DATE_BOX)
        return boxes or self.tree.xpath("//body//*" + _DATE_BOX)

    @functools.cached_property
    def timestamps(self) -> list[str]:
        """Where the page declares timestamps: ``<meta>``, JSON-LD, ``<time datetime>``."""
        values = [v for values in self.meta.values() for v in values]
        for obj in self.jsonld:
            values += (v for k, v in obj.items()
                       if k.startswith(_JSONLD_DATES) and isinstance(v, str))
        return values + [str(v) for v in self.tree.xpath(_OFFSET_MARKUP)]

    def meta_first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if cleaned := _clean(value):
                    return cleaned
        return None

    def _site_name(self) -> str | None:
        name = self.meta_first("og:site_name", "application-name")
        if name:
            return name
        for obj in self.jsonld:
            publisher = obj.get("publisher")
            if isinstance(publisher, Mapping) and (found := _clean(publisher.get("name"))):
                return found
        for obj in self.jsonld:
            is_site = bool(_types(obj) & {"website", "organization", "newsmediaorganization"})
            if is_site and (found := _clean(obj.get("name"))):
                return found
        return None


def _meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` contents by lower-cased name, property or itemprop, in page order."""
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _jsonld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every object in the page's JSON-LD blocks, ``@graph`` and lists flattened."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        data = _load_json(script.text or "")
        yield from _flatten(data)


def _load_json(text: str) -> Any:
    text = text.strip()
    for junk in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        text = text.replace(junk, "")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return None


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if isinstance(data.get(key), list | dict):
                yield from _flatten(data[key])


def _types(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _is_article(obj: Mapping[str, Any]) -> bool:
    return any(k.endswith(("article", "posting")) or k in _ARTICLE_TYPES for k in _types(obj))


_ARTICLE_TYPES = {"report", "review", "blog", "videoobject", "creativework"}


def _main_object(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The JSON-LD object describing the article: the first article type, else a
    web page; lists of teasers elsewhere on the page come later."""
    for test in (_is_article, lambda o: any(k.endswith("page") for k in _types(o))):
        for obj in objects:
            if test(obj):
                return obj
    return None


# --- title --------------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff01-\uff60"
# CJK titles have no spaces: there a bare dash or underscore between two
# ideographs is a separator too ("标题-新华网").
_SITE_SEPARATORS = (
    rf"\s+(?:[|│–—·•»«/~*]|-|::|\|\||>>)\s+|\s*[|│]\s*|(?<=[{_CJK}])[-_](?=[{_CJK}])"
)
_SEPARATORS = re.compile(rf"{_SITE_SEPARATORS}|\s+:\s+|(?<=[^\s\d]):\s+")
_TAIL = re.compile(_SITE_SEPARATORS)
_HEADLINE_XPATH = (
    "//h1"
    '|//*[@itemprop="headline"][not(self::meta)]'
    '|//*[self::h1 or self::h2 or self::h3][contains(@class, "entry-title")'
    ' or contains(@class, "post-title") or contains(@class, "article-title")'
    ' or contains(@class, "headline")]'
)
# a kicker's class, alone or ending a BEM name (``article__topline``; not ``typo_topline``)
_KICKER = re.compile(
    r"(?:^|\s|-|__)(?:kicker|strapline|overline|topline|roofline|dachzeile|eyebrow)(?:\s|$)"
)
_BRANDING = re.compile(
    r"site-title|site-name|logo|brand|screen-reader|sr-only|visually-hidden|text-hide"
)


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
    inside = (_heading_source(h1) for h1 in page.tree.xpath("//article//h1"))
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
    elements = page.tree.xpath(_HEADLINE_XPATH) + _self_links(page)
    chosen = set(elements)
    others = [h2 for h2 in page.tree.xpath("//h2") if h2 not in chosen]
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
        "title": _clean(_text(page.tree.find(".//title"))),
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
        for h in page.tree.xpath("//h2[a]|//h3[a]")
        if any(urlsplit(str(href)).path.rstrip("/") == path for href in h.xpath("a/@href"))
    ]


_HOME_LINK = re.compile(r"(?:^|//[^/]+)/?(?:index\.\w+)?$")


def _is_branding(element: HtmlElement) -> bool:
    """A heading that names the site: a logo, or a link to the home page."""
    if _BRANDING.search(element.get("class", "")):
        return True
    links = element.xpath(".//a/@href")
    return len(links) == 1 and bool(_HOME_LINK.search(str(links[0]).strip()))


def _heading_source(element: HtmlElement) -> _Source | None:
    if element.xpath("ancestor::footer"):
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


def _is_site(part: str, site: set[str]) -> bool:
    """The site's name, or its name and a word or two (``Harper's Magazine`` on
    harpers.org): never a headline that starts with the brand."""
    key = _key(part)
    return bool(key) and any(
        key == s or (len(s) >= 4 and key.startswith(s) and len(key) <= len(s) + MAX_SITE_SUFFIX)
        for s in site
    )


def _is_site_part(part: str, site: set[str]) -> bool:
    """A title's part that names the site: :func:`_is_site`, or a long name among a
    few words (``EFC Bayrische Bembel Regensburg`` on bayrische-bembel.de)."""
    key = _key(part)
    return _is_site(part, site) or (
        len(part.split()) <= MAX_SITE_WORDS
        and any(len(s) >= MIN_BRAND_CHARS and s in key for s in site)
    )


MAX_SITE_SUFFIX = 12
MIN_BRAND_CHARS = 8  # a name this long is distinctive inside a few words
MAX_SITE_WORDS = 5


def _text(element: HtmlElement | None) -> str | None:
    if element is None:
        return None
    return str(element.text_content())


_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "go", "gv"}


def _site_keys(page: _Page) -> set[str]:
    """The site's name in the forms a title or byline may use: the declared name,
    the host, the host's brand label (``elpais`` of ``www.elpais.com.uy``)."""
    keys = {_key(page.site_name)} if page.site_name else set()
    host = (urlsplit(page.url).hostname or "").removeprefix("www.")
    labels = host.split(".")[:-1]
    if labels and labels[-1] in _SECOND_LEVEL and len(labels) > 1:
        labels.pop()
    if labels:
        keys |= {_key(host), _key(".".join(labels)), _key(labels[-1])}
    return keys - {""}


@functools.lru_cache(maxsize=4096)  # the rules compare the same few titles many times
def _key(text: str | None) -> str:
    """Case, punctuation, spacing and accents ignored (umlauts spelt out, as in host
    names): how candidates are compared."""
    text = (text or "").casefold().translate(_UMLAUTS)
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text))


_NOT_ALNUM = re.compile(r"[\W_]+")


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


# --- dates --------------------------------------------------------------------------

_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "article.published",
    "published_time",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "dc.date.issued",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "article_date_original",
    "originalpublicationdate",
)
_GENERIC_META = ("date", "dc.date", "dcterms.date", "dc.date.created", "dcterms.created")
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
)
_PUBLISHED_MARKUP = (  # one pass for both attributes: an XPath step costs a walk of the page
    '//time[@pubdate]/@datetime'
    '|//*[@itemprop="datePublished"]/@*[name() = "datetime" or name() = "content"]'
)
_ISO = re.compile(
    r"(?P<y>\d{4})(?P<sep>[-/.]?)(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)
_DAY_FIRST = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})"
    r"(?:\D{1,4}(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?(?P<tz>)"
)
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})/(?P<m>[01]?\d)/(?:(?P<d>[0-3]?\d)/)?"
    r"|[/_-](?P<y2>(?:19|20)\d{2})-?(?P<m2>[01]\d)-?(?P<d2>[0-3]\d)(?=[/_.-]|$)"
)


def _published(
    page: _Page, zone: tzinfo, now: datetime, feed: datetime | None, fallback: Any
) -> tuple[datetime | None, str | None]:
    """The first rule that finds a date, in the order of the module docstring
    (``meta`` before ``jsonld``: on the development half it was right more often
    when they disagree)."""
    rules: dict[str, Callable[[], datetime | None]] = {
        "meta": lambda: _first_date(page.meta_first(*_PUBLISHED_META), zone, now)
        or _generic_meta_date(page, zone, now),
        "jsonld": lambda: _jsonld_date(page, "datePublished", zone, now),
        "time": lambda: _markup_date(page, zone, now),
        "text": lambda: _labelled_date(page, zone, now) or _visible_date(page, zone, now)
        or _headline_date(page, zone, now) or _dateline_date(page, zone, now),
        "feed": lambda: _aware(feed, zone, now) if feed else None,
        "htmldate": lambda: _unless_modified(_htmldate(page, fallback, zone, now), page, zone,
                                             now),
        "url": lambda: _url_date(page.url, zone, now),
    }
    for source, rule in rules.items():
        if (found := rule()) is not None:
            if source in _DECLARED and found.time() == time(0):
                found, source = _with_time(found, source, rules)
                if found.time() == time(0) and (shown := _shown_day(page, found, zone, now)):
                    return shown, "text"
            if source in _DECLARED and found.time() != time(0) and _shown_in_utc(page, found, now):
                found = found.astimezone(UTC)
            return found, source
    return None, None


_DECLARED = ("meta", "jsonld", "time")


def _with_time(
    day: datetime, source: str, rules: Mapping[str, Callable[[], datetime | None]]
) -> tuple[datetime, str]:
    """A declared bare day, or a later declaration's full timestamp that falls on
    the day before or after it: the same publication, its day taken in another
    zone (or the day it was written for print); the timestamp, shown in the
    page's zone, is the day the page shows."""
    for later in _DECLARED[_DECLARED.index(source) + 1 :]:
        found = rules[later]()
        if found is not None and found.time() != time(0) and _day_apart(found, day):
            return found, later
    return day, source


def _shown_in_utc(page: _Page, found: datetime, now: datetime) -> bool:
    """Whether the page shows a declared timestamp that falls on another day in UTC
    than in the page's zone with UTC's day: in a date element holding a ``<time>``
    of that instant, or with UTC's clock ("6 May 2022 - 2:00 a. m." for
    ``02:00:00Z``). Such a site shows UTC, and its day is the one it shows."""
    utc = found.astimezone(UTC)
    if utc.date() == found.date():
        return False
    for element in page.date_boxes:
        text = _short_text(element, MAX_DATE_BOX_CHARS)
        if not text or not _spells(text, utc, now) or _spells(text, found, now):
            continue
        stamps = element.xpath("descendant-or-self::time/@datetime")
        if any(_timestamp(str(stamp)) == found for stamp in stamps) or _shows_clock(text, utc):
            return True
    return False


def _spells(text: str, day: datetime, now: datetime) -> bool:
    """Whether ``text`` shows ``day``: its first date as :func:`_text_date` reads it,
    or a day and month either way round before the year ("26/12/2019")."""
    if (found := _text_date(text, UTC, now)) is not None:
        return found.date() == day.date()
    either = {(day.day, day.month), (day.month, day.day)}
    return any(
        int(year) == day.year and (int(one), int(two)) in either
        for one, two, year in _SLASH_DATE.findall(text)
    )


def _shows_clock(text: str, moment: datetime) -> bool:
    """Whether ``text`` shows the hour and minute of ``moment`` ("2:00 a. m.", "14:05")."""
    for hour, minute, half in _CLOCK.findall(text):
        hours = int(hour) % 12 + (12 if half[:1].lower() == "p" else 0) if half else int(hour)
        if (hours, int(minute)) == (moment.hour, moment.minute):
            return True
    return False


_SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)\s*([ap]\.?\s?m\b\.?)?", re.IGNORECASE)


def _day_apart(one: datetime, other: datetime) -> bool:
    return abs((one.date() - other.date()).days) == 1


def _shown_day(page: _Page, day: datetime, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date the article shows, when a declared bare day falls on the day
    before or after it: the same publication, its day taken in another zone (CMSs
    write a day at UTC midnight or in the server's zone), and the page's own day is
    the one it shows."""
    shown = _article_date(page, zone, now)
    return shown if shown is not None and _day_apart(shown, day) else None


def _article_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date shown in the article's own date elements (not the page's)."""
    return next(_visible_dates(page, zone, now), None) if _boxes_in_article(page) else None


def _boxes_in_article(page: _Page) -> bool:
    """Whether the page's date elements are its article's (the page's chrome when
    the article has none)."""
    article, boxes = page.article_element, page.date_boxes
    return article is not None and bool(boxes) and article in boxes[0].iterancestors()


def _generic_meta_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """A generic ``<meta name="date">`` (``dc.date``, ``dcterms.created``, ...), unless
    the page's date elements all show one other day: many CMSs fill it with the
    time the page was generated, created or last edited, not published (the
    shown day's rule gives the date then). Measured on the development half: 3
    more right, none fewer; a date element shown among others (an event list) does
    not outvote it."""
    found = _first_date(page.meta_first(*_GENERIC_META), zone, now)
    if found is None:
        return None
    if page.article_element is not None and not _boxes_in_article(page):
        return found  # the page's chrome shows dates (today's), its article none
    shown = {day.date() for day in _visible_dates(page, zone, now)}
    return None if len(shown) == 1 and found.date() not in shown else found


def _unless_modified(
    found: datetime | None, page: _Page, zone: tzinfo, now: datetime
) -> datetime | None:
    """htmldate's guess, unless it falls on a day the page declares as a modification
    (htmldate reads ``og:updated_time`` and its kin when nothing better is there)."""
    if found is None:
        return None
    modified = {
        day.date()
        for day in (
            _jsonld_date(page, "dateModified", zone, now),
            *(_first_date(v, zone, now) for key in _MODIFIED_META for v in page.meta.get(key, ())),
        )
        if day is not None
    }
    return None if found.date() in modified else found


def _modified(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    return _jsonld_date(page, "dateModified", zone, now) or _first_date(
        page.meta_first(*_MODIFIED_META), zone, now
    )


def _jsonld_date(page: _Page, key: str, zone: tzinfo, now: datetime) -> datetime | None:
    if page.article is None:
        return None
    value = page.article.get(key)
    return _first_date(value if isinstance(value, str) else None, zone, now)


def _markup_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    for value in page.tree.xpath(_PUBLISHED_MARKUP):
        if found := _first_date(str(value), zone, now):
            return found
    return None


_DATE_BOX = (  # [@class] first: the many contains() only for elements that have one
    "[self::time or @class][self::time or contains(@class, 'date') or contains(@class, 'Date')"
    " or contains(@class, 'time') or contains(@class, 'publish') or contains(@class, 'posted')"
    " or contains(@class, 'datum') or contains(@class, 'byline') or contains(@class, 'meta')]"
    "[not(contains(@class, 'update') or contains(@class, 'modif') or contains(@class, 'comment'))]"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan januar january janvier enero gennaio janeiro januari janv",
            "feb februar february fevrier février febrero febbraio fevereiro februari fev févr",
            "mar mär märz maerz march mars marzo março maart",
            "apr april avril abril aprile",
            "may mai mayo maggio maio mei",
            "jun juni june juin junio giugno junho",
            "jul juli july juillet julio luglio julho juil",
            "aug august août aout agosto augustus",
            "sep sept september septembre septiembre settembre setembro",
            "oct okt oktober october octobre octubre ottobre outubro",
            "nov november novembre noviembre novembro",
            "dec dez dezember december décembre decembre diciembre dicembre dezembro",
        ),
        start=1,
    )
    for name in names.split()
}
_WORD_DATE = re.compile(
    r"(?P<d1>\d{1,2})\.?\s+(?:de\s+)?(?P<m1>[^\W\d_]{3,10})\.?,?\s+(?:de\s+)?(?P<y1>\d{4})"
    r"|(?P<m2>[^\W\d_]{3,10})\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4})"
)


def _visible_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date shown in a short date or byline element ("am 20.09.2020",
    "June 13, 2019"), in the article when the page marks it (a date in the page's
    header is today's); updated and comment dates are not looked at."""
    return next(_visible_dates(page, zone, now), None)


def _visible_dates(page: _Page, zone: tzinfo, now: datetime) -> Iterator[datetime]:
    """The date each short date element shows, in page order."""
    for element in page.date_boxes:
        text = _short_text(element, MAX_DATE_BOX_CHARS)
        if text and not _NOW_LABEL.match(text) and (
            found := _text_date(element.get("datetime") or text, zone, now)
        ):
            yield found


# A clock the page shows (phpBB's "It is currently", "Aktuelle Zeit"): when it was served.
_NOW_LABEL = re.compile(
    r"(?:it is currently|current time|aktuelle zeit|es ist jetzt|today is|heute ist)\b",
    re.IGNORECASE,
)


def _headline_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """The date of a short element just after the headline (the article's first
    ``<h1>``, else the page's): the line under it with the date and byline
    ("1. Februar 2022, Daniel Dillenburg"), whatever its markup; not a picture's
    caption ("An MSC cargo ship leaves PortMiami, on Aug. 31, 2019")."""
    root = page.article_element if page.article_element is not None else page.tree
    headline = next(root.iter("h1"), None)
    if headline is None:
        return None
    for element in itertools.islice(_following(headline), MAX_HEADLINE_FOLLOWERS):
        if element.tag in _CODE or element.xpath("ancestor-or-self::figure"):
            continue
        text = _short_text(element, MAX_DATE_BOX_CHARS)
        if text and not _NOW_LABEL.match(text) and (found := _text_date(text, zone, now)):
            return found
    return None


def _following(element: HtmlElement) -> Iterator[HtmlElement]:
    """The elements after ``element`` in page order (XPath's ``following::*``), lazily."""
    node: HtmlElement | None = element
    while node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter(etree.Element)
        node = node.getparent()


MAX_HEADLINE_FOLLOWERS = 8


def _dateline_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """The date of a dateline: a paragraph of the article that starts with its
    date and a dash or bar ("29.11.2022 – Mehrfach ...", "Berlin, 29.11.2022 - ...",
    "2021-10-16 | Botschaft")."""
    root = page.article_element if page.article_element is not None else page.tree.body
    if root is None:
        return None
    for paragraph in itertools.islice(root.iter("p"), MAX_DATELINE_PARAGRAPHS):
        head = "".join(itertools.islice(paragraph.itertext(), 4))[:MAX_DATELINE_CHARS]
        if (match := _DATELINE.match(head)) and (found := _text_date(match["date"], zone, now)):
            return found
    return None


MAX_DATELINE_PARAGRAPHS = 30
MAX_DATELINE_CHARS = 60
_DATELINE = re.compile(  # an optional place, the date (as _text_date reads it), a dash or bar
    r"\s*(?:[^\W\d][\w ./()-]{0,30},\s*)?"
    r"(?P<date>\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}\.?\s+[^\W\d]{3,10}\.?,?\s+\d{4}|[^\W\d]{3,10}\.?\s+\d{1,2},?\s+\d{4})"
    r"\s*[–—|-]\s"
)


def _labelled_date(page: _Page, zone: tzinfo, now: datetime) -> datetime | None:
    """The first date after a publication label ("Veröffentlicht am 16.08.2019",
    "Datum: 18.10.2021" with label and value in elements of their own, "Publié le
    3 mars 2020") in the article, else in the page; never a comment's."""
    article = page.article_element
    first: datetime | None = None
    for owner, texts in _labelled_texts(page.tree.body):
        found = next(filter(None, (_label_date(text, zone, now) for text in texts)), None)
        if found is not None:
            if article is None or article is owner or article in owner.iterancestors():
                return found
            first = first or found
    return first


def _label_date(text: str, zone: tzinfo, now: datetime) -> datetime | None:
    match = _PUBLISHED_LABEL.match(text)
    return _text_date(match["rest"], zone, now) if match else None


def _labelled_texts(root: HtmlElement | None) -> Iterator[tuple[HtmlElement, Iterator[str]]]:
    """Each element under ``root`` with a text that holds a publication label, and
    that text from the label on, then the same from the element's text and its
    parent's while they are short (a label and its value may sit in elements of
    their own); not in scripts, styles or comments."""
    if root is None:
        return
    for element in _label_holders(root):
        own = element.text if isinstance(element.tag, str) and element.tag not in _CODE else None
        texts = (own, element), (element.tail, element.getparent())
        for text, owner in texts:
            if not text or owner is None or not _LABEL_WORD.search(text.lower()):
                continue
            match = _PUBLISHED_LABEL.search(text)
            if match and not owner.xpath("ancestor-or-self::*[contains(@class, 'comment')]"):
                label = _clean(text[match.start() :]) or ""  # spaced as _short_text spaces
                yield owner, itertools.chain((label,), _from_label(owner, label))


def _label_holders(root: HtmlElement) -> list[HtmlElement]:
    """The elements under ``root`` (and it) whose text or tail may hold a label word,
    and the comments whose tail may, in the order of ``root.iter()``. Found in C
    rather than by a Python loop over every element (~1.5 ms a page): the words'
    spellings in the page's whole text, lower-cased as bytes (cheaply), then the text
    nodes that contain one of them."""
    text = etree.tostring(root, method="text", encoding="utf-8", with_tail=True)
    lowered = text.lower()
    spellings: set[str] = set()
    for word in _LABEL_BYTES:  # bytes.find is much faster than a regex alternation
        start = lowered.find(word)
        while start >= 0:
            spellings.add(text[start : start + len(word)].decode())
            start = lowered.find(word, start + 1)
    if not spellings:
        return []
    has = " or ".join(f"contains(., '{spelling}')" for spelling in sorted(spellings))
    nodes = root.xpath(
        f"descendant::text()[{has}] | following-sibling::node()[1][self::text()][{has}]"
    )
    holders = {node.getparent() for node in nodes}  # the node a text or tail is of
    # Elements, and comments for their tails ("<!-- meta --> Veröffentlicht am ..."),
    # each where root.iter() has it: by its place among the nodes, not its text's (a
    # tail comes after the children).
    return sorted(
        (h for h in holders if isinstance(h.tag, str) or h.tag is etree.Comment),
        key=lambda h: h.xpath("count(ancestor::node()) + count(preceding::node())"),
    )


def _from_label(element: HtmlElement, label: str) -> Iterator[str]:
    """The element's text, then its parent's, from ``label`` on, while they are short."""
    for around in (element, element.getparent()):
        short = _short_text(around, MAX_LABEL_CHARS) if around is not None else None
        if not short:
            return
        if (start := short.find(label)) >= 0:
            yield short[start:]


MAX_LABEL_CHARS = 120
_CODE = {"script", "style"}
_LABEL_WORDS = (
    "veröffentlicht", "veroffentlicht", "erschienen", "publiziert", "erstellt", "published",
    "posted", "publié", "publicado", "pubblicato", "gepubliceerd", "mis en ligne", "datum",
)
_LABELS = rf"(?<!\w)(?:{'|'.join(_LABEL_WORDS)})"
_LABEL_WORD = re.compile(_LABELS)  # on lower-cased text: much faster than IGNORECASE
# The label words as bytes.lower() leaves them in UTF-8 text (it lower-cases only
# ASCII): a letter beyond it in either case. No other character lower-cases to one
# of their letters, so each word _LABEL_WORD finds in lower-cased text is one of these.
_LABEL_BYTES = tuple(
    dict.fromkeys(
        variant.encode()
        for word in _LABEL_WORDS
        for variant in (word, "".join(c if c.isascii() else c.upper() for c in word))
    )
)
_PUBLISHED_LABEL = re.compile(
    _LABELS + r"(?:\s+(?:am|on|le|el|em|il|op))?\s*:?\s*(?P<rest>.{0,32})", re.IGNORECASE
)


MAX_DATE_BOX_CHARS = 80


def _text_date(text: str, zone: tzinfo, now: datetime) -> datetime | None:
    if found := _first_date(text, zone, now):
        return found
    match = _WORD_DATE.search(text)
    if not match:
        return _slash_date(text, zone, now)
    day, month, year = (match["d1"], match["m1"], match["y1"]) if match["d1"] else (
        match["d2"], match["m2"], match["y2"])
    number = _MONTHS.get(month.casefold())
    if number is None:
        return None
    return _valid(_build((int(year), number, int(day)), None, zone), now)


def _slash_date(text: str, zone: tzinfo, now: datetime) -> datetime | None:
    """The first ``17/02/2022`` or ``02/17/2022`` in ``text`` whose order is plain (one
    number above 12); ``04/05/2022`` is a day in May or in April, and says nothing."""
    for one, two, year in _SLASH_DATE.findall(text):
        first, second = int(one), int(two)
        if (first > 12) != (second > 12):
            day, month = (first, second) if first > 12 else (second, first)
            return _valid(_build((int(year), month, day), None, zone), now)
    return None


def _htmldate(page: _Page, fallback: Any, zone: tzinfo, now: datetime) -> datetime | None:
    """htmldate's guess. When the fallback carries a date (trafilatura's Document: it
    ran htmldate already), it is taken as it is; otherwise htmldate runs here."""
    if _has_date(fallback):
        return _first_date(_field(fallback, "date"), zone, now)
    from htmldate import find_date

    found = find_date(page.tree, extensive_search=True, original_date=True, url=page.url)
    return _first_date(found, zone, now)


def _has_date(fallback: Any) -> bool:
    if fallback is None:
        return False
    return "date" in fallback if isinstance(fallback, Mapping) else hasattr(fallback, "date")


def _url_date(url: str, zone: tzinfo, now: datetime) -> datetime | None:
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    year, month, day = (
        (match["y"], match["m"], match["d"] or "1")
        if match["y"]
        else (match["y2"], match["m2"], match["d2"])
    )
    return _valid(_build((int(year), int(month), int(day)), None, zone), now)


def _first_date(value: str | None, zone: tzinfo, now: datetime) -> datetime | None:
    """A timestamp read from ISO 8601, day-first (``25.01.2022 14:45``) or e-mail
    style (``Fri, 02 Aug 2019 10:00:00 GMT``) text; a naive one is in ``zone``."""
    if not value:
        return None
    match = _ISO.search(value) or _DAY_FIRST.search(value)
    if match:
        found = _valid(_from_match(match, zone), now)
    else:
        found = _valid(_email_date(value, zone), now)
    return _local(found, zone) if found is not None else None


def _from_match(match: re.Match[str], zone: tzinfo) -> datetime | None:
    """The datetime an ``_ISO`` or ``_DAY_FIRST`` match spells; naive ones in ``zone``."""
    fields = [int(match[k] or 0) for k in ("y", "m", "d", "H", "M", "S")]
    return _build(fields, match["tz"], zone)


def _email_date(value: str, zone: tzinfo) -> datetime | None:
    try:
        found = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return found if found.tzinfo else found.replace(tzinfo=zone)


def _build(fields: Sequence[int], offset: str | None, zone: tzinfo) -> datetime | None:
    """A datetime from year, month, day (hour, minute, second); None if impossible."""
    year, month, day, hour, minute, second = (*fields, 0, 0, 0)[:6]
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=_zone(offset, zone))
    except ValueError:
        return None


def _zone(offset: str | None, zone: tzinfo) -> tzinfo:
    if not offset:
        return zone
    if offset.upper() in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _local(value: datetime, zone: tzinfo) -> datetime:
    """A UTC timestamp shown in the page's zone: CMSs write UTC, readers (and the
    day a page shows) live in the publisher's zone. UTC midnight is a day (CMSs
    that keep only the day write it so): midnight in the zone. Other offsets are
    the publisher's own and stay."""
    if value.utcoffset() != timedelta(0):
        return value
    if value.time() == time(0):
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def _aware(value: datetime, zone: tzinfo, now: datetime) -> datetime | None:
    """A feed's timestamp by the same rules as the page's."""
    found = _valid(value if value.tzinfo else value.replace(tzinfo=zone), now)
    return _local(found, zone) if found is not None else None


def _valid(value: datetime | None, now: datetime) -> datetime | None:
    """No dates before the web's news era nor more than a day ahead."""
    if value is None or value.year < MIN_YEAR or value > now + timedelta(days=1):
        return None
    return value


# --- the page's time zone ------------------------------------------------------------


def _page_zone(page: _Page) -> tzinfo:
    """The zone of a page whose source names none. CMSs write UTC timestamps, while
    the day a page shows (and its readers') is the publisher's: the zone of the
    host's country (``.de``, ``.com.ar``) or of the page's language (``de``, spoken
    in one zone), unless the page declares an offset that zone never has; else the
    first non-UTC offset the page declares on a timestamp, or with which a script
    restates one of its UTC timestamps; else UTC."""
    declared = _declared_offset(page.timestamps)
    country = _country_zone(page.url) or _language_zone(page)
    if country is not None and (declared is None or _has_offset(country, declared)):
        return country
    if declared is None:
        declared = _restated_offset(page)
    return declared.tzinfo if declared is not None and declared.tzinfo is not None else UTC


def _has_offset(zone: tzinfo, declared: datetime) -> bool:
    """Whether ``zone`` has ``declared``'s offset in its summer or winter of that year
    (CMSs set to a fixed offset write summer time all year)."""
    offsets = {datetime(declared.year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    return declared.utcoffset() in offsets


# Where _Page.timestamps looks, besides <meta>: the markup's and JSON-LD's dates.
_OFFSET_MARKUP = (
    "//time/@datetime"
    "|//*[starts-with(@itemprop, 'date')]/@*[name() = 'content' or name() = 'datetime']"
)
_JSONLD_DATES = ("date", "uploadDate")  # the page's own: not an event's startDate


def _restated_offset(page: _Page) -> datetime | None:
    """A timestamp in a script that is, in a local offset, the instant of a UTC
    timestamp in the page's declarations (``"date":"2020-02-24T21:25:54-05:00"`` for
    ``article:published_time`` ``2020-02-25T02:25:54Z``). Only a restatement counts:
    scripts also carry ad servers' clocks and libraries' build times."""
    utc = {t for t in map(_timestamp, page.timestamps) if t and not t.utcoffset()}
    if not utc:
        return None
    scripts = page.tree.xpath("//script[not(@type='application/ld+json')]/text()")
    return _declared_offset(map(str, scripts), among=utc)


def _declared_offset(values: Iterable[str], among: set[datetime] | None = None) -> datetime | None:
    """The first timestamp with a UTC offset other than zero in ``values`` (one of the
    instants ``among``, when given)."""
    for value in values:
        for match in _ISO.finditer(value):
            offset = match["tz"]
            if not offset or offset.upper() in {"Z", "UTC", "GMT"} or not offset[1:].strip("0:"):
                continue
            found = _from_match(match, UTC)
            if found is not None and (among is None or found in among):
                return found
    return None


def _timestamp(value: str) -> datetime | None:
    """The first ISO 8601 timestamp in ``value`` that says its offset."""
    match = _ISO.search(value)
    return _from_match(match, UTC) if match and match["tz"] else None


def _country_zone(url: str) -> tzinfo | None:
    """The zone of the country whose top-level domain the host is in; for a country
    with several, the zone most of its people live in. Generic and vanity domains
    (``.com``, ``.io``, ``.tv``) say nothing."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    name = _COUNTRY_ZONES.get(host.rsplit(".", 1)[-1])
    return ZoneInfo(name) if name else None


def _language_zone(page: _Page) -> tzinfo | None:
    """The zone of the page's language (``<html lang>``, else ``og:locale``) when its
    speakers live in one zone: German, Dutch, Japanese; not English, Spanish,
    French, Portuguese or Arabic, nor a region (``en-US``, ``es-ES`` are CMSs'
    defaults, not the publisher's country)."""
    value = page.tree.get("lang") or page.meta_first("og:locale") or ""
    name = _LANGUAGE_ZONES.get(value.replace("_", "-").partition("-")[0].strip().lower())
    return ZoneInfo(name) if name else None


_LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "nl": "Europe/Amsterdam", "it": "Europe/Rome", "ca": "Europe/Madrid",
    "da": "Europe/Copenhagen", "sv": "Europe/Stockholm", "nb": "Europe/Oslo", "nn": "Europe/Oslo",
    "no": "Europe/Oslo", "pl": "Europe/Warsaw", "cs": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "sl": "Europe/Ljubljana", "hr": "Europe/Zagreb",
    "sr": "Europe/Belgrade", "fi": "Europe/Helsinki", "et": "Europe/Tallinn", "lv": "Europe/Riga",
    "lt": "Europe/Vilnius", "el": "Europe/Athens", "bg": "Europe/Sofia", "ro": "Europe/Bucharest",
    "uk": "Europe/Kyiv", "tr": "Europe/Istanbul", "he": "Asia/Jerusalem",
    "is": "Atlantic/Reykjavik", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh", "zh": "Asia/Shanghai", "hi": "Asia/Kolkata",
}


_COUNTRY_ZONES = {
    **dict.fromkeys(("uk", "gb"), "Europe/London"),
    "ie": "Europe/Dublin", "pt": "Europe/Lisbon", "is": "Atlantic/Reykjavik",
    "de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich", "li": "Europe/Vaduz",
    "fr": "Europe/Paris", "be": "Europe/Brussels", "nl": "Europe/Amsterdam",
    "lu": "Europe/Luxembourg", "it": "Europe/Rome", "es": "Europe/Madrid", "mt": "Europe/Malta",
    "dk": "Europe/Copenhagen", "se": "Europe/Stockholm", "no": "Europe/Oslo",
    "pl": "Europe/Warsaw", "cz": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "si": "Europe/Ljubljana", "hr": "Europe/Zagreb",
    "rs": "Europe/Belgrade", "ba": "Europe/Sarajevo", "mk": "Europe/Skopje", "al": "Europe/Tirane",
    "fi": "Europe/Helsinki", "ee": "Europe/Tallinn", "lv": "Europe/Riga", "lt": "Europe/Vilnius",
    "gr": "Europe/Athens", "bg": "Europe/Sofia", "ro": "Europe/Bucharest", "cy": "Asia/Nicosia",
    "ua": "Europe/Kyiv", "by": "Europe/Minsk", "ru": "Europe/Moscow", "tr": "Europe/Istanbul",
    "il": "Asia/Jerusalem", "eg": "Africa/Cairo", "sa": "Asia/Riyadh", "ae": "Asia/Dubai",
    "qa": "Asia/Qatar", "ma": "Africa/Casablanca", "ng": "Africa/Lagos", "ke": "Africa/Nairobi",
    "za": "Africa/Johannesburg", "in": "Asia/Kolkata", "pk": "Asia/Karachi", "bd": "Asia/Dhaka",
    "lk": "Asia/Colombo", "np": "Asia/Kathmandu", "th": "Asia/Bangkok", "vn": "Asia/Ho_Chi_Minh",
    "my": "Asia/Kuala_Lumpur", "sg": "Asia/Singapore", "id": "Asia/Jakarta", "ph": "Asia/Manila",
    "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "tw": "Asia/Taipei", "kr": "Asia/Seoul",
    "jp": "Asia/Tokyo", "au": "Australia/Sydney", "nz": "Pacific/Auckland",
    "us": "America/New_York", "ca": "America/Toronto", "mx": "America/Mexico_City",
    "gt": "America/Guatemala", "cr": "America/Costa_Rica", "pa": "America/Panama",
    "cu": "America/Havana", "do": "America/Santo_Domingo", "pr": "America/Puerto_Rico",
    "co": "America/Bogota", "ve": "America/Caracas", "ec": "America/Guayaquil",
    "pe": "America/Lima", "bo": "America/La_Paz", "cl": "America/Santiago",
    "ar": "America/Argentina/Buenos_Aires", "uy": "America/Montevideo",
    "py": "America/Asuncion", "br": "America/Sao_Paulo",
}


# --- author -------------------------------------------------------------------------

_AUTHOR_META = (
    "article:author",
    "og:article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "author",
)
_REL_AUTHOR = '//a[@rel="author"]'
_ITEMPROP_AUTHOR = '//*[@itemprop="author"]'
_BYLINE_CLASSES = (
    '//*[@class][contains(@class, "author") or contains(@class, "byline")]'
    '[not(contains(@class, "comment"))][not(ancestor::*[contains(@class, "comment")])]'
)
_LABEL = (
    r"(?:(?:post|article)\s+)?(?:author|autor(?:in)?|auteur|autore|verfasser(?:in)?|text"
    r"|fotos?|photos?|interview)"
    r"|(?:written|posted|published|geschrieben|verfasst|erstellt|eingestellt|ver[öo]ffentlicht"
    r"|publiziert|(?:ein\s+)?beitrag|escrito|publicado|escribe|redigido|zum profil)"
    r"(?:\s+(?:am|on|el|von|vom|by|por|de))?"
    r"|by|von|vom|par|por|door|di|av|af|de|da|mit|und"
)
_LEADING_LABELS = re.compile(rf"^(?:(?:{_LABEL})\b\s*[:&]?\s*)+", re.IGNORECASE)
_MONTH = r"(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?\s+\d"
_TRAILING = re.compile(
    rf"(?:\s+|\s*[|,–—·-]\s*)(?:(?:am|on|at|le|el|vor|den)\s+)?(?:\d|{_MONTH}).*$"
    r"|\s+(?:edited|photos?|fotos?|bilder?|illustrations?)\s+(?:by|von)\b.*$"
    r"|\s+@\w+$|\s*[|,–—·-]\s*$",
    re.IGNORECASE,
)
# After a name of two words or more: a role, a degree, an author page's link.
_ROLE_TAIL = re.compile(
    r"(?:\s+(?:alle artikel|all (?:articles|posts|stories)"
    r"|(?:senior |staff )?(?:writer|editor|reporter|correspondent|contributor)"
    r"|(?:chef)?redakteur(?:in)?"
    r"|korrespondent(?:in)?)|,?\s+(?:ph\.?\s?d|m\.?\s?d|m\.?\s?a|dr)\.?)$",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(
    r"https?://|www\.|@\w+\.\w|\w\.[a-z]{2,}/\S|\[at\]|^\W*$|[!?©]|^\d|^@"
    r"|^(?:geprüft|reviewed|fact.?checked|edited|photo(?:graph)?s?|bild|fotos?|illustrations?"
    r"|übersetzung|translat\w+|revised|mehr|more|alle|all|last|updated|aktualisiert"
    r"|datum|date|stand|vor|authors|autoren|archiv|archive|afficher|view|profile?)\b",
    re.IGNORECASE,
)
_NOT_NAMES = {"name", "follow", "noauthor", "unknown", "anonymous", "admin", "share", "more"}
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


_NAME_LIST = re.compile(r"\s*(?:[;,&]|\b(?:and|und|et|y)\b)\s*", re.IGNORECASE)


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
    r"\s[—–|-]\s|\s(?!(?:von|van|de|da|di|du|la|le|y|e|zu|del|dos|das|bin|al|ter|ten)\b)"
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
    yield from _markup_bylines(page, _REL_AUTHOR)
    yield from _markup_bylines(page, _ITEMPROP_AUTHOR)
    for key in _AUTHOR_META:
        values = [v for v in (clean_author(v) for v in page.meta.get(key, ())) if v]
        if values:
            yield _Byline("; ".join(dict.fromkeys(values)))
    yield from _markup_bylines(page, _BYLINE_CLASSES)
    yield from _markup_bylines(page, _AUTHOR_LINKS)
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


_AUTHOR_LINKS = (
    '//a[contains(@href, "/author/") or contains(@href, "/autor/") or contains(@href, "/authors/")'
    ' or contains(@href, "/autoren/") or contains(@href, "/newsteam/")]'
)
_BY_TEXT = re.compile(
    r"^(?i:(?:ein (?:artikel|beitrag) )?von|by|par|por)\s*:?\s*"
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
    Python loop over them, costs ~2 ms a page."""
    matches = map(_BY_WORD.match, _BODY_TEXTS(tree))
    found = itertools.compress(itertools.count(1), matches)  # the positions that match
    positions = " or ".join(f"position() = {n}" for n in found)
    return tree.xpath(f"(//body//text())[{positions}]") if positions else []


_BODY_TEXTS = etree.XPath("//body//text()", smart_strings=False)
# The text's first word (after XML white space or no-break spaces, up to the next) is
# "by", "von", "par", "por" (each maybe with a colon) or "ein", these letters in any case.
_BY_WORD = re.compile(
    r"[ \t\n\r\xa0]*(?:(?:[bB][yY]|[vV][oO][nN]|[pP][aAoO][rR]):?|[eE][iI][nN])(?:[ \t\n\r\xa0]|\Z)"
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


def _short_text(element: HtmlElement, limit: int) -> str | None:
    """The element's text, or None as soon as it runs longer than ``limit``."""
    parts: list[str] = []
    size = 0
    for part in element.itertext():
        size += len(part.strip())
        if size > limit:
            return None
        parts.append(part)
    return _clean(" ".join(parts))


def _markup_name(element: HtmlElement) -> str | None:
    named = element.xpath('.//*[@itemprop="name"]')
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
