"""Split a page that lists several items (a government's press releases) into one
record per item.

A source's ``split:`` (:class:`SplitRule`) says how, in one of two modes:

- **HTML**: ``item`` selects each item's element; ``title``, ``body`` and ``date``
  select inside it (defaults: the first heading, the rest of the item's text, a
  ``<time>`` element).
- **Text**: for pages whose structure is lost (an earlier scraper's text, seed
  ``002``), ``separator`` is a regular expression that a whole line between two
  items matches; an item's first line is its title.

Selectors are CSS (tag, ``#id``, ``.class``, ``[attr]``, ``[attr=value]``,
descendant and ``>`` child combinators, ``,``) or XPath after ``xpath:``. The
``cssselect`` package is not a dependency; this subset covers list pages.

Each item gets its own URL, the page's plus ``#item-<anchor>``: the element's
``id`` (or the attribute named by ``anchor``) when it has one, else a slug and a
short hash of the title. Anchors do not depend on the order of the items, so a
list that gains an item on top keeps its older items' URLs. An item's date is its
own (a ``date`` element, ``date_pattern``, or the one date its cleaned text
states); an item without one gets none, never the page's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import quote, urldefrag

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ingest.clean import CleanRules, clean_text, parse_date

if TYPE_CHECKING:
    from lxml.html import HtmlElement

_XPATH_PREFIX = "xpath:"
_CSS_TOKEN = re.compile(
    r"""(?P<child>\s*>\s*)|(?P<space>\s+)|(?P<tag>[a-zA-Z][\w-]*|\*)|\#(?P<id>[\w-]+)
    |\.(?P<cls>[\w-]+)
    |\[\s*(?P<attr>[\w-]+)\s*(?:=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[\w-]+))\s*)?\]""",
    re.VERBOSE,
)
_HEADINGS = "h1, h2, h3, h4, h5, h6"
_ISO_DATE = r"(?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
_SKIPPED = frozenset({"head", "script", "style", "template", "noscript"})
_SLUG_CHARS = 40


class SplitRule(BaseModel):
    """How to split a list page into items (a source's ``split:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str | None = Field(default=None, description="HTML mode: selector of each item")
    title: str | None = Field(default=None, description="inside an item; default: first heading")
    body: str | None = Field(
        default=None, description="inside an item; default: the item's text without title and date"
    )
    date: str | None = Field(
        default=None, description="inside an item; its datetime attribute or text; default: <time>"
    )
    anchor: str = Field(default="id", description="attribute of the item that names it")
    separator: str | None = Field(
        default=None, description="text mode: regex a whole line between two items matches"
    )
    date_pattern: str | None = Field(
        default=None,
        description="regex with (?P<date>...): applied to the date element's text (HTML) or "
        "searched in the item and cut from it (text)",
    )
    date_format: str | None = Field(default=None, description="strptime format; default ISO 8601")

    @field_validator("item")
    @classmethod
    def _item_selector(cls, value: str | None) -> str | None:
        if value is not None:
            _compile_xpath(to_xpath(value, relative=False))
        return value

    @field_validator("title", "body", "date")
    @classmethod
    def _inner_selector(cls, value: str | None) -> str | None:
        if value is not None:
            _compile_xpath(to_xpath(value, relative=True))
        return value

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str | None) -> str | None:
        if value is not None:
            _regex(value)
        return value

    @field_validator("date_pattern")
    @classmethod
    def _date_pattern(cls, value: str | None) -> str | None:
        if value is not None and "date" not in _regex(value).groupindex:
            raise ValueError("needs a group (?P<date>...)")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> SplitRule:
        if (self.item is None) == (self.separator is None):
            raise ValueError("give either 'item' (HTML mode) or 'separator' (text mode)")
        if self.separator is not None and (self.title or self.body or self.date):
            raise ValueError("'title', 'body' and 'date' are selectors: HTML mode only")
        return self


@dataclass(frozen=True, slots=True)
class PageItem:
    url: str
    anchor: str
    title: str
    text: str
    published_at: datetime | None
    date_source: str | None  # "item" when the item states its date, else None


@dataclass(frozen=True, slots=True)
class _Raw:
    """An item before anchors and cleaning."""

    key: str | None  # the element's own name (id), when it has one
    title: str
    text: str
    date: datetime | None


