"""Sitemap sources: a sitemap, an index of sitemaps, or a news sitemap, as entries.

ultimate-sitemap-parser (``usp``, Media Cloud's) parses each document: XML
sitemaps and indexes with or without their namespace, Google News sitemaps, plain
text sitemaps, and XML cut off mid-way (what was read before the cut is kept). It
never fetches anything here: every document comes through our own fetcher, so
robots.txt, politeness, size and time limits, address rules and conditional GET
apply to sitemaps as to feeds. Gzipped documents are inflated here, within a limit.

A page's entry carries what the sitemap says of it: a news sitemap's
``news:publication_date`` and ``news:title`` stand for a publisher feed's date and
title (the page's own date still wins); a plain ``<lastmod>`` says when the URL
last changed, not when it appeared, so it is an update time (``updated_only``,
like Atom's ``<updated>``) and the entry's ``modified_at``: a stored article whose
``lastmod`` moved past its extraction is fetched again.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from usp.fetch_parse import SitemapFetcher
from usp.objects.sitemap import AbstractSitemap, InvalidSitemap
from usp.web_client.abstract_client import (
    AbstractWebClientResponse,
    LocalWebClient,
    LocalWebClientSuccessResponse,
)

from ingest.clean import parse_date
from ingest.errors import ParseError
from ingest.models import FeedEntry
from ingest.parse import defuse

MAX_INFLATED = 64 * 1024 * 1024  # the protocol's 50 MB, and some room
_GZIP_MAGIC = b"\x1f\x8b"
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*['"]([A-Za-z0-9._-]{1,40})['"]""")
# An index's <sitemap> block: its child's <loc> and <lastmod> (usp keeps only the loc).
_INDEX_ITEM = re.compile(
    r"<(?:\w+:)?sitemap\b[^>]*>(.*?)</(?:\w+:)?sitemap\s*>", re.IGNORECASE | re.DOTALL)
_LOC = re.compile(r"<(?:\w+:)?loc\b[^>]*>\s*(?:<!\[CDATA\[)?\s*(.*?)\s*(?:\]\]>)?\s*</",
                  re.IGNORECASE | re.DOTALL)
_LASTMOD = re.compile(r"<(?:\w+:)?lastmod\b[^>]*>\s*([^<]{4,40}?)\s*</", re.IGNORECASE)


@dataclass(slots=True)
class Sitemap:
    """One sitemap document, parsed: its pages' entries, or its children (an index)."""

    entries: list[FeedEntry] = field(default_factory=list)
    children: list[tuple[str, datetime | None]] = field(default_factory=list)  # (url, lastmod)
    problems: list[str] = field(default_factory=list)  # read, but not all of it


def inflate(body: bytes, limit: int = MAX_INFLATED) -> bytes:
    """A gzipped document inflated (at most ``limit`` bytes: a bomb is refused); any
    other body as it is."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise ParseError("sitemap_malformed", f"gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise ParseError("sitemap_too_large",
                         f"more than {limit // (1024 * 1024)} MB once inflated")
    return out


def parse_sitemap(body: bytes, url: str, *, source: str) -> Sitemap:
    """Parse one fetched sitemap document (gzipped or not). Raises
    ``ParseError('sitemap_malformed')`` when nothing of it reads as a sitemap."""
    text = _text(defuse(inflate(body)))
    if not text.strip():
        raise ParseError("sitemap_malformed", "empty document")
    with _usp_errors() as errors:
        try:
            parsed = _Given(url, text).sitemap()
        except Exception as exc:  # usp on an input it did not foresee
            raise ParseError("sitemap_malformed", f"{type(exc).__name__}: {exc}") from None
    if isinstance(parsed, InvalidSitemap):
        raise ParseError("sitemap_malformed", _usp_reason(parsed, errors))
    result = Sitemap(problems=errors[:5])
    subs = parsed.sub_sitemaps
    if subs:
        lastmods = _index_lastmods(text)
        result.children = [(sub.url, lastmods.get(sub.url)) for sub in subs]
        return result
    result.entries = list(_entries(parsed, url, source))
    if not result.entries and errors:
        raise ParseError("sitemap_malformed", "; ".join(errors[:3]))
    return result


def _entries(parsed: AbstractSitemap, url: str, source: str) -> Iterator[FeedEntry]:
    news = False
    for page in parsed.all_pages():
        story = page.news_story
        modified = _aware(page.last_modified)
        if story is not None:
            news = True
            published = _aware(story.publish_date)
            yield FeedEntry(source, page.url, title=story.title or None,
                            published_at=published or modified,
                            updated_only=published is None and modified is not None,
                            modified_at=modified, via="news_sitemap", found_in=url)
        else:
            yield FeedEntry(source, page.url, published_at=modified,
                            updated_only=modified is not None, modified_at=modified,
                            via="news_sitemap" if news else "sitemap", found_in=url)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(body: bytes) -> str:
    """The document as text for usp (which hands str to expat): decoded by its XML
    declaration's encoding, which is then dropped so that expat does not apply it twice."""
    declaration = _XML_DECL.match(body)
    codec = "utf-8"
    if declaration:
        named = _XML_ENCODING.search(declaration.group(0))
        if named:
            codec = named.group(1).decode("ascii")
        body = body[declaration.end():]
    try:
        return body.decode(codec, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _index_lastmods(text: str) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for block in _INDEX_ITEM.finditer(text):
        loc, lastmod = _LOC.search(block.group(1)), _LASTMOD.search(block.group(1))
        if loc and lastmod:
            when = _iso(lastmod.group(1)) or parse_date(lastmod.group(1))
            if when is not None:
                found[loc.group(1).replace("&amp;", "&")] = _aware(when)  # type: ignore[assignment]
    return found


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


class _Given(SitemapFetcher):
    """usp's fetcher, handed the document we fetched instead of fetching it."""

    __slots__ = ["_given"]

    def __init__(self, url: str, text: str) -> None:
        super().__init__(url=url, recursion_level=0, web_client=LocalWebClient())
        self._given = text

    def _fetch(self) -> AbstractWebClientResponse:
        return LocalWebClientSuccessResponse(url=self._url, data=self._given)


def _usp_reason(parsed: InvalidSitemap, errors: list[str]) -> str:
    reason = getattr(parsed, "reason", None) or "not a sitemap"
    return "; ".join([reason, *errors[:2]])


class _Collect(logging.Handler):
    """usp's errors of the calling thread (it logs what it could not read, and goes on)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)  # its warnings are about what it could read
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < 20:
            self.messages.append(" ".join(record.getMessage().split())[:300])


@contextmanager
def _usp_errors() -> Iterator[list[str]]:
    logger = logging.getLogger("usp")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
