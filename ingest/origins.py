"""What a source lists, whatever its kind: one call for feeds, sitemaps, discovered
sites and list pages.

:func:`read` gives a source's entries (:class:`~ingest.models.FeedEntry`), each
saying through which kind of document it came (``via``) and which one
(``found_in``), so that the rest of a pass (fetching, page types, validation,
de-duplication, loading) is the same for every kind:

* ``feed`` (``url:``): RSS, Atom or JSON Feed (:mod:`ingest.feeds`);
* ``sitemap``: a sitemap, an index of sitemaps or a news sitemap
  (:mod:`ingest.sitemaps`); an index's children are read newest first (by the
  index's ``lastmod``), at most ``settings.sitemap_max_documents`` documents a pass,
  ``settings.sitemap_max_depth`` levels deep;
* ``site``: the feeds and sitemaps :mod:`ingest.discover` finds on the home page,
  in robots.txt and at the conventional places, found once and used for
  ``settings.discovery_refresh_days``;
* ``listing``: an HTML page that lists articles (:mod:`ingest.listing`), and the
  next ``pages - 1`` pages its "next" link leads to.

Every document but the source's own address is remembered in
``news.source_documents`` (its validators for conditional GET, an index's
``lastmod`` of it, its parent), so that an unchanged sitemap or list page costs a
304. Which entries are taken depends on the ``window``: a pass takes sitemap URLs
dated within ``settings.sitemap_recent_days`` (and undated ones, and all of a news
sitemap's, which lists what its publisher holds for news now); a backfill
(:mod:`ingest.backfill`) gives its own dates and reads further back.

A failure of the source's own address raises :class:`~ingest.errors.ItemError`
(the source backs off as a failing feed does); a failure of any other document is
one of the result's ``problems`` (a rejection with its own reason) and the rest
is read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest import discover, feeds, fetch, listing, parse, sitemaps
from ingest.config import Settings, SourceConfig
from ingest.errors import FetchError, ItemError, ParseError
from ingest.models import FeedEntry, FeedState


@dataclass(slots=True)
class Document:
    """A document a source reads besides its own address (``news.source_documents``)."""

    source: str
    url: str
    kind: str  # sitemap, listing, feed
    parent: str | None = None  # the index (or list page) that led to it
    lastmod: datetime | None = None  # its parent index's <lastmod> of it
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    status: str | None = None  # ok, not_modified, partial (entries left), or a failure reason
    changed: bool = False  # read this time: to be saved


@dataclass(slots=True)
class Window:
    """Which dated entries to take: those dated within [since, until]; undated ones
    always (the documents that list them are bounded)."""

    since: datetime | None = None
    until: datetime | None = None
    backfill: bool = False  # read past a pass's bounds (older list pages, old sitemaps)
    done: dict[str, set[str]] = field(default_factory=dict)  # per source: sitemaps read in full
    cursors: dict[str, str] = field(default_factory=dict)  # per source: the next list page

    def holds(self, when: datetime | None) -> bool:
        return when is None or ((self.since is None or when >= self.since)
                                and (self.until is None or when <= self.until))


@dataclass(slots=True)
class Listed:
    """What a source lists now."""

    entries: list[FeedEntry] = field(default_factory=list)
    problems: list[ItemError] = field(default_factory=list)  # documents that failed
    etag: str | None = None  # the source's own address (a feed): for its next
    last_modified: str | None = None  # conditional request
    older: int = 0  # dated entries outside the window
    more: bool = False  # documents left unread (the budget ran out)
    discovery: discover.Discovery | None = None  # a site source's, when found anew
    cursor: str | None = None  # a backfill's next list page
    read: list[str] = field(default_factory=list)  # sitemaps of pages read in full


@dataclass(slots=True)
class Memory:
    """What is remembered of one source between passes."""

    state: FeedState
    documents: dict[str, Document] = field(default_factory=dict)
    discovery: discover.Discovery | None = None
    discovered_at: datetime | None = None


class _Reading:
    def __init__(
        self, fetcher: fetch.Fetcher, source: SourceConfig, memory: Memory, settings: Settings,
        *, conditional: bool, policy: fetch.HostPolicy | None, window: Window,
    ) -> None:
        self.fetcher, self.source, self.memory = fetcher, source, memory
        self.settings, self.conditional, self.policy = settings, conditional, policy
        self.window = window
        self.result = Listed()
        self.budget = settings.sitemap_max_documents
        self.pattern = source.link_pattern
        self.seen: set[str] = set()
        self.answered = False  # some document came with a body (not all 304)

    def take(self, entries: Iterable[FeedEntry]) -> None:
        for entry in entries:
            if entry.link in self.seen or (self.pattern and not self.pattern.search(entry.link)):
                continue
            self.seen.add(entry.link)
            # A news sitemap lists what its publisher holds for news now: a pass takes
            # all of it, whatever the dates; a backfill keeps to its own.
            current = entry.via == "news_sitemap" and not self.window.backfill
            if current or self.window.holds(entry.published_at):
                self.result.entries.append(entry)
            else:
                self.result.older += 1

    def document(self, url: str, kind: str, parent: str | None = None) -> Document:
        doc = self.memory.documents.get(url)
        if doc is None:
            doc = self.memory.documents[url] = Document(self.source.name, url, kind, parent)
        return doc

    async def get(self, doc: Document, accept: str, *, obey_robots: bool = False,
                  ) -> fetch.Fetched | None:
        """The document, or None when it did not change (304)."""
        self.budget -= 1
        fetched = await self.fetcher.get(
            doc.url, accept=accept, policy=self.policy, obey_robots=obey_robots,
            etag=doc.etag if self.conditional else None,
            last_modified=doc.last_modified if self.conditional else None)
        doc.fetched_at, doc.changed = datetime.now(UTC), True
        if fetched.status == 304:
            doc.status = "not_modified"
            return None
        doc.status, self.answered = "ok", True
        doc.etag, doc.last_modified = (fetched.headers.get("etag"),
                                       fetched.headers.get("last-modified"))
        return fetched

    def failed(self, doc: Document, error: ItemError, what: str) -> None:
        doc.status, doc.changed = error.reason, True
        doc.etag = doc.last_modified = None  # read it in full next time
        error.detail = f"{what} {doc.url}: {error.detail}"
        self.result.problems.append(error)

    # --- sitemaps -----------------------------------------------------------------

    async def sitemap(self, root: str, *, own: bool) -> None:
        """Walk a sitemap and the indexes below it, newest children first. ``own``:
        the source's own address, whose failure is the source's."""
        queue: list[tuple[str, int]] = [(root, 0)]
        while queue:
            url, depth = queue.pop(0)
            if self.budget <= 0:
                self.result.more = True
                return
            if url in self.window.done.get(self.source.name, ()):
                continue  # a backfill read it in an earlier step
            doc = self.document(url, "sitemap")  # a child's is made with its parent
            try:
                fetched = await self.get(doc, fetch.FEED_ACCEPT)
                if fetched is None:
                    children = self.known_children(url)
                else:
                    parsed = await asyncio.to_thread(
                        sitemaps.parse_sitemap, fetched.body, fetched.url, source=self.source.name)
                    if parsed.problems:
                        self.result.problems.append(ParseError(
                            "sitemap_malformed", f"sitemap {url}: read in part: "
                            + "; ".join(parsed.problems)))
                    self.take(parsed.entries)
                    if parsed.entries:
                        self.result.read.append(url)
                    children = self.remember_children(url, parsed.children)
            except ItemError as exc:
                if own and url == root:
                    raise
                self.failed(doc, exc, "sitemap")
                continue
            if depth >= self.settings.sitemap_max_depth and children:
                self.result.problems.append(ParseError(
                    "sitemap_too_deep", f"sitemap {url}: {len(children)} sitemaps below "
                    f"{depth} levels of indexes not read (settings.sitemap_max_depth)"))
                continue
            queue.extend((child.url, depth + 1) for child in self.due_children(children))

    def remember_children(self, parent: str, children: list[tuple[str, datetime | None]],
                          ) -> list[Document]:
        docs = []
        for url, lastmod in children:
            doc = self.document(url, "sitemap", parent)
            if doc.lastmod != lastmod or doc.parent != parent:
                doc.lastmod, doc.parent, doc.changed = lastmod, parent, True
            docs.append(doc)
        return docs

    def known_children(self, parent: str) -> list[Document]:
        return [d for d in self.memory.documents.values()
                if d.parent == parent and d.kind == "sitemap"]

    def due_children(self, children: list[Document]) -> list[Document]:
        """The children worth reading: not those the index says are older than the
        window (their URLs are older still), and, in a pass, not those unchanged since
        we read them (by the index's lastmod); the newest first."""
        since = self.window.since
        due = [c for c in children
               if not (c.lastmod is not None and since is not None and c.lastmod < since)
               and not (not self.window.backfill and c.lastmod is not None
                        and c.fetched_at is not None and c.status in ("ok", "not_modified")
                        and c.lastmod <= c.fetched_at)]
        floor = datetime.min.replace(tzinfo=UTC)
        return sorted(due, key=lambda c: c.lastmod or floor, reverse=True)

    # --- list pages ---------------------------------------------------------------

    async def listing(self, start: str, pages: int) -> None:
        url: str | None = start
        for n in range(pages):
            if url is None:
                break
            if self.budget <= 0:
                self.result.more, self.result.cursor = True, url
                return
            doc = self.document(url, "listing", None)
            try:
                fetched = await self.get(doc, fetch.PAGE_ACCEPT, obey_robots=self.obey_robots)
                if fetched is None:
                    break  # unchanged: so are the older pages behind it
                fetch.require_html(fetched)
                page = await asyncio.to_thread(
                    listing.parse_listing, fetched.body, fetched.url, source=self.source.name,
                    charset=fetched.charset, links=self.pattern, zone=self.zone)
            except ItemError as exc:
                if n == 0 and url == self.source.address:
                    raise
                self.failed(doc, exc, "list page")
                break
            if not page.entries:
                error = ParseError("listing_empty", "; ".join(page.problems)
                                   or "no link looks like an article")
                if n == 0 and url == self.source.address:
                    raise error
                self.failed(doc, error, "list page")
                break
            before = len(self.result.entries)
            for entry in page.entries:
                entry.via, entry.found_in = "listing", fetched.url
            self.take(page.entries)
            url = self.result.cursor = page.next_url
            if self.window.backfill and len(self.result.entries) == before and all(
                    e.published_at is not None for e in page.entries):
                self.result.cursor = None  # a whole page older than the window: done
                break

    @property
    def obey_robots(self) -> bool:
        return (self.settings.obey_robots if self.source.obey_robots is None
                else self.source.obey_robots)

    @property
    def zone(self) -> Any:
        if self.source.timezone is None:
            return None
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.source.timezone)

    # --- discovered sites ---------------------------------------------------------

    async def site(self) -> None:
        memory, now = self.memory, datetime.now(UTC)
        refresh = timedelta(days=self.settings.discovery_refresh_days)
        if memory.discovery is None or memory.discovered_at is None or (
                now - memory.discovered_at > refresh):
            found = await discover.discover(self.fetcher, self.source.address,
                                            policy=self.policy)
            if not found.feeds and not found.sitemaps:
                raise FetchError("discovery_failed", "no feed or sitemap found: "
                                 + ("; ".join(found.problems) or "none named or linked"))
            memory.discovery, memory.discovered_at = found, now
            self.result.discovery = found
        found = memory.discovery
        for url in found.feeds:
            await self.feed(url)
        for url in found.sitemaps:
            await self.sitemap(url, own=False)

    async def feed(self, url: str) -> None:
        doc = self.document(url, "feed", self.source.address)
        try:
            fetched = await self.get(doc, fetch.FEED_ACCEPT)
            if fetched is None:
                return
            parsed = await asyncio.to_thread(
                parse.parse_feed, fetched.body, source=self.source.name, url=fetched.url,
                content_type=fetched.headers.get("content-type"), max_items=None)
        except ItemError as exc:
            self.failed(doc, exc, "feed")
            return
        if parsed.problems:
            self.result.problems.append(ParseError(
                "feed_malformed", f"feed {url}: " + "; ".join(parsed.problems[:5])))
        for entry in parsed.entries:
            entry.found_in = url
        self.take(parsed.entries)


