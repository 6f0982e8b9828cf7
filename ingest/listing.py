"""Read an HTML page that lists articles (a ministry's press releases, a newspaper's
section page) as a source: a :class:`~ingest.models.FeedEntry` per article link.

:func:`parse_listing` is pure. The page is decoded as article pages are
(:func:`ingest.extract.decode_html`) and parsed with lxml; links are resolved against
``<base href>`` or the page's URL, lose their fragment, are http(s) and at most
``MAX_URL_BYTES``, and count once (the first; by :func:`~ingest.resolve.canonicalize`).
Articles are the links a source's ``links`` pattern finds in the absolute URL, or
those that look like articles by signals the web has in general (:meth:`_Page.article`;
the word lists are data, ``rules/listing.yml``). An article's title is its link's text
or, when that says nothing ("Read more", "더보기", an arrow, an image), its ``title``,
its item's heading, the longest text of another link to it; its date is its item's
(the elements above the link that hold no other article's): a ``<time datetime>``,
else a date in its text (2024-07-01, 2024.07.01, date2024-07-01, July 1, 2024,
1 July 2024, 2024년 7월 1일; never a two-digit year), never the page's. ``next_url``:
``rel=next``, a link that says "next", or the one numbered the current page plus one.
No article: a line in ``problems`` (the caller records ``listing_empty``). No page:
``ParseError`` ``listing_empty`` (an empty body) or ``not_html`` (binary, plain text).
Linear in the page: every walk up the tree is memoised or bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache, cached_property, lru_cache
from importlib import resources
from itertools import chain
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingest.errors import ParseError
from ingest.models import FeedEntry
from ingest.resolve import MAX_URL_BYTES, canonicalize, site

#: The reasons of the ParseError raised for a body that is not a page.
EMPTY, NOT_HTML = "listing_empty", "not_html"

_TAG_START = re.compile(r"<[A-Za-z!/?]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_UNPARSABLE = re.compile("[\x00\ud800-\udfff]")
_URL_JUNK = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_MAX_CONTROL_SHARE = 0.1  # of the first characters: more is a binary body
_SNIFF_CHARS = 8192
_MAX_TEXT = 500  # of a link's text: no title is longer
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PAGE_IN_PATH = re.compile(r"/page/(\d{1,5})/?$", re.IGNORECASE)
# A date in a path: year and month (and day), followed by more path (a slug, an id):
# /2024/07/01/title, /news/2024-07/title; a bare /2024/07/ is an archive page.
_PATH_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}[/_-]?(?:0[1-9]|1[0-2])(?:[/_-]?(?:0[1-9]|[12]\d|3[01]))?(?!\d)"
    r"(?=/*[^/\s])"
)
_YEAR = r"((?:19|20)\d{2})"
# 2024-07-01, 2024.07.01, 2024. 7. 1., 2024/07/01, glued (date2024-07-01), with a time.
_NUMERIC_DATE = re.compile(
    r"(?<!\d)" + _YEAR + r"\s*([-./])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)"
    r"(?:\.?(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_YEAR_ALONE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_MAX_DAY_MONTH = 40  # characters of "1 de septiembre de " before a year, and more
# 2024년 7월 1일 (Korean), 2024年7月1日 (Japanese, Chinese)
_CJK_DATE = re.compile(
    r"(?<!\d)" + _YEAR + r"\s*([년年])\s*(\d{1,2})\s*[월月]\s*(\d{1,2})\s*[일日]")
_DECODING_ERRORS = (ValueError, LookupError, TypeError)

# HTML semantics (not word lists): where the current item ends, what is a heading.
_STOP = frozenset({"html", "body", "main", "table", "tbody", "thead", "tfoot", "ul", "ol",
                   "form", "nav", "header", "footer", "aside"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SECTIONING = frozenset({"article", "main", "section", "aside", "nav"})
_MAX_SECTIONING_UP = 64  # levels looked up for the <article> or <section> of a <header>
_NOT_REGIONS = frozenset({"html", "body", "main"})  # their classes describe the page
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul", "time",
})
# HTML link types of a link that is not to an article.
_NOT_ARTICLE_RELS = frozenset({"tag", "author", "category", "search", "license", "help",
                               "privacy-policy", "terms-of-service", "next", "prev",
                               "previous", "alternate", "home", "index", "first", "last"})
_NO_TEXT = frozenset({"script", "style", "template", "noscript"})


@dataclass(slots=True)
class Listing:
    """What a list page gave: its article links, its next page, what went wrong."""

    entries: list[FeedEntry]
    next_url: str | None = None
    problems: list[str] = field(default_factory=list)


class _RulesFile(BaseModel):
    """``rules/listing.yml``; words compared case-folded, whitespace normalised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_title_words: int = Field(ge=1)
    min_cjk_chars: int = Field(ge=1)
    min_slug_words: int = Field(ge=2)
    min_id_digits: int = Field(ge=3)
    max_item_chars: int = Field(ge=50)
    max_item_levels: int = Field(ge=1)
    region_words: frozenset[str]
    region_id_words: frozenset[str]
    region_roles: frozenset[str]
    skip_segments: frozenset[str]
    page_params: frozenset[str]
    file_extensions: frozenset[str]
    generic_titles: frozenset[str]
    next_words: frozenset[str]
    current_classes: frozenset[str]
    pagination_words: frozenset[str]
    months: dict[str, int]

    @field_validator("*", mode="after")
    @classmethod
    def _folded(cls, value: Any) -> Any:
        if isinstance(value, frozenset):
            return frozenset(" ".join(w.casefold().split()) for w in value)
        if isinstance(value, dict):
            if any(not 1 <= n <= 12 for n in value.values()):
                raise ValueError("a month is a number from 1 to 12")
            return {name.casefold(): n for name, n in value.items()}
        return value

    @cached_property
    def long_id(self) -> re.Pattern[str]:
        return re.compile(rf"\d{{{self.min_id_digits},}}")

    @cached_property
    def page_param(self) -> re.Pattern[str]:
        """A page-number parameter in a query."""
        names = "|".join(re.escape(p) for p in sorted(self.page_params))
        return re.compile(rf"(?:^|&)(?:{names})=", re.IGNORECASE)

    @cached_property
    def month_dates(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """"July 1, 2024", "Jul. 1st 2024"; "1 July 2024", "1. Juli 2024", "1er juillet
        2024", "1 de julio de 2024"."""
        names = "|".join(re.escape(m) for m in sorted(self.months, key=len, reverse=True))
        return (re.compile(rf"(?<!\w)({names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}"
                           r"(?!\d)", re.IGNORECASE),
                re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?({names})"
                           rf"\.?,?\s+(?:de\s+)?{_YEAR}(?!\d)", re.IGNORECASE))


