"""Tell news articles from the other pages a feed can lead to, before validation.

:func:`classify` reads a page's own signals and says what kind of page it is: an
``article``, or a ``listing``, ``forum``, ``product``, ``documentation``, ``service``,
``collection`` page (``other`` when no kind stands out). The signals
(:func:`signals`) are the web's general conventions, never one site's habits:

* what the page declares: ``og:type``, schema.org types (JSON-LD ``@type``, microdata
  ``itemtype``);
* the shape of its URL (the canonical one it declares, else the one fetched): the
  words of its last segment, a date in the path, a segment that names a kind
  (``/blog/``, ``/threads/``, ``/docs/``: vocabulary in ``rules/pagetype.yml``);
* a date shown next to the headline, an author, the headline's length;
* the extracted text: its length and how much of it is in long paragraphs, how much
  of the page's paragraph text one container holds;
* the page's furniture: the share of its text in links, linked and anchored
  headings, code, ``<time>`` elements, links to user profiles, shopping-cart
  controls; prices in the text.

A logistic model weighs them: its weights are data (``rules/pagetype_model.json``,
trained on one half of the wcxb_dev corpus by ``python bench/pagetype.py --train``,
which documents how). The page is an article when the article probability reaches
the model's threshold; otherwise its kind is the likeliest of the others, and the
verdict's ``evidence`` names the signals that weighed most against an article.

It reads the tree and never changes it, in one walk over the elements it needs: a
small part of what extraction costs (``bench/pagetype.py`` measures both on the
same pages).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml
from lxml import etree

KINDS = ("article", "listing", "forum", "product", "documentation", "service",
         "collection", "other")


@dataclass(frozen=True, slots=True)
class PageVerdict:
    """What kind of page this is (one of :data:`KINDS`), how likely an article, and why."""

    kind: str
    score: float  # the model's probability that the page is an article
    evidence: str  # the signals that weighed most, for people

    @property
    def is_article(self) -> bool:
        return self.kind == "article"

    @property
    def detail(self) -> str:
        """The rejection's detail for a page that is not an article."""
        return f"{self.kind} (article score {self.score:.2f}): {self.evidence}"


def classify(
    tree: Any,
    url: str,
    text: str,
    *,
    title: str | None,
    published_at: datetime | None = None,
    author: str | None = None,
) -> PageVerdict:
    """The kind of the page parsed as ``tree`` (read, never changed), fetched from ``url``.

    ``text`` is the article text extraction kept (cleaned, headline line removed);
    ``title`` and ``author`` are what the page's metadata gave (``ingest.metadata``).
    ``published_at`` is accepted for the caller's convenience and not read: a date is
    found on nearly every page (htmldate guesses one), so what counts is a date shown
    next to the headline, which :func:`signals` looks for in the tree.
    """
    found, seen = _read(tree, url, text, title=title, author=author)
    return judge(found, seen)


def signals(
    tree: Any,
    url: str,
    text: str,
    *,
    title: str | None,
    published_at: datetime | None = None,
    author: str | None = None,
) -> dict[str, float]:
    """The page's signals by name, as the model reads them (counts as ``log1p``)."""
    return _read(tree, url, text, title=title, author=author)[0]


def judge(found: Mapping[str, float], seen: Mapping[str, str] | None = None,
          model: Mapping[str, Any] | None = None) -> PageVerdict:
    """The model's verdict on these signals; ``seen`` holds what evidence quotes (the
    URL segment that names a kind, the schema.org types declared)."""
    model = model or _model()
    features: Mapping[str, Any] = model["features"]
    names = list(features)
    z = [(found.get(name, 0.0) - features[name]["mean"]) / features[name]["scale"]
         for name in names]
    weighed = [features[name]["article"] * v for name, v in zip(names, z, strict=True)]
    score = _sigmoid(model["intercept"] + sum(weighed))
    if score >= model["threshold"]:  # quoted: signals present that argue for it
        top = sorted((i for i in range(len(names))
                      if weighed[i] > _WEIGHS and found.get(names[i])), key=lambda i: -weighed[i])
        return PageVerdict("article", score, _evidence(names, found, seen or {}, top[:3]))
    kind, confidence = _likeliest(model, z)
    if confidence < model["kind_confidence"]:
        kind = "other"
    top = sorted((i for i in range(len(names)) if weighed[i] < -_WEIGHS), key=lambda i:
                 weighed[i])
    return PageVerdict(kind, score, _evidence(names, found, seen or {}, top[:4]))


