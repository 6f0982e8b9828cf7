"""Find a site's feeds and sitemaps from its home page.

The pure parts read what was fetched: :func:`feeds_in_page` the feeds a page
advertises (``<link rel="alternate">`` of an RSS, Atom or JSON Feed type),
:func:`sitemaps_in_robots` the ``Sitemap:`` lines of a robots.txt. :func:`discover`
fetches the home page and robots.txt, probes the conventional sitemap locations when
robots.txt names none, and keeps the feeds that parse with at least one entry. A
candidate that fails is one line of :attr:`Discovery.problems`; only a home page that
fails when nothing else was found raises (``discovery_failed``).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from protego import Protego

from ingest.errors import (
    InternalError,
    ItemError,
    PermanentFetchError,
    TransientFetchError,
)
from ingest.extract import decode_html
from ingest.fetch import FEED_ACCEPT, HTML_TYPES, PAGE_ACCEPT, Fetched, Fetcher, HostPolicy
from ingest.jsonfeed import JSON_FEED_TYPE, looks_like_json_feed, parse_json_feed
from ingest.models import ParsedFeed
from ingest.parse import parse_feed
from ingest.robots import ROBOTS_MAX_BYTES, origin_of

CONVENTIONAL_SITEMAPS = ("/news-sitemap.xml", "/sitemap_news.xml", "/sitemap.xml",
                         "/sitemap_index.xml")
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", JSON_FEED_TYPE})
#: Types that are feeds only when the href says so (WordPress links its REST API as
#: application/json, RDF is used for much else than RSS 1.0).
MAYBE_FEED_TYPES = frozenset({"application/json", "application/rdf+xml"})
DISCOVERY_FEED_ACCEPT = f"{JSON_FEED_TYPE}, application/json;q=0.8, {FEED_ACCEPT}"
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5"
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
PAGE_SCAN_CHARS = 2_000_000  # of a home page, the part searched for <link> and <base>
_FEEDISH = re.compile(r"feed|rss|atom", re.IGNORECASE)
_NOT_FEEDISH = re.compile(r"wp-json|oembed", re.IGNORECASE)
_COMMENTS = re.compile(r"comments", re.IGNORECASE)
_SITEMAP_LINE = re.compile(r"^[ \t\ufeff\x00]*sitemap[ \t]*:[ \t]*([^\s#]+)", re.IGNORECASE | re.M)
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these from URLs
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_SITEMAP_STARTS = (b"<?xml", b"<urlset", b"<sitemapindex")
_GZIP_MAGIC = b"\x1f\x8b"
#: Home page failures that every other request to the site would meet as well.
_SITE_UNREACHABLE = frozenset({"private_address", "host_not_allowed", "bad_scheme", "bad_url",
                               "dns_error", "connect_error"})


@dataclass(slots=True)
class Discovery:
    """What a site offers: verified feeds, sitemaps, and what went wrong on the way."""

    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Discovery:
        """The discovery back from :meth:`to_json` (or its parsed dict); ValueError
        when it is not one."""
        value = json.loads(data) if isinstance(data, str | bytes) else data
        if not isinstance(value, Mapping):
            raise ValueError("a Discovery is a JSON object")
        lists: dict[str, list[str]] = {}
        for key in ("feeds", "sitemaps", "problems"):
            items = value.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValueError(f"a Discovery's {key} is a list of strings")
            lists[key] = list(items)
        return cls(**lists)


# --- the pure parts -----------------------------------------------------------------


class _Links(HTMLParser):
    """``<link>`` elements (their attributes) and the first ``<base href>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            values: dict[str, str] = {}
            for key, value in attrs:
                values.setdefault(key, value or "")
            self.links.append(values)
        elif tag == "base" and self.base is None:
            self.base = next((v for k, v in attrs if k == "href" and v), None)

    handle_startendtag = handle_starttag