@cache
def _rules() -> _RulesFile:
    text = resources.files("ingest").joinpath("rules/listing.yml").read_text(encoding="utf-8")
    return _RulesFile.model_validate(yaml.safe_load(text))


@dataclass(slots=True)
class _Link:
    el: Any  # lxml HtmlElement
    url: str  # absolute, without fragment
    key: str  # canonical
    text: str  # whitespace normalised, at most _MAX_TEXT characters


def parse_listing(body: bytes, url: str, *, source: str, charset: str | None = None,
                  links: re.Pattern[str] | None = None, zone: tzinfo | None = None) -> Listing:
    """The article links of a list page, its next page and its problems.

    ``charset`` is the HTTP one; ``links`` a pattern an article's absolute URL
    matches (searched), else articles are recognised by their look; dates without
    an offset are in ``zone`` (UTC by default). Raises :class:`ParseError`
    (``listing_empty``, ``not_html``) when the body is no HTML page; never anything
    else."""
    rules = _rules()
    root = _parse(body, url, charset)
    page = _Page(url, _base(root, url), rules)
    found = page.links(root)
    if links is not None:
        chosen = [link for link in found if links.search(link.url)]
    else:
        chosen = page.without_sections([link for link in found if page.article(link)])
    by_key, first = _grouped(found), _grouped(chosen)  # by URL, in document order
    marks, zone, entries = _mark(chosen), zone or UTC, []
    for key, anchors in first.items():
        items = [_item(a, marks, rules) for a in anchors[:3]]
        entries.append(FeedEntry(
            source=source, link=anchors[0].url,
            title=_title(anchors[0], items[0], by_key[key], rules),
            published_at=next((d for item in items if (d := _item_date(item, zone, rules))),
                              None),
        ))
    problems = []
    if not entries:
        what = (f"no link matched {links.pattern!r}" if links is not None
                else "no link looked like an article")
        problems.append(f"{what} among the {len(by_key)} links of {url[:300]}")
    return Listing(entries=entries, next_url=_next_url(root, found, set(first), page, rules),
                   problems=problems)