_WEIGHS = 0.2  # a signal quoted as evidence moved the log-odds at least this much


def _likeliest(model: Mapping[str, Any], z: Sequence[float]) -> tuple[str, float]:
    """The likeliest kind other than an article, and its probability among them."""
    features = model["features"].values()
    scores = {kind: intercept + sum(f["kinds"][kind] * v
                                    for f, v in zip(features, z, strict=True))
              for kind, intercept in model["kind_intercepts"].items()}
    top = max(scores.values())
    kind = max(scores, key=lambda k: scores[k])
    return kind, 1.0 / sum(math.exp(s - top) for s in scores.values())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -500 else 0.0


# --- evidence -------------------------------------------------------------------------

#: How a signal reads in evidence: (when present or large, when absent), the value
#: (counts shown as counts) formatted by ``{}``.
_SAYS: dict[str, tuple[str, str]] = {
    "slug_words": ("{:.0f}-word URL slug", "no words in the URL's last segment"),
    "url_date": ("a date in the URL", "no date in the URL"),
    "url_home": ("a home page", "not a home page"),
    "published_meta": ("article:published_time", "no article:published_time"),
    "og_article": ("og:type article", "og:type not article"),
    "og_product": ("og:type product", "og:type not product"),
    "head_date": ("a date by the headline", "no date by the headline"),
    "author": ("an author", "no author"),
    "title_words": ("{:.0f}-word headline", "no headline"),
    "text_chars": ("{:.0f} characters of text", "no text"),
    "long_share": ("{:.0%} of the text in long paragraphs", "no long paragraph"),
    "long_paragraphs": ("{:.0f} long paragraphs", "no long paragraph"),
    "sentences": ("{:.0%} of the lines end a sentence", "no line ends a sentence"),
    "paragraph_focus": ("{:.0%} of the paragraphs in one block", "no paragraph"),
    "prices": ("{:.0f} prices in the text", "no price in the text"),
    "link_share": ("link text {:.0%}", "no link text"),
    "code_blocks": ("{:.0f} code elements", "no code"),
    "anchored_headings": ("{:.0f} headings with anchors", "no heading with an anchor"),
    "linked_headings": ("{:.0f} linked headings", "no linked heading"),
    "profile_links": ("{:.0f} links to user profiles", "no link to a user profile"),
    "cart": ("{:.0f} shopping-cart controls", "no shopping-cart control"),
    "times": ("{:.0f} <time> elements", "no <time> element"),
}
#: Signals kept as log1p(count), shown as counts.
_COUNTS = frozenset({"text_chars", "long_paragraphs", "prices", "code_blocks",
                     "anchored_headings", "linked_headings", "profile_links", "cart",
                     "times", "title_words"})


def _evidence(names: Sequence[str], found: Mapping[str, float], seen: Mapping[str, str],
              which: Iterable[int]) -> str:
    parts = []
    for i in which:
        name = names[i]
        value = found.get(name, 0.0)
        if name.startswith("url_") and name[4:] in KINDS:
            segment = seen.get(name, name[4:])
            parts.append(f"URL segment /{segment}{'' if '.' in segment else '/'}" if value
                         else f"no {name[4:]} URL segment")
        elif name.startswith("ld_"):
            parts.append(f"schema.org {seen.get(name, name[3:])}" if value
                         else f"no schema.org {name[3:]} type")
        else:
            present, absent = _SAYS.get(name, (name + " {:.2f}", name + " 0"))
            shown = math.expm1(value) if name in _COUNTS else value
            parts.append(present.format(shown) if value else absent)
    return "; ".join(parts) or "no signal stood out"


# --- signals --------------------------------------------------------------------------


@functools.cache
def _rules() -> dict[str, Any]:
    data = resources.files("ingest").joinpath("rules/pagetype.yml").read_text(encoding="utf-8")
    rules: dict[str, Any] = yaml.safe_load(data)
    return rules


@functools.cache
def _model() -> dict[str, Any]:
    data = resources.files("ingest").joinpath("rules/pagetype_model.json").read_text(
        encoding="utf-8")
    model: dict[str, Any] = json.loads(data)
    return model


@functools.cache
def _segments() -> dict[str, str]:
    """URL path segment -> the kind it names."""
    found: dict[str, str] = {}
    for kind, words in _rules()["url_segments"].items():
        for word in words:
            found.setdefault(str(word).lower(), kind)
    return found


