"""The page's metadata: each field's rules (titles, dates, zones, authors) composed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from lxml.html import HtmlElement

from ingest.metadata.authors import _author
from ingest.metadata.dates import _modified, _published
from ingest.metadata.page import _clean, _field, _Page, parse_html
from ingest.metadata.titles import _title
from ingest.metadata.zones import _page_zone


@dataclass(slots=True, frozen=True)
class PageMetadata:
    """What :func:`page_metadata` found; ``date_source`` is one of the codes of
    :mod:`ingest.metadata.dates`."""

    title: str | None
    author: str | None
    published_at: datetime | None  # always timezone-aware
    date_source: str | None
    modified_at: datetime | None
    site_name: str | None
    zone: tzinfo | None = None  # the zone dates were read in: the source's, else the page's


def page_metadata(
    html: str | HtmlElement,
    url: str,
    *,
    zone: tzinfo | None,
    feed_title: str | None = None,
    feed_published_at: datetime | None = None,
    feed_author: str | None = None,
    fallback: Any = None,
    now: datetime | None = None,
) -> PageMetadata:
    """The page's metadata.

    ``html`` may be a parsed lxml tree, which is only read (parse once, share it with
    trafilatura). ``zone`` is the source's time zone; None when the source names
    none, and the page's own is inferred (:mod:`ingest.metadata.zones`). ``fallback`` is
    trafilatura's ``Document`` (or any object or dict with its ``title``, ``date``,
    ``author``, ``sitename``; each read only when needed): with a date, htmldate is not
    run again. ``now`` bounds future dates.
    """
    tree = parse_html(html) if isinstance(html, str) else html
    if tree is None:
        return PageMetadata(None, None, None, None, None, None)
    page = _Page(tree, url)
    now = now or datetime.now(UTC)
    zone = zone if zone is not None else _page_zone(page)
    published, source = _published(page, zone, now, feed_published_at, fallback)
    site_name = page.site_name or _clean(_field(fallback, "sitename"))
    return PageMetadata(
        title=_title(page, feed_title) or _clean(_field(fallback, "title")),
        author=_author(page, feed_author, lambda: _field(fallback, "author")),
        published_at=published,
        date_source=source,
        modified_at=_modified(page, zone, now),
        site_name=site_name,
        zone=zone,
    )
