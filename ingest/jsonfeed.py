"""Parse JSON Feed 1.0 and 1.1 bodies (https://jsonfeed.org/version/1.1) into
:class:`~ingest.models.FeedEntry` items, as :func:`ingest.parse.parse_feed` does for
RSS and Atom (feedparser does not read JSON Feed).

What strangers write is checked field by field: a field of the wrong type (a title
that is a list, a date that is a number) is ignored, an item that is not an object is
skipped, and each such finding is one line of ``problems``. Only a body that is not
JSON, or has no ``items`` list, raises: ``ParseError('not_a_feed')``. Nothing else is
ever raised.
"""

from __future__ import annotations

import codecs
import email.utils
import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from ingest.errors import ParseError
from ingest.models import FeedEntry, ParsedFeed

JSON_FEED_TYPE = "application/feed+json"
SNIFF_BYTES = 4096
SUMMARY_CHARS = 1000  # a summary taken from the content is cut to about this many
MAX_PROBLEMS = 50  # lines of problems kept; the rest are counted in one more line
_VERSION = re.compile(rb'"version"\s*:\s*"https?:(?:\\?/){2}jsonfeed\.org(?:\\?/)version',
                      re.IGNORECASE)
_VERSION_URL = re.compile(r"^https?://jsonfeed\.org/version/([0-9.]+)/?$", re.IGNORECASE)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")  # [^<>]: linear over many unclosed "<"
_INVISIBLE = re.compile(r"<(script|style|template)\b[^<>]*>.*?</\1\s*>",
                        re.IGNORECASE | re.DOTALL)
_MAX_DATE_CHARS = 64
_CONTENT_SCAN = 50_000  # characters of content_html looked at for a summary


def looks_like_json_feed(body: bytes, content_type: str | None = None) -> bool:
    """Whether a body is a JSON Feed: served as ``application/feed+json``, or a JSON
    object (after an optional BOM and whitespace) whose first 4 KB name a jsonfeed.org
    ``version``."""
    if content_type and content_type.split(";", 1)[0].strip().lower() == JSON_FEED_TYPE:
        return True
    head = body[:SNIFF_BYTES]
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    return head.lstrip(b" \t\r\n").startswith(b"{") and _VERSION.search(head) is not None


def parse_json_feed(
    body: bytes, *, source: str, url: str | None, max_items: int | None = None
) -> ParsedFeed:
    """Entries of a JSON Feed body (at most ``max_items`` of its items). Raises
    ParseError('not_a_feed') when the body is not JSON or has no ``items`` list."""
    where = url or source
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(
            "not_a_feed", f"{where} is not a JSON Feed: invalid JSON ({_short(exc)})"
        ) from None
    if not isinstance(document, dict):
        raise ParseError(
            "not_a_feed", f"{where} is not a JSON Feed: a JSON {_kind(document)}, not an object")
    items = document.get("items")
    if not isinstance(items, list):
        found = "no items" if items is None else f"items is a {_kind(items)}"
        raise ParseError("not_a_feed", f"{where} is not a JSON Feed: {found}, not a list")
    notes = _Problems()
    version = _version(document.get("version"), notes)
    base = _base(document, url, notes)
    feed_authors = _authors(document, "feed", notes)
    entries: list[FeedEntry] = []
    for index, item in enumerate(items[:max_items]):
        if not isinstance(item, dict):
            notes.add(f"item {index} is a {_kind(item)}, not an object: skipped")
            continue
        entry = _entry(item, index, source, base, feed_authors, notes)
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(
        entries=entries, title=_clean(_text(document, "title", "feed", notes)),
        version=version, problems=notes.lines(),
    )


