"""Parse feed bodies (RSS 0.9x/1.0/2.0, Atom) into :class:`FeedEntry` items.

feedparser does the parsing; around it we make sure that:

- it only ever sees bytes (given a string, feedparser would open it as a URL or
  a file);
- no XML entity declared by the document is expanded: the DOCTYPE's internal
  subset is removed first, which rules out billion-laughs and quadratic blow-ups;
- a malformed feed still yields its good entries, plus a ``feed_malformed``
  note; a body that is not a feed at all raises ``ParseError('not_a_feed')``.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest.errors import ParseError
from ingest.models import FeedEntry

_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HEAD_LIMIT = 64 * 1024


@dataclass(slots=True)
class ParsedFeed:
    entries: list[FeedEntry]
    title: str | None = None
    version: str | None = None
    problems: list[str] = field(default_factory=list)  # feed_malformed details


def defuse(body: bytes) -> bytes:
    """Drop a DOCTYPE internal subset, so that no declared entity can be expanded."""
    head = body[:_HEAD_LIMIT]
    if not _ENTITY_DECL.search(head):
        return body
    stripped, n = _DOCTYPE_SUBSET.subn(b"", head, count=1)
    if n == 0:  # an ENTITY outside a well-formed subset: drop declarations themselves
        stripped = re.sub(rb"<!ENTITY[^>]*>", b"", head, flags=re.IGNORECASE)
    return stripped + body[_HEAD_LIMIT:]


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str | None = None,
    max_items: int | None = 200,
) -> ParsedFeed:
    """Entries of a feed body. Raises ParseError('not_a_feed') when it is none."""
    import feedparser

    if not body.strip():
        raise ParseError("empty_feed", f"{url} returned an empty body")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(defuse(body), response_headers=headers)
    version = parsed.get("version") or None
    raw_entries = parsed.get("entries") or []
    problems: list[str] = []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        # A wrong or missing Content-Type says nothing about the feed itself.
        benign = type(exc).__name__ in ("CharacterEncodingOverride", "NonXMLContentType")
        if not benign:
            problems.append(f"{type(exc).__name__}: {exc}"[:500])
    if not version and not raw_entries:
        kind = (content_type or "unknown type").split(";")[0]
        raise ParseError(
            "not_a_feed",
            f"{url} ({kind}) is not an RSS or Atom feed"
            + (f": {problems[0]}" if problems else ""),
        )
    entries: list[FeedEntry] = []
    for raw in raw_entries[:max_items]:
        entry = _entry(raw, source)
        if entry is None:
            problems.append(f"entry without a link: {raw.get('title', '')[:80]!r}")
            continue
        entries.append(entry)
    feed_info = parsed.get("feed") or {}
    return ParsedFeed(
        entries=entries, title=feed_info.get("title"), version=version, problems=problems
    )


def _entry(raw: Any, source: str) -> FeedEntry | None:
    link = raw.get("link")
    if not link:
        for alt in raw.get("links") or []:
            if alt.get("rel", "alternate") == "alternate" and alt.get("href"):
                link = alt["href"]
                break
    guid = raw.get("id") or None
    if not link and guid and re.match(r"^https?://", guid):
        link = guid
    if not link or not re.match(r"^https?://", link.strip(), re.IGNORECASE):
        return None
    return FeedEntry(
        source=source,
        link=link.strip(),
        title=_clean(raw.get("title")),
        published_at=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
        guid=guid,
        summary=_clean(raw.get("summary")),
        author=_clean(raw.get("author")),
    )


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _date(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; garbage becomes None."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