@functools.cache
def _schema_kinds() -> dict[str, str]:
    found: dict[str, str] = {}
    for kind, types in _rules()["schema_types"].items():
        for name in types:
            found[str(name).lower()] = kind
    return found


@functools.cache
def _profile_pattern() -> re.Pattern[str]:
    """Part of a link's target that points to a person's profile."""
    return re.compile("|".join(re.escape(f) for f in _rules()["profile_links"]))


@functools.cache
def _date_pattern() -> re.Pattern[str]:
    months = "|".join(sorted({re.escape(m) for m in _rules()["months"]}, key=len, reverse=True))
    return re.compile(
        r"\b(?:(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d{1,2}"
        r"|\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d\d"
        rf"|\d{{1,2}}\.?\s+(?:de\s+)?(?:{months})\.?,?\s+(?:de\s+)?(?:19|20)\d\d"
        rf"|(?:{months})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
        r"|\d+\s+(?:minutes?|hours?|days?|weeks?)\s+ago)\b"
        r"|(?:19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日",
        re.IGNORECASE,
    )


_SLUG_SPLIT = re.compile(r"[-_+~.]+")
_EXTENSION = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cfm)$")
_URL_DATE = re.compile(
    r"/(?:19|20)\d\d/(?:0?[1-9]|1[0-2])(?:/|$)|/(?:19|20)\d\d-\d\d-\d\d|(?:19|20)\d\d(?:0[1-9]|1[0-2])[0-3]\d")
_WORD = re.compile(r"\w+")
_SENTENCE_END = frozenset(".!?\"”’»)。！？")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_PRICE = re.compile(r"[$€£¥₹]\s?\d|\d\s?€")
_CURRENCY = re.compile("[$€£¥₹]")
_LONG_PARAGRAPH = 200  # characters: about 35 words, or a long paragraph of CJK text


def _read(tree: Any, url: str, text: str, *, title: str | None, author: str | None
          ) -> tuple[dict[str, float], dict[str, str]]:
    """The signals, and what evidence would quote: {signal: the word or type seen}."""
    page = _Walk(tree)
    seen: dict[str, str] = {}
    found = _url_signals(page.url(url), seen)
    found.update(_declared_signals(page, seen))
    found.update(_text_signals(text, title))
    found["author"] = float(bool(author))
    found.update(_structure_signals(page))
    return found, seen


class _Walk:
    """The elements the signals read, found in one walk over the tree (each ``//``
    XPath would walk all of it again)."""

    TAGS = ("a", "p", "h1", "h2", "h3", "h4", "pre", "code", "button", "input", "time",
            "main", "article", "meta", "link", "script", "style", "noscript")

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        found: dict[str, list[Any]] = {tag: [] for tag in self.TAGS}
        head, body = tree.find("head"), tree.find("body")
        if head is not None:
            for element in head.iter("meta", "link", "script"):
                found[element.tag].append(element)
        in_head = {tag: len(found[tag]) for tag in ("meta", "link", "script")}
        if body is None:
            body = tree
        for element in body.iter(*self.TAGS):
            found[element.tag].append(element)
        self.body = body
        self.links = found["a"]
        self.paragraphs = found["p"]
        self.headings = [*found["h1"], *found["h2"], *found["h3"], *found["h4"]]
        self.h1 = found["h1"][0] if found["h1"] else None
        self.code = len(found["pre"]) + len(found["code"])
        self.controls = found["button"] + found["input"]
        self.times = len(found["time"])
        self.scopes = [tree, body, *found["main"], *found["article"]]
        metas = {(m.get("property") or m.get("name") or "").lower(): m.get("content") or ""
                 for m in reversed(found["meta"])}  # the first of a name wins
        self.og_type = metas.get("og:type", "").lower()
        self.published_meta = "article:published_time" in metas
        self.declared_urls = [link.get("href") or "" for link in found["link"]
                              if (link.get("rel") or "").lower() == "canonical"]
        self.declared_urls.append(metas.get("og:url", ""))
        self.ld_scripts = [script.text or "" for script in found["script"]
                           if script.get("type") == "application/ld+json"]
        # scripts and styles of <body> are part of its string value, not of what it shows
        self.body_junk_chars = len("".join(
            element.text or ""
            for tag in ("script", "style", "noscript")
            for element in found[tag][in_head.get(tag, 0):]))

    def itemscopes(self) -> list[Any]:
        """The elements whose microdata type would be the page's."""
        scopes = list(self.scopes)
        if self.h1 is not None:
            scopes += self.h1.iterancestors()
        return [element for element in scopes if element.get("itemtype")]

    def url(self, fetched: str) -> str:
        """The canonical URL the page declares, else ``fetched``: its shape is the
        page's own even when it was fetched through another address. A canonical
        that points to the site's home from a deeper URL is a template's mistake."""
        for declared in self.declared_urls:
            declared = declared.strip()
            if declared.startswith(("http://", "https://")):
                if urlsplit(declared).path.strip("/") or not urlsplit(fetched).path.strip("/"):
                    return declared
                break
        return fetched