def _grouped(links: list[_Link]) -> dict[str, list[_Link]]:
    grouped: dict[str, list[_Link]] = {}
    for link in links:
        grouped.setdefault(link.key, []).append(link)
    return grouped


# --- the page ------------------------------------------------------------------------


def _parse(body: bytes, url: str, charset: str | None) -> Any:
    """The document's root element; ParseError when the body is no HTML page."""
    from lxml import etree
    from lxml import html as lxml_html

    from ingest.extract import decode_html

    if not body.strip():
        raise ParseError(EMPTY, f"{url[:300]} returned an empty body")
    try:
        text, _ = decode_html(body, charset)
    except _DECODING_ERRORS:
        text = body.decode("utf-8", errors="replace")
    head = text[:_SNIFF_CHARS]
    if len(_CONTROL.findall(head)) > _MAX_CONTROL_SHARE * len(head):
        raise ParseError(NOT_HTML, f"{url[:300]}: binary content, not an HTML page")
    if not _TAG_START.search(text):
        raise ParseError(NOT_HTML, f"{url[:300]}: no markup, not an HTML page")
    text = _UNPARSABLE.sub("", text)
    # huge_tree: libxml2 otherwise drops all below 256 levels, which a list whose
    # every item leaves a <div> open reaches; the tree walks here are all linear.
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                  no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except (etree.LxmlError, ValueError):
        root = None
    if root is None:
        raise ParseError(NOT_HTML, f"{url[:300]}: no HTML document in the body")
    etree.strip_elements(root, *_NO_TEXT, with_tail=False)  # no text of ours in them
    return root


def _base(root: Any, url: str) -> str:
    """``<base href>`` (the first, resolved against the URL) when it is http(s)."""
    for el in root.iter("base"):
        href = el.get("href")
        if href:
            absolute = _absolute(href, url)
            return absolute[0] if absolute else url
    return url


def _absolute(href: str, base: str) -> tuple[str, str] | None:
    """(absolute URL without fragment, canonical form), or None for a link we skip:
    not http(s), not parsable, longer than an index holds."""
    if len(href) > MAX_URL_BYTES:
        return None
    href = _URL_JUNK.sub("", href.strip())
    try:
        absolute = urljoin(base, href).partition("#")[0]
        if not absolute[:8].lower().startswith(("http://", "https://")):
            return None
        if len(absolute) > MAX_URL_BYTES // 4 and len(
                absolute.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES:
            return None
        return absolute, canonicalize(absolute)
    except ValueError:  # a bad IPv6 literal or port; BadURL is a ValueError
        return None