def feeds_in_page(body: bytes, url: str, charset: str | None = None) -> list[str]:
    """The feeds a page links as ``<link rel="alternate">`` of an RSS, Atom or JSON
    Feed type: absolute (against ``<base href>``), http(s), in page order, each once.
    Comment feeds (a title or href that says "comments") are left out."""
    text, _ = decode_html(body[:PAGE_SCAN_CHARS], charset)
    parser = _Links()
    try:
        parser.feed(text[:PAGE_SCAN_CHARS])
        parser.close()
    except Exception:  # html.parser gives up on some broken markup: keep what it read
        pass
    base = _absolute(parser.base, url) if parser.base else None
    if base is None or not _is_http(base):
        base = url
    feeds: list[str] = []
    for link in parser.links:
        rel = link.get("rel", "").lower().split()
        kind = link.get("type", "").split(";", 1)[0].strip().lower()
        href = link.get("href", "")
        if "alternate" not in rel or not href.strip():
            continue
        if kind not in FEED_TYPES and not (
            kind in MAYBE_FEED_TYPES and _FEEDISH.search(href) and not _NOT_FEEDISH.search(href)
        ):
            continue
        if _COMMENTS.search(link.get("title", "")) or _COMMENTS.search(href):
            continue
        resolved = _absolute(href, base)
        if resolved is not None and _is_http(resolved) and resolved not in feeds:
            feeds.append(resolved)
    return feeds


def sitemaps_in_robots(text: str, url: str) -> list[str]:
    """The sitemaps a robots.txt names, absolute (relative ones against ``url``),
    http(s), each once, in order."""
    found: list[str] = []
    try:
        found = [str(s) for s in Protego.parse(text).sitemaps]
    except Exception:  # protego does not promise to read everything
        found = []
    # protego reads a line it cannot make sense of as nothing, and the rest well: the
    # lines it missed (a NUL before "Sitemap", ...) are read by the pattern.
    found += _SITEMAP_LINE.findall(text)
    sitemaps: list[str] = []
    for raw in found:
        resolved = _absolute(raw, url)
        if resolved is not None and _is_http(resolved) and resolved not in sitemaps:
            sitemaps.append(resolved)
    return sitemaps


def conventional_sitemaps(url: str) -> list[str]:
    """The conventional sitemap locations at the root of ``url``'s site."""
    return [origin_of(url) + path for path in CONVENTIONAL_SITEMAPS]


def looks_like_sitemap(body: bytes) -> bool:
    """XML that may be a sitemap (``<?xml``, ``<urlset``, ``<sitemapindex``), or gzip."""
    if body.startswith(_GZIP_MAGIC):
        return True
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    return body[:4096].lstrip().startswith(_SITEMAP_STARTS)


def _absolute(href: str, base: str) -> str | None:
    """``href`` resolved against ``base``, without its fragment; None when unusable."""
    href = _URL_NOISE.sub("", href).strip()
    if not href or _CONTROL.search(href):
        return None
    try:
        resolved = urldefrag(urljoin(base, href)).url
        urlsplit(resolved).port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return None
    return resolved


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# --- discovery ----------------------------------------------------------------------


async def discover(
    fetcher: Fetcher, home: str, *, policy: HostPolicy | None = None, max_each: int = 5
) -> Discovery:
    """The feeds (verified: each parses with at least one entry) and the sitemaps of
    the site whose home page is ``home``, at most ``max_each`` of each.

    Raises a FetchError ``discovery_failed`` (transient when the home page's failure
    was) when the home page cannot be fetched and nothing was found without it."""
    found = Discovery()
    candidates: list[str] = []
    home_error: ItemError | None = None
    site = home
    try:
        page = await fetcher.get(home, accept=PAGE_ACCEPT, policy=policy)
    except Exception as exc:
        home_error = _as_item_error(exc)
        found.problems.append(f"home page {home}: {home_error.reason}: {home_error.detail}"[:500])
    else:
        site = page.url
        if _is_html(page):
            candidates = feeds_in_page(page.body, page.url, page.charset)
            if not candidates:
                found.problems.append(f"home page {page.url} links no feed")
        elif _keep_feed(page, page.url, found.problems):
            found.feeds.append(home)  # the "home page" is a feed itself
    if home_error is None or home_error.reason not in _SITE_UNREACHABLE:
        await _verify_and_probe(fetcher, candidates, site, policy, max_each, found)
    if home_error is not None and not found.feeds and not found.sitemaps:
        error = TransientFetchError if home_error.retryable else PermanentFetchError
        raise error("discovery_failed", "; ".join(found.problems)[:1000]) from home_error
    return found