def _url_signals(url: str, seen: dict[str, str]) -> dict[str, float]:
    path = urlsplit(url).path
    segments = [s.lower() for s in path.split("/") if s]
    last = _EXTENSION.sub("", segments[-1]) if segments else ""
    words = [w for w in _SLUG_SPLIT.split(last) if w.isalpha()]
    found = {
        "slug_words": float(min(len(words), 10)),
        "url_date": float(bool(_URL_DATE.search(path))),
        "url_home": float(not segments or last in ("index", "home", "default")),
    }
    for segment in segments[:-1] or segments:
        kind = _segments().get(_EXTENSION.sub("", segment))
        if kind and "url_" + kind not in seen:
            seen["url_" + kind] = segment
    for kind in _rules()["url_segments"]:
        found["url_" + kind] = float("url_" + kind in seen)
    return found


def _declared_signals(page: _Walk, seen: dict[str, str]) -> dict[str, float]:
    kinds = _schema_kinds()
    for declared in sorted(_schema_types(page)):
        kind = kinds.get(declared.lower())
        if kind is None and declared.lower().endswith(("article", "posting")):
            kind = "article"
        if kind:
            seen["ld_" + kind] = ", ".join(filter(None, (seen.get("ld_" + kind), declared)))
    found = {"published_meta": float(page.published_meta),
             "og_article": float("article" in page.og_type),
             "og_product": float("product" in page.og_type)}
    for kind in _rules()["schema_types"]:
        found["ld_" + kind] = float("ld_" + kind in seen)
    return found


def _schema_types(page: _Walk) -> set[str]:
    """schema.org types the page declares, without their vocabulary's URL: JSON-LD
    ``@type`` (at any depth), and the microdata ``itemtype`` of the page (on ``<html>``,
    ``<body>``, ``<main>``, ``<article>``) or of an item that holds the headline."""
    types: set[str] = set()
    for script in page.ld_scripts:
        for match in _LD_TYPE.finditer(script):
            types.update(t.rsplit("/", 1)[-1] for t in _QUOTED.findall(match.group(1)))
    for element in page.itemscopes():
        types.update(t.rsplit("/", 1)[-1] for t in element.get("itemtype", "").split())
    return types


_LD_TYPE = re.compile(r'"@type"\s*:\s*(\[[^\]]*\]|"[^"]*")')
_QUOTED = re.compile(r'"([^"]+)"')


def _text_signals(text: str, title: str | None) -> dict[str, float]:
    lines = [line.strip() for line in text.splitlines()]
    total = sum(len(line) for line in lines)
    long = sum(len(line) for line in lines if len(line) >= _LONG_PARAGRAPH)
    return {
        "text_chars": math.log1p(total),
        "long_share": long / total if total else 0.0,
        "prices": _count(len(_PRICE.findall(text)) if _CURRENCY.search(text) else 0),
        "sentences": sum(1 for line in lines if line[-1:] in _SENTENCE_END) / max(
            sum(1 for line in lines if line), 1),
        "title_words": math.log1p(_words(title or "")),
    }


def _words(text: str) -> float:
    """Words of a text, a CJK character counting as half a word (headlines in Chinese
    or Japanese have no spaces)."""
    cjk = len(_CJK.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text))) + cjk / 2