class _Page:
    """The page being read: its URL, its site, and what is known of its elements."""

    def __init__(self, url: str, base: str, rules: _RulesFile) -> None:
        self.url, self.base, self.rules, self.site = url, base, rules, site(url)
        try:
            self.key: str | None = canonicalize(url)
        except ValueError:
            self.key = None
        self.itself = _without_page(self.key, rules) if self.key else None
        self._regions: dict[Any, bool] = {}
        self._facts: dict[str, tuple[bool, bool]] = {}
        self._sites: dict[str, str] = {}

    def links(self, root: Any) -> list[_Link]:
        found = []
        for el in root.iter("a", "area"):
            href = el.get("href")
            if href is None:
                continue
            absolute = _absolute(href, self.base)
            if absolute is not None:
                found.append(_Link(el, absolute[0], absolute[1], _text(el, _MAX_TEXT)))
        return found

    def same_site(self, url: str) -> bool:
        """Whether an absolute URL is of the page's site (by host, memoised)."""
        host = url.split("/", 3)[2] if url.count("/") >= 2 else ""
        found = self._sites.get(host)
        if found is None:
            found = self._sites[host] = site(url)
        return bool(self.site) and found == self.site

    def article(self, link: _Link) -> bool:
        """Whether a link looks like an article of this site (no ``links`` pattern):
        its URL is of one (:func:`_url_facts`), it is not in the page's furniture,
        and it has a sign of an article: its URL's (a slug, an id, a date), a
        headline's length of text, or rel=bookmark (HTML's "permalink of the nearest
        article"). rel=tag, author, ... (HTML's link types) say what it is instead."""
        facts = self._facts.get(link.key)
        if facts is None:
            facts = self._facts[link.key] = self._url_facts(link)
        candidate, signal = facts
        rel_types = _rel(link.el)
        if not candidate or not _NOT_ARTICLE_RELS.isdisjoint(rel_types):
            return False
        if self.in_region(link.el):
            return False
        return signal or "bookmark" in rel_types or _headline(link.text, self.rules)

    def without_sections(self, chosen: list[_Link]) -> list[_Link]:
        """The links but those that are articles by their text alone and whose path is
        a folder of other articles' paths: a section ("More Asia news from our
        correspondents", /world/asia/), not an article."""
        folders: set[tuple[str, str]] = set()
        for link in chosen:
            host, path, _ = _split_key(link.key)
            end = path.find("/", 0, len(path) - 1)
            while end >= 0:
                folders.add((host, path[:end + 1]))
                end = path.find("/", end + 1, len(path) - 1)
        return [link for link in chosen if self._facts[link.key][1]
                or (_split_key(link.key)[0], _split_key(link.key)[1].rstrip("/") + "/")
                not in folders]

    def _url_facts(self, link: _Link) -> tuple[bool, bool]:
        """(whether the URL can be an article's, whether it says it is one)."""
        rules = self.rules
        # Another site's link is an ad, a share button, a partner: not this list's.
        if not self.same_site(link.url):
            return False, False
        # The page itself, or another page of it (?page=2): the list, not an item.
        if self.itself is not None and _without_page(link.key, rules) == self.itself:
            return False, False
        _, raw_path, query = _split_key(link.key)
        path = unquote(raw_path).casefold()
        segments = [s for s in path.split("/") if s]
        for segment in segments:
            stem = segment.rpartition(".")[0] or segment
            # A taxonomy, an account page, search, a feed, a page number, a download.
            if stem in rules.skip_segments or segment in rules.skip_segments:
                return False, False
        # A file (.pdf, .jpg, .hwp, ...) is not a page.
        if segments and segments[-1].rpartition(".")[2] in rules.file_extensions:
            return False, False
        return True, _url_signal(path, query, segments, rules)

    def in_region(self, el: Any) -> bool:
        """Whether an element is in the page's furniture (memoised up the tree):
        ``<nav>``, ``<aside>``, a ``<header>``/``<footer>`` of the page (not one of an
        ``<article>`` or ``<section>``: the HTML landmark rule), an ARIA navigation
        role, a class or id that says nav / menu / breadcrumb / pagination / footer."""
        walked, node, result = [], el, False
        while node is not None:
            known = self._regions.get(node)
            if known is not None or self._own_region(node):
                result = known is not False
                walked.append(node)
                break
            walked.append(node)
            node = node.getparent()
        for n in walked:
            self._regions[n] = result
        return result

    def _own_region(self, el: Any) -> bool:
        tag, rules = el.tag if isinstance(el.tag, str) else "", self.rules
        if tag in _NOT_REGIONS:
            return False
        if tag in ("nav", "aside") or (tag in ("header", "footer") and not any(
                isinstance(a.tag, str) and a.tag in _SECTIONING
                for _, a in zip(range(_MAX_SECTIONING_UP), el.iterancestors(), strict=False))):
            return True
        if not (el.get("id") or el.get("class") or el.get("role")):
            return False
        ident = _tokens(el.get("id") or "")
        return not (rules.region_roles.isdisjoint((el.get("role") or "").casefold().split())
                    and rules.region_words.isdisjoint(_tokens(el.get("class") or ""))
                    and rules.region_words.isdisjoint(ident)
                    and rules.region_id_words.isdisjoint(ident))