async def _verify_and_probe(fetcher: Fetcher, candidates: list[str], site: str,
                            policy: HostPolicy | None, max_each: int, found: Discovery) -> None:
    for candidate in candidates[:max(3 * max_each, max_each + 5)]:
        if len(found.feeds) >= max_each:
            break
        if candidate not in found.feeds and await _verify_feed(
                fetcher, candidate, policy, found.problems):
            found.feeds.append(candidate)
    found.sitemaps = await _sitemaps(fetcher, site, policy, found.problems, max_each)


async def _verify_feed(
    fetcher: Fetcher, url: str, policy: HostPolicy | None, problems: list[str]
) -> bool:
    try:
        fetched = await fetcher.get(url, accept=DISCOVERY_FEED_ACCEPT, policy=policy)
    except Exception as exc:
        error = _as_item_error(exc)
        problems.append(f"feed {url}: {error.reason}: {error.detail}"[:500])
        return False
    return _keep_feed(fetched, url, problems)


def _keep_feed(fetched: Fetched, url: str, problems: list[str]) -> bool:
    """Whether a response is a feed with at least one entry (a problem line if not)."""
    try:
        feed = _parse(fetched)
    except Exception as exc:
        error = _as_item_error(exc, "parse")
        problems.append(f"feed {url}: {error.reason}: {error.detail}"[:500])
        return False
    if not feed.entries:
        problems.append(f"feed {url}: no entries")
        return False
    return True


def _as_item_error(exc: Exception, stage: str = "fetch") -> ItemError:
    """One candidate's failure as an ItemError; one nobody foresaw as internal_error."""
    return exc if isinstance(exc, ItemError) else InternalError(exc, stage)


def _parse(fetched: Fetched) -> ParsedFeed:
    header = fetched.headers.get("content-type")
    if looks_like_json_feed(fetched.body, header) or (
        fetched.content_type == "application/json" and fetched.body.lstrip()[:1] == b"{"
    ):
        return parse_json_feed(fetched.body, source="discovery", url=fetched.url, max_items=20)
    return parse_feed(fetched.body, source="discovery", url=fetched.url, content_type=header,
                      max_items=20)


def _is_html(page: Fetched) -> bool:
    if page.content_type in HTML_TYPES:
        return True
    head = page.body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        not page.content_type.endswith(("xml", "json")) and b"<html" in head)


async def _sitemaps(fetcher: Fetcher, site: str, policy: HostPolicy | None,
                    problems: list[str], max_each: int) -> list[str]:
    """robots.txt's sitemaps, else the conventional locations that answer with one."""
    robots = origin_of(site) + "/robots.txt"
    named: list[str] = []
    try:
        fetched = await fetcher.get(robots, accept=ROBOTS_ACCEPT, policy=policy)
    except Exception as exc:
        error = _as_item_error(exc)
        if error.reason not in ("http_404", "http_410"):
            problems.append(f"robots.txt {robots}: {error.reason}: {error.detail}"[:500])
    else:
        text = fetched.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        named = sitemaps_in_robots(text.replace("\x00", ""), fetched.url)
    if named:
        return named[:max_each]
    return [url async for url in _probed(fetcher, conventional_sitemaps(site), policy,
                                           problems, max_each)]


async def _probed(fetcher: Fetcher, urls: Iterable[str], policy: HostPolicy | None,
                  problems: list[str], max_each: int) -> AsyncIterator[str]:
    kept = 0
    for url in urls:
        if kept >= max_each:
            return
        try:
            fetched = await fetcher.get(url, accept=SITEMAP_ACCEPT, policy=policy)
        except Exception as exc:
            error = _as_item_error(exc)
            if error.reason not in ("http_404", "http_410"):
                problems.append(f"sitemap {url}: {error.reason}: {error.detail}"[:500])
            continue
        if fetched.status != 200:
            problems.append(f"sitemap {url}: HTTP {fetched.status}")
        elif not looks_like_sitemap(fetched.body):
            problems.append(f"sitemap {url}: not a sitemap ({fetched.content_type or 'no type'})")
        else:
            kept += 1
            yield url


__all__ = [
    "CONVENTIONAL_SITEMAPS",
    "Discovery",
    "conventional_sitemaps",
    "discover",
    "feeds_in_page",
    "looks_like_sitemap",
    "sitemaps_in_robots",
]
