"""Fuzzing as tests (hypothesis): the stages that read what strangers wrote.

Each property: the function returns, or raises one of our own ``IngestError``
classes, within a time bound measured here; what it returns can be stored
(no NUL, no lone surrogate: PostgreSQL takes neither). Inputs are random bytes
or text, and real feeds, pages and URLs of ../shared/corpus mutated (byte
flips, nasty fragments, truncation, huge attributes, deep nesting).

The normal run is small and derandomized (the same inputs every time);
``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) runs far more, randomly. Every
failure found this way became a regular test in test_parse.py, test_extract.py,
test_resolve.py or test_hostile.py, with its input.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS
from ingest.errors import IngestError
from ingest.extract import ExtractJob, decode_html, extract_items
from ingest.parse import parse_feed
from ingest.resolve import canonicalize, is_direct, unwrap, url_aliases, wrappers_from_settings

T = TypeVar("T")
FEEDS = CORPUS / "feeds"
PAGE_CORPORA = ("scrapinghub_aeb", "mozilla_readability", "trafilatura_eval", "wcxb_dev")
FEED_SECONDS, PAGE_SECONDS, URL_SECONDS = 2.0, 5.0, 0.5

_COMMON = {
    "deadline": None,  # timed inside the tests, with the bounds above
    "database": None,
    "suppress_health_check": list(HealthCheck),
    "print_blob": True,
}
settings.register_profile("fuzz-quick", derandomize=True, **_COMMON)
settings.register_profile("fuzz", derandomize=False, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-quick")
# Examples per test: small enough that the normal run stays under a minute.
_BUDGETS = {
    "fuzz-quick": {"feed": 1_000, "feed_seed": 1_000, "page": 300, "page_seed": 200,
                   "decode": 1_000, "url": 2_000},
    "fuzz": {"feed": 20_000, "feed_seed": 20_000, "page": 1_500, "page_seed": 1_500,
             "decode": 10_000, "url": 50_000},
}


def budget(kind: str) -> settings:
    scale = _BUDGETS.get(PROFILE, _BUDGETS["fuzz"])
    return settings(settings.get_profile(PROFILE if PROFILE in _BUDGETS else "fuzz"),
                    max_examples=scale[kind])


def timed(limit: float, fn: Callable[[], T]) -> T | None:
    """fn's result (None when it raised an IngestError), asserting it took under limit."""
    started = time.monotonic()
    try:
        result: T | None = fn()
    except IngestError:
        result = None
    elapsed = time.monotonic() - started
    assert elapsed < limit, f"took {elapsed:.2f} s (bound {limit} s)"
    return result


def storable(value: Any, what: str) -> None:
    """PostgreSQL text takes neither NUL nor a lone surrogate."""
    if isinstance(value, str):
        assert "\x00" not in value, f"{what} has a NUL"
        value.encode("utf-8")  # a lone surrogate raises here
    elif isinstance(value, (list, tuple)):
        for item in value:
            storable(item, what)


# --- inputs -------------------------------------------------------------------------


@cache
def _files(kind: str) -> tuple[Path, ...]:
    if kind == "feeds":
        found = [p for sub in ("realworld", "feedparser_tests") for p in (FEEDS / sub).rglob("*")]
    else:
        found = [p for corpus in PAGE_CORPORA for p in (CORPUS / corpus / "html").glob("*.html")]
    return tuple(sorted(p for p in found if p.is_file()))


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


@cache
def _urls() -> tuple[str, ...]:
    urls = []
    for corpus in PAGE_CORPORA:
        with (CORPUS / corpus / "ground_truth.jsonl").open(encoding="utf-8") as fh:
            urls += [json.loads(line).get("url") or "" for line in fh]
    return tuple(u for u in urls if u)


def _corpus_has(kind: str) -> bool:
    return bool(CORPUS.is_dir() and (_files(kind) if kind != "urls" else _urls()))