def _url_signal(path: str, query: str, segments: list[str], rules: _RulesFile) -> bool:
    """Whether a URL says it is an article's: a slug of several words (CMSs name
    articles after their headline), a long number (an article's id, in the path or
    the query: view.do?seq=168231), a date followed by more path (/2024/07/01/...)."""
    for segment in segments:
        stem = segment.rpartition(".")[0] if "." in segment else segment
        words = [w for w in re.split(r"[-_+\s]+", stem) if w]
        if (len(words) >= rules.min_slug_words
                and sum(1 for w in words if not w.isdigit()) >= 2):
            return True
    if rules.long_id.search(path) or rules.long_id.search(query):
        return True
    return bool(_PATH_DATE.search(path))


def _headline(text: str, rules: _RulesFile) -> bool:
    """Whether a link's text is as long as a headline: a menu item is a word or two."""
    words = sum(1 for w in text.split() if any(ch.isalnum() for ch in w))
    return (words >= rules.min_title_words
            or len(_CJK.findall(text)) >= rules.min_cjk_chars)


def _split_key(key: str) -> tuple[str, str, str]:
    """(host, path, query) of a canonical URL (``scheme://host/path?query``, no
    fragment): what urlsplit gives, without its cost on thousands of links."""
    rest = key.partition("://")[2]
    host, _, path_query = rest.partition("/")
    path, _, query = path_query.partition("?")
    return host, "/" + path, query


def _without_page(key: str, rules: _RulesFile) -> str:
    """A canonical URL without its page-number parameters."""
    if "?" not in key or not rules.page_param.search(key.partition("?")[2]):
        return key
    parts = urlsplit(key)
    query = "&".join(p for p in parts.query.split("&")
                     if p and unquote(p.partition("=")[0]).casefold() not in rules.page_params)
    return parts._replace(query=query).geturl()


@lru_cache(maxsize=4096)
def _tokens(value: str) -> frozenset[str]:
    """The words of a class or id: each name, and its parts ("main-nav", "mainMenu")."""
    names = value.split()
    tokens = {n.casefold() for n in names}
    for name in names:
        tokens.update(t for t in _TOKEN_SPLIT.split(_CAMEL.sub(r"\1 \2", name).casefold()) if t)
    return frozenset(tokens)


def _text(el: Any, limit: int) -> str:
    """An element's text, whitespace normalised, blocks apart; read no further than
    ``limit`` characters (a link may wrap half of a broken page)."""
    from lxml import etree

    if len(el) == 0:
        return " ".join((el.text or "").split())[: limit + 1]
    parts: list[str] = []
    size = 0
    for event, node in etree.iterwalk(el, events=("start", "end")):
        piece = node.text if event == "start" else node.tail if node is not el else None
        if node.tag in _BLOCK:
            parts.append(" ")
        if piece:
            parts.append(piece)
            size += len(piece)
            if size > limit:
                break
    return " ".join("".join(parts).split())[: limit + 1]


# --- items: title and date -------------------------------------------------------------

_MANY = ""  # an element that holds links to more than one article


def _mark(chosen: list[_Link]) -> dict[Any, str]:
    """For every element above an article link: the article it holds, or _MANY.
    Each walk up stops where it changes nothing, so each element changes at most
    twice (unseen, one article, many): linear."""
    marks: dict[Any, str] = {}
    for link in chosen:
        value = link.key
        node = link.el
        while node is not None:
            seen = marks.get(node)
            if seen in (value, _MANY):
                break
            marks[node] = value if seen is None else _MANY
            if seen is not None:
                value = _MANY
            node = node.getparent()
    return marks


def _item(link: _Link, marks: dict[Any, str], rules: _RulesFile) -> list[tuple[Any, str]]:
    """The link's item: the elements above it (smallest first) that hold no other
    article's link, up to a list (ul, table, ...) or a page region, with their text;
    at most max_item_levels of them, and none with more text than an item has."""
    chain: list[tuple[Any, str]] = []
    node = link.el.getparent()
    while node is not None and len(chain) < rules.max_item_levels:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag in _STOP or marks.get(node) != link.key:
            break
        text = _text(node, rules.max_item_chars)
        if len(text) > rules.max_item_chars:
            break
        chain.append((node, text))
        node = node.getparent()
    return chain