class _Problems:
    """Problem lines, at most MAX_PROBLEMS of them and a count of the rest."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._more = 0

    def add(self, line: str) -> None:
        if len(self._lines) < MAX_PROBLEMS:
            self._lines.append(_storable(line[:300]))
        else:
            self._more += 1

    def lines(self) -> list[str]:
        return self._lines + ([f"{self._more} more problem(s)"] if self._more else [])


def _entry(item: dict[str, Any], index: int, source: str, base: str | None,
           feed_authors: str | None, notes: _Problems) -> FeedEntry | None:
    where = f"item {index}"
    guid = _id(item.get("id"), where, notes)
    link = (_text(item, "url", where, notes) or "").strip()
    if not link:
        link = (_text(item, "external_url", where, notes) or "").strip()
    if not link and guid and _HTTP.match(guid.strip()):
        link = guid.strip()
    link = _resolve(link, base) if link else ""
    if not link or not _HTTP.match(link):
        title = _text(item, "title", where, _Problems()) or ""
        notes.add(f"entry without a link: {title[:80]!r}")
        return None
    published = _date(item, "date_published", where, notes)
    modified = _date(item, "date_modified", where, notes) if published is None else None
    authors = _authors(item, where, notes)
    return FeedEntry(
        source=source,
        link=link,
        title=_clean(_text(item, "title", where, notes)),
        published_at=published or modified,
        updated_only=published is None and modified is not None,
        guid=guid,
        summary=_summary(item, where, notes),
        author=authors if authors is not None else feed_authors,
    )


def _version(value: Any, notes: _Problems) -> str:
    if not isinstance(value, str):
        notes.add("no JSON Feed version" if value is None
                  else f"version is a {_kind(value)}, not a string")
        return "json"
    match = _VERSION_URL.match(value.strip())
    if match is None:
        notes.add(f"unknown JSON Feed version {_storable(value[:80])!r}")
        return "json"
    return "json" + match.group(1).replace(".", "")[:8]  # json1, json11, a later json12


def _base(document: dict[str, Any], url: str | None, notes: _Problems) -> str | None:
    """What relative item URLs resolve against: home_page_url, feed_url, or where the
    feed was fetched from."""
    for key in ("home_page_url", "feed_url"):
        value = (_text(document, key, "feed", notes) or "").strip()
        if value:
            resolved = _resolve(value, url)
            if _HTTP.match(resolved):
                return resolved
    return url


def _resolve(link: str, base: str | None) -> str:
    if not base:
        return link
    try:
        return urljoin(base, link)
    except ValueError:  # a malformed netloc ("http://[::1")
        return link


def _text(obj: Mapping[str, Any], key: str, where: str, notes: _Problems) -> str | None:
    """A string field, storable; None (and a problem) when it is of another type."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        notes.add(f"{where}: {key} is a {_kind(value)}, not a string: ignored")
        return None
    return _storable(value)


def _id(value: Any, where: str, notes: _Problems) -> str | None:
    """The item's id: JSON Feed readers must coerce a number to a string."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        notes.add(f"{where}: id is a {_kind(value)}, not a string: ignored")
        return None
    return _storable(value) or None


def _date(item: dict[str, Any], key: str, where: str, notes: _Problems) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (an RFC 822 one is taken too); a date
    without an offset is taken as UTC."""
    text = _text(item, key, where, notes)
    if text is None:
        return None
    value = _datetime(text.strip())
    if value is None:
        notes.add(f"{where}: {key} {text[:40]!r} is not a date: ignored")
    return value


def _datetime(text: str) -> datetime | None:
    if not text or len(text) > _MAX_DATE_CHARS:
        return None
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text.upper())
    except ValueError:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if value is None:
        return None
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 west of UTC, year 9999 east of it
        return None


def _authors(obj: dict[str, Any], where: str, notes: _Problems) -> str | None:
    """Names of ``authors`` (1.1), else of ``author`` (1.0), joined with ", "."""
    names: list[str] = []
    authors = obj.get("authors")
    if isinstance(authors, list):
        for n, author in enumerate(authors):
            name = _author_name(author, f"{where}: authors[{n}]", notes)
            if name and name not in names:
                names.append(name)
    elif authors is not None:
        notes.add(f"{where}: authors is a {_kind(authors)}, not a list: ignored")
    if not names and obj.get("author") is not None:
        name = _author_name(obj.get("author"), f"{where}: author", notes)
        if name:
            names.append(name)
    return ", ".join(names) or None


def _author_name(author: Any, where: str, notes: _Problems) -> str | None:
    if not isinstance(author, dict):
        notes.add(f"{where} is a {_kind(author)}, not an object: ignored")
        return None
    return _clean(_text(author, "name", where, notes))


def _summary(item: dict[str, Any], where: str, notes: _Problems) -> str | None:
    """``summary``, else the start of ``content_text``, else of ``content_html`` without
    its markup."""
    summary = _clean(_text(item, "summary", where, notes))
    if summary:
        return summary
    text = _text(item, "content_text", where, notes)
    if text is None:
        markup = _text(item, "content_html", where, notes)
        if markup:
            markup = _INVISIBLE.sub(" ", markup[:_CONTENT_SCAN])
            text = _storable(html.unescape(_TAG.sub(" ", markup)))
    return _shortened(_clean(text[:SUMMARY_CHARS * 4] if text else None))


def _shortened(text: str | None) -> str | None:
    if text is None or len(text) <= SUMMARY_CHARS:
        return text
    cut = text.rfind(" ", SUMMARY_CHARS // 2, SUMMARY_CHARS)
    return text[:cut if cut > 0 else SUMMARY_CHARS].rstrip() + "…"


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(value.split()) or None


def _storable(value: str) -> str:
    """The string without what PostgreSQL's text refuses (NUL, a lone surrogate)."""
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(exc: BaseException) -> str:
    return _storable(" ".join(str(exc).split()))[:200] or type(exc).__name__


__all__ = ["JSON_FEED_TYPE", "looks_like_json_feed", "parse_json_feed"]