#: Fragments that broke, or might break, a feed parser.
FEED_FRAGMENTS = (
    b"&#xD800;", b"&#xdfff;", b"&#55296;", b"&#0;", b"&#x0;", b"&#x110000;", b"&#99999999999;",
    b"&#x1;", b"&#xFFFE;", b"&#xD800", b"&amp;#xD800;", b"&lt;b&gt;&amp;#55296;&lt;/b&gt;",
    b"\x00", b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"]]>",
    b"<![CDATA[", b"<!--", b"-->", b"&", b"<", b">", b"&lol;", b"&nbsp;", b"&#;", b"&#x;",
    b'<?xml version="1.0" encoding="utf\x00-8"?>', b'<?xml version="1.0" encoding="\xe9"?>',
    b'<!DOCTYPE rss [<!ENTITY lol "lollollollol">]>', b"<!DOCTYPE x [", b"<!ENTITY a",
    b"<item>", b"</item>", b"<entry>", b"</entry>", b"<title>", b"</title>", b"<link>",
    b"<link/>", b'<link rel="alternate" href=""/>', b'<link href="javascript:alert(1)"/>',
    b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">',
    b'<content type="html">', b'<summary type="text/html">', b"<description>",
    b"<pubDate>Mon, 99 Xyz 99999 99:99:99 +9999</pubDate>",
    b"<updated>9999-99-99T99:99:99Z</updated>", b"<dc:date>-1</dc:date>",
    b'<georss:point xmlns:georss="http://www.georss.org/georss">1 2 3</georss:point>',
    b"<georss:polygon>1</georss:polygon>", b"<georss:box/>", b"<gml:pos>x y</gml:pos>",
    b"<gml:Point>", b"<gml:posList/>", b"<georss:where>", b'<media:content url=""/>',
    b"<media:thumbnail/>", b"<media:title/>", b"<media:group>", b"<media:credit/>",
    b"<media:restriction/>", b"<media:license/>", b"<media:rating/>", b"<media:player/>",
    b"<itunes:image/>", b"<itunes:category/>", b"<itunes:owner>", b"<itunes:explicit/>",
    b"<itunes:keywords/>", b"<psc:chapters>", b'<psc:chapter start="x"/>', b"<source/>",
    b"<enclosure/>", b'<enclosure url="" length="x"/>', b"<category/>", b"<author><name/>",
    b"</author>", b"<dc:creator/>", b"<dc:contributor>", b"<contributor/>", b"<cc:license/>",
    b"<creativeCommons:license/>", b"<admin:generatorAgent/>", b"<admin:errorReportsTo/>",
    b"<textInput>", b"<image>", b"<cloud/>", b"<guid isPermaLink='true'/>", b"<id/>",
    b"<xhtml:body>", b"<rdf:RDF>", b"<channel>", b"</channel>", b"<feed>", b"<rss>",
    b'xmlns:a=""', b'<a:b xmlns:a="http://purl.org/dc/elements/1.1/">', b"<:a>", b"<a:>",
    b'<x y="', b"<x y='z' y='z'>", b"<br>", b"<script>", b"<style>", b"<base href='x'>",
)
FEED_REPEATS = (
    b"<div>", b"<item>", b"<entry>", b"<media:group>", b"<a:b>", b"\n", b" ", b"<!-- c -->",
    b"<!DOCTYPE x [", b"<!ENTITY a", b"&#xD800;", b"A", b"<![CDATA[", b"&lt;", b"<title>",
)
ENCODING_NAMES = (
    b"utf-8", b"UTF-16", b"utf-32", b"iso-8859-1", b"cp1252", b"gb2312", b"euc-kr", b"utf-7",
    b"idna", b"punycode", b"undefined", b"rot13", b"hex", b"base64", b"mbcs", b"", b" ", b"\x00",
    b"utf\x00-8", b"\xe9", b"utf-8\xff", b"x" * 300, b"unicode_escape", b"raw-unicode-escape",
    b"cp037", b"utf_8_sig", b"ascii", b"latin-1",
)
PAGE_FRAGMENTS = (
    b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x81\x82\x83", b"\xef\xbb\xbf",
    b"&#xD800;", b"&#0;", b"&#x110000;", b"&#99999999999;", b"&nbsp;" * 8, b"\xc2\xa0" * 8,
    b'<meta charset="utf-16">', b'<meta charset="idna">', b'<meta charset="undefined">',
    b'<meta charset="utf-7">', b'<meta charset="\x00">', b'<meta charset="rot13">',
    b'<meta charset="x-user-defined">', b'<meta charset="euc-kr">', b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
    b"<html lang='\xff\xfe'>", b"<html lang='zz'>", b"<title>", b"</title>", b"<h1>", b"</h1>",
    b"<article>", b"</article>", b"<p>", b"</p>", b"<div>", b"</div>", b"<table>", b"<tr><td>",
    b"<pre>", b"<script>", b"</script>", b"<style>", b"<!--", b"-->", b"<![CDATA[", b"]]>",
    b'<meta property="article:published_time" content="99999-99-99T99:99">',
    b'<meta property="article:published_time" content="0000-00-00">',
    b'<meta name="author" content="&#0;">', b'<link rel="canonical" href="http://[oops/">',
    b'<link rel="canonical" href="\x00">', b'<meta property="og:url" content="http://a:99999/">',
    b'<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"',
    b'<script type="application/ld+json">{"author":[[[[{}]]]],"@graph":',
    b"<time datetime='-1'>", b"<time pubdate>", b'<span class="byline">By ', b"</span>",
    b"<h2>", b"<svg>", b"<math>", b"<template>", b"<noscript>", b"<frameset>", b"<xmp>",
    b"<plaintext>", b"<iframe>", b"<base href='javascript:'>",
)
PAGE_REPEATS = (
    b"<div>", b"<div>x</div>", b"<p>x</p>\n", b"x\n", b"<span>", b"<table><tr><td>", b"<b><i>",
    b"<p>word </p>", b"\xc2\xa0", b"&nbsp;", b"\xff", b"<li>", b"<br>", b"a",
)
URL_FRAGMENTS = (
    "%", "%z", "%zz", "%00", "%C0%AF", "%u2215", "[", "]", "[::1]", "[v1.x]", "@", ":", "::",
    ":99999", ":-1", ":0", "\x00", "\t", "\n", " ", "\ufffd", "\u2100", "\uff0f", "xn--", "..",
    "/./", "/../", "//", "#", "?", "&", "=", "?url=", "&url=http%3a%2f%2fex.org%2f", "&url=a1",
    "utm_source=x", "ÿ", "é", "한국", "😀", "\u0130", "\u00df", "a" * 70, ".", "localhost",
    "javascript:", "http://", "https://", "HTTP://", "\\", "\u3002", "%2e%2e", "%2F",
)
BING = "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url={}&c=1&mkt=en-us"