def _title(link: _Link, item: list[tuple[Any, str]], same: list[_Link],
           rules: _RulesFile) -> str | None:
    """The link's text, unless it says nothing ("Read more", an arrow, an image): then
    its title (or aria-label), the heading of its item, the longest text of another
    link to the same URL, an image's alt text."""
    own = [link.text, link.el.get("title"), link.el.get("aria-label")]
    headings = (_text(h, _MAX_TEXT) for node, _ in item for h in node.iter(*_HEADINGS))
    others = sorted((other.text for other in same), key=len, reverse=True)  # longest first
    alts = (img.get("alt") for img in link.el.iter("img"))
    for title in chain(own, headings, others, alts):
        if title and not _generic(title, rules):
            return _clip(title)
    return None


def _clip(text: str) -> str:
    return " ".join(_UNPARSABLE.sub("", text).split())[:_MAX_TEXT]


def _generic(text: str, rules: _RulesFile) -> bool:
    """Whether a link's text says nothing of its article: no letter (an arrow, a
    number, nothing), or a word of generic_titles ("Read more", "더보기", "mehr")."""
    if not any(ch.isalpha() for ch in text):
        return True
    words = " ".join(re.sub(r"[^\w\s]+", " ", text.casefold()).split())
    return words in rules.generic_titles


def _item_date(item: list[tuple[Any, str]], zone: tzinfo, rules: _RulesFile) -> datetime | None:
    """The first date of the item, smallest element first: a ``<time datetime>``, else
    a date in its text."""
    for node, text in item:
        for time_el in node.iter("time"):
            value = (time_el.get("datetime") or "").strip()
            if found := (_iso(value, zone) or _date_in(value, zone, rules)
                         or _date_in(_text(time_el, 200), zone, rules)):
                return found
        if found := _date_in(text, zone, rules):
            return found
    return None


def _iso(value: str, zone: tzinfo) -> datetime | None:
    try:
        found = datetime.fromisoformat(value) if value[:4].isdigit() and len(value) < 40 else None
    except ValueError:
        return None
    return found.replace(tzinfo=zone) if found and found.tzinfo is None else found


def _date_in(text: str, zone: tzinfo, rules: _RulesFile) -> datetime | None:
    """The first date written in a text, by any of the forms; None when there is none.
    A two-digit year (24.07.01) is never read: day, month and year are ambiguous."""
    # Every form has a four-digit year: look for years (rare, and found fast), then for
    # a form that begins at the year or ends with it. Years in text order: the first
    # date of the text.
    for year in _YEAR_ALONE.finditer(text):
        for pattern in (_NUMERIC_DATE, _CJK_DATE):
            m = pattern.match(text, year.start())
            if m is not None and (found := _date_of(m, "ymd", zone, rules)) is not None:
                return found
        window = max(0, year.start() - _MAX_DAY_MONTH)
        for pattern, order in zip(rules.month_dates, ("mdy", "dmy"), strict=True):
            m = pattern.search(text, window, year.end())
            if (m is not None and m.end() == year.end()
                    and (found := _date_of(m, order, zone, rules)) is not None):
                return found
    return None


def _date_of(m: re.Match[str], order: str, zone: tzinfo, rules: _RulesFile) -> datetime | None:
    """The date a match of one of the forms of :func:`_date_in` states; None when it
    is none (2024-02-30)."""
    g, months = m.groups(), rules.months
    try:
        if order == "ymd":  # year, separator, month, day[, hour, minute[, second]]
            hour, minute, second = ([int(v) for v in g[4:7] if v] + [0, 0, 0])[:3]
            return datetime(int(g[0]), int(g[2]), int(g[3]), hour, minute, second, tzinfo=zone)
        if order == "mdy":
            return datetime(int(g[2]), months[g[0].casefold()], int(g[1]), tzinfo=zone)
        return datetime(int(g[2]), months[g[1].casefold()], int(g[0]), tzinfo=zone)
    except (ValueError, KeyError, OverflowError):
        return None


