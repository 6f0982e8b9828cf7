"""The page's publication date, and the date it was modified.

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
source's ``zone``, else the page's own (:mod:`ingest.metadata.zones`). A declared
timestamp that the page shows in UTC, on another day than in its zone (a ``<time>``
of it that reads "26/12/2019" for ``2019-12-26T23:07:45Z``, or UTC's clock: "6 May
2022 - 2:00 a. m." for ``02:00Z``), stays in UTC: the page's day is the one it shows.
Modified dates only ever go to ``modified_at``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from ingest.metadata.page import _clean, _field, _Page, _short_text
from ingest.metadata.rules import metadata_rules
from ingest.metadata.xpaths import (
    CONTAINS,
    DOCUMENT_ORDER,
    IN_COMMENT,
    IN_FIGURE,
    LABEL_TEXTS,
    PUBLISHED_MARKUP,
    TIME_STAMPS,
)

_RULES = metadata_rules().dates

MIN_YEAR = 1990
_PUBLISHED_META = _RULES.published_meta
_GENERIC_META = _RULES.generic_meta
_MODIFIED_META = _RULES.modified_meta
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
        stamps = element.xpath(TIME_STAMPS)
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
    for value in page.tree.xpath(PUBLISHED_MARKUP):
        if found := _first_date(str(value), zone, now):
            return found
    return None


_MONTHS = {
    name: number for number, names in enumerate(_RULES.months, start=1) for name in names
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
_NOW_LABEL = re.compile(rf"(?:{'|'.join(_RULES.now_labels)})\b", re.IGNORECASE)


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
        if element.tag in _CODE or element.xpath(IN_FIGURE):
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
            if match and not owner.xpath(IN_COMMENT):
                label = _clean(text[match.start() :]) or ""  # spaced as _short_text spaces
                yield owner, itertools.chain((label,), _from_label(owner, label))


def _label_holders(root: HtmlElement) -> list[HtmlElement]:
    """The elements under ``root`` (and it) whose text or tail may hold a label word,
    and the comments whose tail may, in the order of ``root.iter()``. Found in C
    rather than by a Python loop over every element: the words'
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
    has = " or ".join(CONTAINS.format(spelling=spelling) for spelling in sorted(spellings))
    nodes = root.xpath(LABEL_TEXTS.format(has=has))
    holders = {node.getparent() for node in nodes}  # the node a text or tail is of
    # Elements, and comments for their tails ("<!-- meta --> Veröffentlicht am ..."),
    # each where root.iter() has it: by its place among the nodes, not its text's (a
    # tail comes after the children).
    return sorted(
        (h for h in holders if isinstance(h.tag, str) or h.tag is etree.Comment),
        key=lambda h: h.xpath(DOCUMENT_ORDER),
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
_LABEL_WORDS = _RULES.published_labels
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
    _LABELS + rf"(?:\s+(?:{'|'.join(_RULES.published_label_prepositions)}))?"
    r"\s*:?\s*(?P<rest>.{0,32})",
    re.IGNORECASE,
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

    try:
        found = find_date(page.tree, extensive_search=True, original_date=True, url=page.url)
    except Exception:  # its guess fails on odd markup (an <svg> root): then it has none
        return None
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


def _timestamp(value: str) -> datetime | None:
    """The first ISO 8601 timestamp in ``value`` that says its offset."""
    match = _ISO.search(value)
    return _from_match(match, UTC) if match and match["tz"] else None