def split_page(html: str, url: str, rule: SplitRule, zone: tzinfo, *, text: str | None = None,
               clean: CleanRules | None = None) -> list[PageItem]:
    """The items of a list page. Text mode reads ``text`` (the page's extracted text)
    or, without it, the page's visible text. With ``clean``, each item's text is
    cleaned by those rules, and the one date it states becomes its date when the
    rule found none; without, cleaning is the caller's."""
    if rule.item is not None:
        raws = _from_html(_parse(html), rule)
    else:
        raws = _from_text(text if text is not None else _visible_text(_parse(html)), rule)
    return _items(raws, url, zone, clean)


def to_xpath(selector: str, *, relative: bool) -> str:
    """A selector of the supported CSS subset (or ``xpath:...``) as XPath; relative
    ones select below the context element. Raises ValueError for unsupported CSS."""
    if selector.startswith(_XPATH_PREFIX):
        return selector[len(_XPATH_PREFIX):].strip()
    prefix = ".//" if relative else "//"
    return " | ".join(_css_path(part.strip(), prefix) for part in selector.split(","))


def _css_path(selector: str, prefix: str) -> str:
    if not selector:
        raise ValueError("empty CSS selector")
    path, step, pos = prefix, "", 0
    while pos < len(selector):
        m = _CSS_TOKEN.match(selector, pos)
        if m is None:
            raise ValueError(f"unsupported CSS {selector[pos:]!r}; write xpath:... instead")
        pos = m.end()
        if m.group("child") is not None or m.group("space") is not None:
            if not step:
                raise ValueError(f"a combinator needs an element on its left in {selector!r}")
            path += _step(step) + ("/" if m.group("child") is not None else "//")
            step = ""
        elif m.group("tag") is not None:
            if step:
                raise ValueError(f"the tag must come first in {selector!r}")
            step = m.group("tag")
        else:
            step = (step or "*") + f"[{_predicate(m)}]"
    if not step:
        raise ValueError(f"CSS selector {selector!r} ends with a combinator")
    return path + _step(step)


def _step(step: str) -> str:
    return step if not step.startswith("[") else "*" + step


def _predicate(m: re.Match[str]) -> str:
    if m.group("id") is not None:
        return f"@id={_literal(m.group('id'))}"
    if m.group("cls") is not None:
        padded = _literal(f" {m.group('cls')} ")
        return f"contains(concat(' ', normalize-space(@class), ' '), {padded})"
    value = next((v for v in m.group("dq", "sq", "bare") if v is not None), None)
    attr = f"@{m.group('attr')}"
    return attr if value is None else f"{attr}={_literal(value)}"


def _literal(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


def _compile_xpath(xpath: str) -> None:
    from lxml import etree

    try:
        etree.XPath(xpath)
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"not a usable XPath {xpath!r}: {exc}") from None