@st.composite
def _mutated(
    draw: st.DrawFn, seeds: tuple[Path, ...], fragments: tuple[bytes, ...],
    repeats: tuple[bytes, ...], max_repeat: int,
) -> bytes:
    """A corpus file with a few mutations; ``max_repeat`` bytes at most are repeated:
    the bounds are for pathological slowness, not for the throughput on big inputs."""
    body = bytearray(_read(draw(st.sampled_from(seeds))))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(
            ("flip", "insert", "insert", "bytes", "truncate", "delete", "repeat", "declaration",
             "doctype")))
        if op == "flip" and body:
            at = min(at, len(body) - 1)
            body[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            body[at:at] = draw(st.sampled_from(fragments))
        elif op == "bytes":
            body[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "truncate":
            del body[at:]
        elif op == "delete":
            del body[at:at + draw(st.integers(1, 512))]
        elif op == "repeat":
            piece = draw(st.sampled_from(repeats))
            body[at:at] = piece * draw(st.integers(2, max(2, max_repeat // len(piece))))
        elif op == "declaration":
            name = draw(st.sampled_from(ENCODING_NAMES) | st.binary(max_size=10))
            body[0:0] = b'<?xml version="1.0" encoding="' + name + b'"?>\n'
        elif op == "doctype":
            pad = draw(st.sampled_from((b"", b"\n" * 70_000, b"<!-- -->" * 9_000)))
            body[0:0] = (b'<?xml version="1.0"?>' + pad + b'<!DOCTYPE x [<!ENTITY a "'
                         + b"A" * 10_000 + b'"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>')
            body += b"&b;" * 100
    return bytes(body)


def feed_seeds() -> st.SearchStrategy[bytes]:
    return _mutated(_files("feeds"), FEED_FRAGMENTS, FEED_REPEATS, 50_000)


def page_seeds() -> st.SearchStrategy[bytes]:
    return _mutated(_files("pages"), PAGE_FRAGMENTS, PAGE_REPEATS, 50_000)


def feed_like() -> st.SearchStrategy[bytes]:
    """Feeds made of fragments: what reaches feedparser's loose parser's odd corners."""
    parts = st.lists(st.sampled_from(FEED_FRAGMENTS) | st.binary(max_size=12), max_size=40)
    head = st.sampled_from((b"", b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="'))
    root = st.sampled_from((b'<rss version="2.0"><channel><item>',
                            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>',
                            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
                            b' xmlns="http://purl.org/rss/1.0/"><item>'))
    return st.builds(lambda h, r, p: h + r + b"".join(p), head, root, parts)


# --- feeds --------------------------------------------------------------------------

CONTENT_TYPES = st.none() | st.sampled_from((
    "application/rss+xml", "text/xml", "text/html; charset=utf-8", "application/xml; charset=idna",
    "text/xml; charset=undefined", "application/atom+xml; charset=\x00", "text/plain; charset=\xe9",
    "application/xml; charset=utf-16", "", ";", "application/xml; charset=",
))


def check_feed(body: bytes, content_type: str | None = None) -> None:
    feed = timed(FEED_SECONDS, lambda: parse_feed(
        body, source="s", url="http://127.0.0.1/feed", content_type=content_type))
    if feed is None:
        return
    storable(feed.title, "feed title")
    storable(feed.problems, "problems")
    for entry in feed.entries:
        storable([entry.link, entry.title, entry.summary, entry.author, entry.guid], "entry")


@budget("feed")
@given(body=st.binary(max_size=4096) | feed_like(), content_type=CONTENT_TYPES)
def test_parse_feed_on_random_bytes(body: bytes, content_type: str | None) -> None:
    check_feed(body, content_type)


@pytest.mark.skipif(not _corpus_has("feeds"), reason="../shared/corpus/feeds absent")
@budget("feed_seed")
@given(body=st.deferred(feed_seeds), content_type=CONTENT_TYPES)
def test_parse_feed_on_mutated_real_feeds(body: bytes, content_type: str | None) -> None:
    check_feed(body, content_type)


# --- pages --------------------------------------------------------------------------

DECLARED = st.none() | st.sampled_from(
    ("utf-8", "iso-8859-1", "idna", "undefined", "utf-16", "x-user-defined", "\x00", "é", "utf-7"))


@pytest.fixture(scope="module")
def warm() -> None:
    """The language model and dateparser's locales load on the first page (seconds on a
    busy machine): not the page's time."""
    from ingest.extract import warm_up

    warm_up()


def check_page(body: bytes, declared: str | None) -> None:
    job = ExtractJob(source="s", url="http://127.0.0.1/a/page.html", body=body,
                     declared_charset=declared, feed_title="Feed \x00 title")
    records = timed(PAGE_SECONDS, lambda: extract_items(job))
    for record in records or []:
        storable([record.text, record.title, record.author, record.site_name,
                  record.declared_url, record.language, record.encoding], "record")
        assert record.text.strip()


@budget("decode")
@given(body=st.binary(max_size=8192), declared=DECLARED)
def test_decode_html_on_random_bytes(warm: None, body: bytes, declared: str | None) -> None:
    decoded = timed(PAGE_SECONDS, lambda: decode_html(body, declared))
    assert decoded is not None
    text, encoding = decoded
    text.encode("utf-8", errors="strict")  # no lone surrogate
    assert isinstance(encoding, str) and encoding


@budget("page")
@given(body=st.binary(max_size=8192) | st.lists(
    st.sampled_from(PAGE_FRAGMENTS + PAGE_REPEATS) | st.text(max_size=40).map(str.encode),
    max_size=80).map(b"".join), declared=DECLARED)
def test_extract_items_on_random_bytes(warm: None, body: bytes, declared: str | None) -> None:
    check_page(body, declared)


@pytest.mark.skipif(not _corpus_has("pages"), reason="../shared/corpus absent")
@budget("page_seed")
@given(body=st.deferred(page_seeds), declared=DECLARED)
def test_extract_items_on_mutated_real_pages(
    warm: None, body: bytes, declared: str | None,
) -> None:
    decoded = timed(PAGE_SECONDS, lambda: decode_html(body, declared))
    assert decoded is not None
    check_page(body, declared)


# --- URLs ---------------------------------------------------------------------------

WRAPPERS = wrappers_from_settings([])


def check_url(url: str, other: str) -> None:
    def run() -> None:
        target = unwrap(url, WRAPPERS)
        assert isinstance(target, str)
        try:
            canonical = canonicalize(target)
        except ValueError as exc:  # callers suppress ValueError: it must be our BadURL
            assert isinstance(exc, IngestError), repr(exc)
            canonical = target
        else:
            storable(canonical, "canonical URL")
            assert canonicalize(canonical) == canonical, "canonical form is not stable"
        assert isinstance(is_direct(url, target, canonical), bool)
        assert isinstance(is_direct(other, url, canonical), bool)
        aliases = url_aliases([url, target, other, canonical])
        assert len(set(aliases)) == len(aliases) and "" not in aliases

    timed(URL_SECONDS, run)


@st.composite
def _mutated_url(draw: st.DrawFn, seeds: st.SearchStrategy[str]) -> str:
    url = draw(seeds)
    if draw(st.booleans()):
        url = BING.format(draw(st.sampled_from(("", "a1"))) + url.replace("%", "%25")
                          .replace(":", "%3a").replace("/", "%2f").replace("&", "%26"))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(url)))
        piece = draw(st.sampled_from(URL_FRAGMENTS) | st.text(max_size=4))
        url = url[:at] + piece + url[at:] if draw(st.booleans()) else url[:at] + piece
    return url


@budget("url")
@given(url=st.text(max_size=200) | st.from_regex(r"\Ahttps?://[^/]{0,30}(/.{0,40})?\Z"),
       other=st.text(max_size=60))
def test_urls_on_random_text(url: str, other: str) -> None:
    check_url(url, other)


@pytest.mark.skipif(not _corpus_has("urls"), reason="../shared/corpus absent")
@budget("url")
@given(url=st.deferred(lambda: _mutated_url(st.sampled_from(_urls()))), other=st.text(max_size=40))
def test_urls_on_mutated_real_urls(url: str, other: str) -> None:
    check_url(url, other)