def _structure_signals(page: _Walk) -> dict[str, float]:
    carts = tuple(_rules()["cart_markers"])
    link_chars = len("".join([link.text_content() for link in page.links]))
    targets = [link.get("href") or "" for link in page.links]
    profile = _profile_pattern()
    profile_targets = ({t for t in targets if profile.search(t)}
                       if profile.search("\n".join(targets)) else set())
    anchored = linked = 0
    for heading in page.headings:
        if heading.tag != "h1":
            hrefs = [a.get("href") or "" for a in heading.iter("a")]
            if any(h.startswith("#") for h in hrefs):
                anchored += 1
            elif hrefs:
                linked += 1
    held: dict[Any, int] = {}
    paragraph_chars = long = 0
    for paragraph in page.paragraphs:
        n = len(paragraph.text_content())
        long += n >= _LONG_PARAGRAPH
        if n >= 30:
            parent = paragraph.getparent()
            holder = parent.getparent() if parent is not None else None
            key = holder if holder is not None else parent
            held[key] = held.get(key, 0) + n
            paragraph_chars += n
    marks = [f"{control.get('class') or ''} {control.get('name') or ''}".lower()
             for control in page.controls]
    cart = sum(1 for mark in marks if any(c in mark for c in carts))
    page_chars = max(int(_BODY_LENGTH(page.body)) - page.body_junk_chars, 1)
    return {
        "link_share": min(link_chars / page_chars, 1.0),
        "paragraph_focus": max(held.values()) / paragraph_chars if held else 0.0,
        "code_blocks": _count(page.code),
        "anchored_headings": _count(anchored),
        "linked_headings": _count(linked),
        "profile_links": _count(len(profile_targets)),
        "cart": _count(cart),
        "long_paragraphs": _count(long),
        "times": _count(page.times),
        "head_date": float(_date_by_headline(page.h1)),
    }


def _count(n: int) -> float:
    """A count as the model reads it: log1p, capped (past a hundred, more of the same
    says nothing more, and a page with thousands must not weigh like a model of it)."""
    return math.log1p(min(n, _MOST))


_MOST = 100


# Characters of an element's text, white space included (as the links' are): computed
# in C, without building the string.
_BODY_LENGTH = etree.XPath("string-length(.)")


def _date_by_headline(h1: Any) -> bool:
    """Whether a date is shown next to the headline (the first ``<h1>``): in the few
    lines of text before it or after it (a kicker's date, a byline's)."""
    if h1 is None:
        return False
    before = " ".join(reversed(_texts_before(h1, _LINES_BEFORE)))[-_CHARS_BEFORE:]
    after = " ".join(_texts_after(h1, _LINES_AFTER))[:_CHARS_AFTER]
    return _shows_date(f"{before} {after}")


def _shows_date(text: str) -> bool:
    """Whether ``text`` shows a date. The full pattern only runs around the years and
    the "ago"s in it: it is slow, and most text has neither."""
    pattern = _date_pattern()
    if " ago" in text and pattern.search(text):
        return True
    return any(pattern.search(text, max(year.start() - 20, 0), year.end() + 12)
               for year in _YEAR.finditer(text))


_LINES_BEFORE = 8  # text nodes
_LINES_AFTER = 25
_CHARS_BEFORE = 300  # of those, at most
_CHARS_AFTER = 600
_YEAR = re.compile(r"(?:19|20)\d\d")
_UNSHOWN = frozenset({"script", "style", "noscript", "template"})


def _shown(element: Any, text: str | None) -> str | None:
    """``text`` (an element's text) unless it is not shown, or white space."""
    if not text or not isinstance(element.tag, str) or element.tag in _UNSHOWN:
        return None
    return text if not text.isspace() else None


def _texts_after(element: Any, limit: int) -> list[str]:
    """The first ``limit`` shown text nodes after ``element`` in document order."""
    found: list[str] = []
    node = element
    while node is not None:
        if node.tail and not node.tail.isspace():
            found.append(node.tail)
        for sibling in node.itersiblings():
            for inner in sibling.iter():  # a tail a little early: near enough
                for text in (_shown(inner, inner.text), inner.tail):
                    if text and not text.isspace():
                        found.append(text)
                if len(found) >= limit:
                    return found[:limit]
        node = node.getparent()
    return found[:limit]


def _texts_before(element: Any, limit: int) -> list[str]:
    """The last ``limit`` shown text nodes before ``element``, nearest first."""
    found: list[str] = []
    node = element
    while node is not None:
        for sibling in node.itersiblings(preceding=True):
            for text in _backwards(sibling):
                found.append(text)
                if len(found) >= limit:
                    return found
        node = node.getparent()
        if node is not None and (own := _shown(node, node.text)):
            found.append(own)
    return found[:limit]


def _backwards(element: Any) -> Iterator[str]:
    """The shown text nodes of ``element`` and its tail, last first (lazily: a long
    menu before the headline is not read to its start)."""
    if element.tail and not element.tail.isspace():
        yield element.tail
    for child in reversed(element):
        yield from _backwards(child)
    if text := _shown(element, element.text):
        yield text