async def read(
    fetcher: fetch.Fetcher,
    source: SourceConfig,
    memory: Memory,
    settings: Settings,
    *,
    conditional: bool = True,
    policy: fetch.HostPolicy | None = None,
    window: Window | None = None,
) -> Listed | None:
    """What ``source`` lists now: None when its documents answered 304 (and for a
    ``warc`` source, whose local files a pass reads itself: :mod:`ingest.archives`).
    Raises :class:`ItemError` when its own address cannot be read."""
    if source.kind == "warc":
        return None
    if window is None:
        window = recent(source, settings) if source.kind in ("sitemap", "site") else Window()
    reading = _Reading(fetcher, source, memory, settings, conditional=conditional,
                       policy=policy, window=window)
    if source.kind == "feed":
        read = await feeds.read(fetcher, source, memory.state, conditional=conditional,
                                policy=policy)
        if read is None:
            return None
        reading.result.etag, reading.result.last_modified = read.etag, read.last_modified
        if read.feed.problems:
            reading.result.problems.append(ParseError(
                "feed_malformed", f"feed {source.address}: " + "; ".join(read.feed.problems[:5])))
        for entry in read.feed.entries:
            entry.found_in = source.address
        reading.take(read.feed.entries)
        return reading.result
    if source.kind == "sitemap":
        await reading.sitemap(source.address, own=True)
    elif source.kind == "site":
        await reading.site()
    else:
        pages = source.pages if not window.backfill else settings.sitemap_max_documents
        await reading.listing(window.cursors.get(source.name) or source.address, pages)
    if not reading.answered and not reading.result.problems and not reading.result.more:
        return None  # every document it read answered 304
    return reading.result