# --- the next page ----------------------------------------------------------------------


def _next_url(root: Any, found: list[_Link], articles: set[str], page: _Page,
              rules: _RulesFile) -> str | None:
    """The list's next page, on the same site and neither the page itself nor one of
    its articles ("→" also reads "more"): rel=next, a link that says next, else the
    link numbered the current page plus one (in a pager, or numbering the page so)."""

    def usable(url: str, key: str) -> bool:
        return key != page.key and key not in articles and page.same_site(url)

    for el in root.iter("link"):
        absolute = _absolute(el.get("href") or "", page.base) if "next" in _rel(el) else None
        if absolute and usable(*absolute):
            return absolute[0]
    candidates = [link for link in found if usable(link.url, link.key)]
    for link in candidates:
        if "next" in _rel(link.el):
            return link.url
    for link in candidates:
        says = [link.text, link.el.get("aria-label"), link.el.get("title"),
                *(img.get("alt") for img in link.el.iter("img"))]
        if _rel(link.el).isdisjoint(("prev", "previous")) and any(
                text and _says_next(text, rules) for text in says):
            return link.url
    current = _current_page(root, rules)
    current = _page_of(page.url, rules) if current is None else current
    if current is None:
        return None
    return next((link.url for link in candidates if link.text == str(current + 1) and (
        _page_of(link.url, rules) == current + 1 or page.in_region(link.el))), None)


def _rel(el: Any) -> frozenset[str]:
    """An element's link types (``rel``)."""
    rel = el.get("rel")
    return frozenset(rel.casefold().split()) if rel else frozenset()


def _says_next(text: str, rules: _RulesFile) -> bool:
    """Whether a link's text is a "next" word: "Next ›", "다음", "›", "Older posts"."""
    text = " ".join(text.casefold().split())
    if len(text) > 40:
        return False
    words = " ".join(re.sub(r"[^\w\s]+", " ", text).split())
    return text in rules.next_words or (bool(words) and words in rules.next_words)


def _current_page(root: Any, rules: _RulesFile) -> int | None:
    """The number of the current page, when the page marks it: aria-current, a class
    such as active / current / on, an unlinked number in a pagination block."""
    by_class = bare = None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        current, classes = el.get("aria-current"), el.get("class")
        if current is None and not classes and el.tag not in ("strong", "b", "em", "span"):
            continue
        text = _short_text(el)
        if not (text.isdigit() and len(text) <= 5 and text.isascii()):
            continue
        if current is not None and current.casefold() != "false":
            return int(text)
        if by_class is None and classes and not rules.current_classes.isdisjoint(
                _tokens(classes)):
            by_class = int(text)
        if bare is None and not (el.tag == "a" and el.get("href")) and _in_pager(el, rules):
            bare = int(text)
    return by_class if by_class is not None else bare


def _short_text(el: Any) -> str:
    """The text of an element with at most one child, which has none (``<li
    class="active"><a>2</a></li>``); "" for others: constant time, whatever the tree."""
    if len(el) == 0:
        return (el.text or "").strip()
    if len(el) == 1 and len(el[0]) == 0 and isinstance(el[0].tag, str):
        return ((el.text or "") + (el[0].text or "") + (el[0].tail or "")).strip()
    return ""


def _in_pager(el: Any, rules: _RulesFile) -> bool:
    for _, up in zip(range(3), el.iterancestors(), strict=False):
        classes = (up.get("class") or "") + " " + (up.get("id") or "")
        if not rules.pagination_words.isdisjoint(_tokens(classes)):
            return True
    return False


def _page_of(url: str, rules: _RulesFile) -> int | None:
    """The page number a URL states: ?page=N (page_params), /page/N."""
    _, path, query = _split_key(url.partition("#")[0])
    for name, _, value in (pair.partition("=") for pair in query.split("&")):
        if unquote(name).casefold() in rules.page_params and value.isdigit() and len(value) <= 5:
            return int(value)
    m = _PAGE_IN_PATH.search(path)
    return int(m.group(1)) if m else None
