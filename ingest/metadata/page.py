"""The parsed page that every field's rules read, and the helpers they share.

:class:`_Page` reads one tree's ``<meta>`` tags, JSON-LD objects (``@graph`` and lists
flattened), the article's JSON-LD object and element, the site's name, its date and
byline elements and the timestamps it declares, each once. Beside it: how candidates
are compared (:func:`_key`), cleaned (:func:`_clean`) and read (:func:`_short_text`),
and the site's name in the forms a title or byline may use (:func:`_site_keys`).
"""

from __future__ import annotations

import functools
import html as htmllib
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from ingest.metadata.rules import metadata_rules
from ingest.metadata.xpaths import (
    ARTICLE_OR_MAIN,
    ARTICLES,
    DATE_BOXES,
    DATE_BOXES_IN,
    JSONLD_SCRIPTS,
    OFFSET_MARKUP,
)

_RULES = metadata_rules().page


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
        found = self.tree.xpath(ARTICLE_OR_MAIN)
        if not found:
            articles = self.tree.xpath(ARTICLES)
            found = articles if len(articles) == 1 else []
        return found[0] if found else None

    @functools.cached_property
    def date_boxes(self) -> list[HtmlElement]:
        """Date and byline elements, in the article when it has some."""
        article = self.article_element
        boxes: list[HtmlElement] = [] if article is None else article.xpath(DATE_BOXES_IN)
        return boxes or self.tree.xpath(DATE_BOXES)

    @functools.cached_property
    def timestamps(self) -> list[str]:
        """Where the page declares timestamps: ``<meta>``, JSON-LD, ``<time datetime>``."""
        values = [v for values in self.meta.values() for v in values]
        for obj in self.jsonld:
            values += (v for k, v in obj.items()
                       if k.startswith(_JSONLD_DATES) and isinstance(v, str))
        return values + [str(v) for v in self.tree.xpath(OFFSET_MARKUP)]

    def meta_first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if cleaned := _clean(value):
                    return cleaned
        return None

    def _site_name(self) -> str | None:
        name = self.meta_first(*_SITE_NAME_META)
        if name:
            return name
        for obj in self.jsonld:
            publisher = obj.get("publisher")
            if isinstance(publisher, Mapping) and (found := _clean(publisher.get("name"))):
                return found
        for obj in self.jsonld:
            is_site = bool(_types(obj) & _SITE_TYPES)
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
    for script in tree.xpath(JSONLD_SCRIPTS):
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
        for key in _NESTED_KEYS:
            if isinstance(data.get(key), list | dict):
                yield from _flatten(data[key])


def _types(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _is_article(obj: Mapping[str, Any]) -> bool:
    return any(k.endswith(_ARTICLE_SUFFIXES) or k in _ARTICLE_TYPES for k in _types(obj))


_SITE_NAME_META = _RULES.site_name_meta
_NESTED_KEYS = _RULES.jsonld_nested_keys
_ARTICLE_SUFFIXES = _RULES.article_type_suffixes
_ARTICLE_TYPES = _RULES.article_types
_SITE_TYPES = _RULES.site_types


def _main_object(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The JSON-LD object describing the article: the first article type, else a
    web page; lists of teasers elsewhere on the page come later."""
    for test in (_is_article, lambda o: any(k.endswith("page") for k in _types(o))):
        for obj in objects:
            if test(obj):
                return obj
    return None


# Where _Page.timestamps looks, besides <meta> and the markup: JSON-LD's dates.
_JSONLD_DATES = _RULES.jsonld_date_prefixes  # the page's own: not an event's startDate


# --- text ---------------------------------------------------------------------------


def _field(fallback: Any, name: str) -> Any:
    """A field of trafilatura's ``Document``, or of a dict with its fields."""
    if fallback is None:
        return None
    if isinstance(fallback, Mapping):
        return fallback.get(name)
    return getattr(fallback, name, None)


_SPACE = re.compile(r"\s+")


def _clean(value: Any) -> str | None:
    """Whitespace collapsed, entities decoded (some pages escape them twice)."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", htmllib.unescape(value).translate(_INVISIBLE)).strip()
    return text or None


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def _text(element: HtmlElement | None) -> str | None:
    if element is None:
        return None
    return str(element.text_content())


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


@functools.lru_cache(maxsize=4096)  # the rules compare the same few titles many times
def _key(text: str | None) -> str:
    """Case, punctuation, spacing and accents ignored (umlauts spelt out, as in host
    names): how candidates are compared."""
    text = (text or "").casefold().translate(_UMLAUTS)
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text))


_NOT_ALNUM = re.compile(r"[\W_]+")


_UMLAUTS = str.maketrans(_RULES.umlauts)


# --- the site's name ----------------------------------------------------------------


_SECOND_LEVEL = _RULES.second_level_domains


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


def _is_site(part: str, site: set[str]) -> bool:
    """The site's name, or its name and a word or two (``Harper's Magazine`` on
    harpers.org): never a headline that starts with the brand."""
    key = _key(part)
    return bool(key) and any(
        key == s or (len(s) >= 4 and key.startswith(s) and len(key) <= len(s) + MAX_SITE_SUFFIX)
        for s in site
    )


MAX_SITE_SUFFIX = 12