def recent(source: SourceConfig, settings: Settings, now: datetime | None = None) -> Window:
    """A pass's window: sitemap URLs dated within ``sitemap_recent_days``."""
    now = now or datetime.now(UTC)
    return Window(since=now - timedelta(days=settings.sitemap_recent_days))


# --- the warehouse ------------------------------------------------------------------

_DOC_COLUMNS = ("source", "url", "kind", "parent", "lastmod", "etag", "last_modified",
                "fetched_at", "status")


def load_memories(
    conn: psycopg.Connection[Any], states: dict[str, FeedState], sources: Iterable[SourceConfig],
) -> dict[str, Memory]:
    """Each source's memory: its feed state, its documents, its discovery."""
    chosen = {s.name: s for s in sources}
    names = list(chosen)
    memories = {name: Memory(feeds.state_of(s, states)) for name, s in chosen.items()}
    for row in conn.execute(
        f"SELECT {', '.join(_DOC_COLUMNS)} FROM news.source_documents WHERE source = ANY(%s)",
        (names,),
    ):
        memories[row[0]].documents[row[1]] = Document(*row)
    for name, home, found, at in conn.execute(
        "SELECT source, home_url, found, discovered_at FROM news.site_discovery "
        "WHERE source = ANY(%s)", (names,),
    ):
        if home == chosen[name].address:
            memories[name].discovery = discover.Discovery.from_json(found)
            memories[name].discovered_at = at
    return memories