def _regex(value: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a usable regular expression: {exc}") from None


def _parse(html: str) -> HtmlElement | None:
    from lxml import etree
    from lxml import html as lxml_html

    if not html.strip():
        return None
    try:
        return lxml_html.fromstring(html.encode("utf-8"),
                                    parser=lxml_html.HTMLParser(encoding="utf-8"))
    except etree.ParserError:
        return None


def _visible_text(root: HtmlElement | None) -> str:
    return _text(root) if root is not None else ""


def _from_html(root: HtmlElement | None, rule: SplitRule) -> list[_Raw]:
    from lxml import etree

    if root is None or rule.item is None:
        return []
    items = root.xpath(to_xpath(rule.item, relative=False))
    return [raw for el in items if isinstance(el, etree.ElementBase)
            and (raw := _html_item(el, rule)) is not None]


def _html_item(el: HtmlElement, rule: SplitRule) -> _Raw | None:
    title_el = _first(el, rule.title or _HEADINGS)
    date_el = _first(el, rule.date or "time")
    if rule.body:
        bodies = el.xpath(to_xpath(rule.body, relative=True))
        text = "\n".join(_text(b) for b in bodies)
    else:
        text = _text(el, skip={e for e in (title_el, date_el) if e is not None})
    title = _text(title_el).replace("\n", " ") if title_el is not None else ""
    if not title:
        title, _, text = text.partition("\n")
    if not title and not text:
        return None
    date = None
    if date_el is not None:
        date = _read_date(date_el.get("datetime") or _text(date_el), rule)
    elif rule.date_pattern:
        date = _read_date(_text(el), rule)
    key = (el.get(rule.anchor) or "").strip() or None
    return _Raw(key, title.strip(), text.strip(), date)


def _first(el: HtmlElement, selector: str) -> HtmlElement | None:
    found = el.xpath(to_xpath(selector, relative=True))
    return found[0] if found else None


def _text(el: HtmlElement, skip: set[HtmlElement] | None = None) -> str:
    """The element's text, a line per block element (paragraph, list item, heading),
    without scripts and without the subtrees in ``skip``."""
    parts: list[str] = []
    _walk(el, skip or set(), parts)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _walk(node: HtmlElement, skip: set[HtmlElement], parts: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    if node not in skip and tag and tag not in _SKIPPED:
        block = tag in _BLOCKS
        if block:
            parts.append("\n")
        parts.append(_inline(node.text))
        for child in node:
            _walk(child, skip, parts)
            parts.append(_inline(child.tail))
        if block:
            parts.append("\n")


def _inline(text: str | None) -> str:
    """Source line breaks inside a paragraph are spaces; only blocks break lines."""
    return (text or "").replace("\n", " ")


def _from_text(text: str, rule: SplitRule) -> list[_Raw]:
    assert rule.separator is not None
    separator = re.compile(rule.separator)
    chunks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if separator.fullmatch(line.strip()):
            chunks.append([])
        else:
            chunks[-1].append(line)
    return [raw for chunk in chunks if (raw := _text_item(chunk, rule)) is not None]


def _text_item(lines: list[str], rule: SplitRule) -> _Raw | None:
    """First non-blank line: the title; the rest: the text, less a ``date_pattern``
    match (a glued ``date2024-07-01``) whose date becomes the item's."""
    content = [line for line in lines if line.strip()]
    if len(content) < 2:
        return None
    title, text = content[0].strip(), "\n".join(content[1:]).strip()
    date = None
    if rule.date_pattern:
        m = re.search(rule.date_pattern, text)
        if m is not None:
            date = parse_date(m.group("date"), rule.date_format)
            text = (text[:m.start()] + text[m.end():]).strip()
    return _Raw(None, title, text, date)


def _read_date(raw: str, rule: SplitRule) -> datetime | None:
    m = re.search(rule.date_pattern or _ISO_DATE, raw)
    if m is not None:
        return parse_date(m.group("date"), rule.date_format)
    return parse_date(raw, rule.date_format)


def _items(raws: list[_Raw], url: str, zone: tzinfo, clean: CleanRules | None) -> list[PageItem]:
    page = urldefrag(url).url
    items = []
    for raw, anchor in zip(raws, _anchors(raws), strict=True):
        text, date = raw.text, raw.date
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=zone)
        if clean is not None:
            cleaned = clean_text(text, clean)
            text = cleaned.text
            date = date or cleaned.published_at(zone)
        items.append(PageItem(url=f"{page}#item-{anchor}", anchor=anchor, title=raw.title,
                              text=text, published_at=date,
                              date_source="item" if date is not None else None))
    return items


def _anchors(raws: Iterable[_Raw]) -> list[str]:
    """A name per item that does not depend on the items' order: its id, else a slug
    and hash of its title; an item with the title of another adds its date, then
    its text to the hash, so only exact twins depend on order (they get -2, -3)."""
    taken: set[str] = set()
    anchors = []
    for raw in raws:
        day = raw.date.isoformat() if raw.date else ""
        candidates = [quote(raw.key, safe="-._~")] if raw.key else []
        candidates += [_title_anchor(raw.title, extra) for extra in ("", day, day + raw.text)]
        anchor = next((c for c in candidates if c not in taken), None)
        n = 2
        while anchor is None or anchor in taken:
            anchor, n = f"{candidates[-1]}-{n}", n + 1
        taken.add(anchor)
        anchors.append(anchor)
    return anchors


def _title_anchor(title: str, extra: str) -> str:
    normal = " ".join(title.casefold().split())
    digest = hashlib.sha1(f"{normal}\n{extra}".encode()).hexdigest()[:8]
    ascii_title = unicodedata.normalize("NFKD", normal).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:_SLUG_CHARS].strip("-")
    return f"{slug}-{digest}" if slug else digest