def save_memories(
    conn: psycopg.Connection[Any], memories: Iterable[Memory], *,
    but: Collection[str] = frozenset(),
    found: dict[str, tuple[str, discover.Discovery]] | None = None,
) -> None:
    """Keep the documents read this time (``but`` those of sources whose entries are
    to be read again in full: without validators) and new discoveries."""
    rows = []
    for memory in memories:
        for doc in memory.documents.values():
            if not doc.changed:
                continue
            if memory.state.source in but:  # some of its entries wait: read it again
                doc.etag = doc.last_modified = None
                if doc.status in ("ok", "not_modified"):
                    doc.status = "partial"
            rows.append(tuple(getattr(doc, c) for c in _DOC_COLUMNS))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _DOC_COLUMNS[2:])
    with conn.transaction(), conn.cursor() as cur:
        if rows:
            cur.executemany(
                f"INSERT INTO news.source_documents ({', '.join(_DOC_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(_DOC_COLUMNS))}) "
                f"ON CONFLICT (source, url) DO UPDATE SET {updates}", rows)
        for name, (home, discovery) in (found or {}).items():
            cur.execute(
                "INSERT INTO news.site_discovery (source, home_url, found, discovered_at) "
                "VALUES (%s, %s, %s, now()) ON CONFLICT (source) DO UPDATE SET "
                "home_url = EXCLUDED.home_url, found = EXCLUDED.found, "
                "discovered_at = EXCLUDED.discovered_at",
                (name, home, Jsonb(json.loads(discovery.to_json()))))
