"""One pass over sources: the stages composed, streaming.

Feeds are fetched concurrently; each entry's page is fetched, then extracted in
the process pool while other pages download; finished records gather into
batches that are de-duplicated, validated and loaded (one transaction each)
while the pass goes on. Every failure on the way becomes a rejection; one
source's failure never stops the others.

The Airflow DAG calls :func:`begin_run`, :func:`ingest_sources` (once per batch
of sources) and :func:`end_run`; the CLI calls :func:`run_pass`, which does the
same three in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg

from ingest import db, extract, fetch, load, parse, validate
from ingest.config import Config, Settings, SourceConfig
from ingest.dedup import collapse_batch
from ingest.errors import ExtractError, FetchError, ItemError, ParseError
from ingest.extract import Extracted, ExtractJob
from ingest.models import Article, FeedEntry, Rejection, SourceCounts
from ingest.pool import ProcessPool
from ingest.resolve import (
    WrapperRule,
    canonicalize,
    is_direct,
    unwrap,
    url_aliases,
    wrappers_from_settings,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: progress(event, source, n): events "entries" (n found), "item" (one entry done).
ProgressFn = Callable[[str, str, int], None]


@dataclass
class PassResult:
    run_id: str
    counts: list[SourceCounts]
    summary: dict[str, Any]
    fetch: fetch.FetchStats
    seconds: float
    unplaced: list[tuple[str, str]] = field(default_factory=list)


def new_run_id(trigger: str) -> str:
    return f"{trigger}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def begin_run(dsn: str, run_id: str, trigger: str) -> None:
    """Migrate the warehouse and open the run's record (idempotent)."""
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        load.start_run(conn, run_id, trigger, datetime.now(UTC))


def end_run(
    dsn: str, run_id: str, status: str = "success", message: str | None = None
) -> dict[str, Any]:
    """Close the run's record and return its ``news.runs`` row."""
    with db.connect(dsn, autocommit=True) as conn:
        return load.finish_run(conn, run_id, datetime.now(UTC), status, message)


def ingest_sources(
    config: Config,
    sources: Sequence[SourceConfig],
    dsn: str,
    run_id: str,
    *,
    progress: ProgressFn | None = None,
    transport: Any = None,
) -> tuple[list[SourceCounts], fetch.FetchStats, list[tuple[str, str]]]:
    """Fetch, parse, resolve, fetch, extract, validate, dedup and load the sources."""
    with db.connect(dsn, autocommit=True) as conn:
        ingestion = _Ingestion(config.settings, list(sources), conn, run_id, progress)
        asyncio.run(ingestion.run(transport))
        return list(ingestion.counts.values()), ingestion.fetch_stats, ingestion.unplaced


def run_pass(
    config: Config,
    dsn: str,
    *,
    trigger: str = "cli",
    run_id: str | None = None,
    source_names: list[str] | None = None,
    progress: ProgressFn | None = None,
) -> PassResult:
    """One pass over the enabled sources, without Airflow."""
    started = time.monotonic()
    run_id = run_id or new_run_id(trigger)
    begin_run(dsn, run_id, trigger)
    try:
        counts, stats, unplaced = ingest_sources(
            config, config.enabled_sources(source_names), dsn, run_id, progress=progress
        )
    except BaseException as exc:
        end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
        raise
    summary = end_run(dsn, run_id)
    return PassResult(run_id, counts, summary, stats, time.monotonic() - started, unplaced)


class _Ingestion:
    """The state of one ``ingest_sources`` call."""

    def __init__(
        self,
        settings: Settings,
        sources: list[SourceConfig],
        conn: psycopg.Connection[Any],
        run_id: str,
        progress: ProgressFn | None,
    ) -> None:
        self.settings = settings
        self.sources = {s.name: s for s in sources}
        self.conn = conn
        self.run_id = run_id
        self.progress = progress or (lambda event, source, n: None)
        self.counts = {s.name: SourceCounts(s.name) for s in sources}
        self.wrappers: tuple[WrapperRule, ...] = wrappers_from_settings(settings.redirect_wrappers)
        self.rules = {s.name: validate.rules_for(s, settings) for s in sources}
        self.pending: list[Article] = []
        self.pending_raw: list[load.RawPage] = []
        self.pending_rejections: list[Rejection] = []
        self.unplaced: list[tuple[str, str]] = []
        self.fetch_stats = fetch.FetchStats()
        self._db_lock = threading.Lock()

    async def run(self, transport: Any = None) -> None:
        self._flush_lock = asyncio.Lock()
        self._inflight = asyncio.Semaphore(self.settings.concurrency * 2)
        # Extraction workers, and one process for Great Expectations (seconds to
        # import): both start when the first new entry shows up.
        with ProcessPool(self.settings.extract_workers, extract.warm_up) as pool, \
                ProcessPool(1, validate.warm_up) as validator:
            self.pool, self.validator = pool, validator
            async with fetch.Fetcher(self.settings, transport=transport) as fetcher:
                self.fetcher = fetcher
                await asyncio.gather(*(self._source(s) for s in self.sources.values()))
                self.fetch_stats = fetcher.stats
            await self._flush()
        load.record_source_counts(
            self.conn, self.run_id, self.counts.values(), datetime.now(UTC)
        )

    # --- stages -------------------------------------------------------------------

    async def _source(self, source: SourceConfig) -> None:
        counts = self.counts[source.name]
        try:
            fetched = await self.fetcher.get(source.url, accept=fetch.FEED_ACCEPT)
            counts.feeds_fetched += 1
            max_items = source.max_items or self.settings.max_items_per_feed
            feed = await asyncio.to_thread(
                parse.parse_feed,
                fetched.body,
                source=source.name,
                url=fetched.url,
                content_type=fetched.headers.get("content-type"),
                max_items=max_items,
            )
        except ItemError as exc:
            self._reject(source.name, exc, url=None, detail_prefix=f"feed {source.url}: ")
            self.progress("entries", source.name, 0)
            return
        if feed.problems:
            self._reject(
                source.name,
                ParseError("feed_malformed", "; ".join(feed.problems[:5])),
                url=None,
                detail_prefix=f"feed {source.url}: ",
            )
        entries = list({e.link: e for e in feed.entries}.values())
        counts.entries_seen += len(entries)
        self.progress("entries", source.name, len(entries))
        fresh = await self._skip_known(source, entries)
        if fresh:
            self.pool.start()
            self.validator.start()
        await asyncio.gather(*(self._entry(source, e) for e in fresh))

    async def _skip_known(self, source: SourceConfig, entries: list[FeedEntry]) -> list[FeedEntry]:
        """Entries whose link, target or canonical URL is already stored are not
        downloaded again: their article's ``last_seen_at`` moves, that is all."""
        candidates: dict[str, list[tuple[str, str]]] = {}
        for entry in entries:
            target = unwrap(entry.link, self.wrappers)
            pairs = [(entry.link, "feed_link")]
            if target != entry.link:
                pairs.append((target, "redirect"))
            with contextlib.suppress(ValueError):
                pairs.append((canonicalize(target), "canonical"))
            candidates[entry.link] = pairs
        known = await self._db(
            load.known_urls, self.conn, [u for pairs in candidates.values() for u, _ in pairs]
        )
        fresh: list[FeedEntry] = []
        sightings: list[tuple[int, bool, list[tuple[str, str]]]] = []
        for entry in entries:
            pairs = candidates[entry.link]
            article_id = next((known[u] for u, _ in pairs if u in known), None)
            if article_id is None:
                fresh.append(entry)
            else:
                direct = is_direct(entry.link, unwrap(entry.link, self.wrappers), pairs[-1][0])
                sightings.append((article_id, direct, [p for p in pairs if p[0] not in known]))
                self.progress("item", source.name, 1)
        if sightings:
            await self._db(
                load.touch_known, self.conn, self.run_id, source.name, sightings,
                datetime.now(UTC),
            )
            self.counts[source.name].articles_seen_before += len(sightings)
        return fresh

    async def _entry(self, source: SourceConfig, entry: FeedEntry) -> None:
        try:
            await self._article(source, entry)
        finally:
            self.progress("item", source.name, 1)

    async def _article(self, source: SourceConfig, entry: FeedEntry) -> None:
        counts = self.counts[source.name]
        target = unwrap(entry.link, self.wrappers)
        async with self._inflight:
            try:
                fetched = await self.fetcher.get(target, accept=fetch.PAGE_ACCEPT)
                counts.articles_fetched += 1
                fetch.require_html(fetched)
            except FetchError as exc:
                self._reject(source.name, exc, url=entry.link)
                return
            job = ExtractJob(
                source=source.name,
                url=fetched.url,
                body=fetched.body,
                declared_charset=fetched.charset,
                feed_title=entry.title,
                feed_published_at=entry.published_at,
                feed_author=entry.author,
                timezone=source.timezone,
            )
            try:
                extracted = await self.pool.run(extract.extract_page, job)
            except ExtractError as exc:
                self._keep_raw(fetched)
                self._reject(source.name, exc, url=fetched.url)
                return
            except Exception as exc:  # a crash in the extractor is this page's problem only
                self._keep_raw(fetched)
                self._reject(
                    source.name,
                    ExtractError("extract_error", f"{type(exc).__name__}: {exc}"[:500]),
                    url=fetched.url,
                )
                return
        counts.articles_extracted += 1
        self.pending_raw.append(
            load.RawPage(
                extracted.raw_sha256, extracted.raw_gzip, len(fetched.body),
                fetched.content_type, extracted.encoding, fetched.url, fetched.fetched_at,
            )
        )
        self.pending.append(_article(source.name, entry, fetched, target, extracted))
        if len(self.pending) >= self.settings.batch_size:
            await self._flush()

    # --- batches ------------------------------------------------------------------

    async def _flush(self) -> None:
        async with self._flush_lock:
            batch, self.pending = self.pending, []
            raws, self.pending_raw = self.pending_raw, []
            rejections, self.pending_rejections = self.pending_rejections, []
            if not (batch or raws or rejections):
                return
            distinct, merged = collapse_batch(batch)
            valid, invalid = (
                await self.validator.run(validate.validate_records, distinct, self.rules)
                if distinct else ([], [])
            )
            await self._db(self._load_batch, merged, valid, invalid, raws, rejections)

    def _load_batch(
        self,
        merged: list[tuple[Article, Article]],
        valid: list[Article],
        invalid: list[Rejection],
        raws: list[load.RawPage],
        rejections: list[Rejection],
    ) -> None:
        # A record merged into another shares its fate: valid and already known,
        # or rejected for the same reasons under its own URL.
        rejected_by_url: dict[str, list[Rejection]] = {}
        for rejection in invalid:
            rejected_by_url.setdefault(rejection.url or "", []).append(rejection)
        for article, twin in merged:
            for rejection in rejected_by_url.get(twin.url, []):
                invalid.append(Rejection(
                    article.source, rejection.stage, rejection.reason,
                    f"same document as {twin.url}: {rejection.detail}", article.url,
                    article.as_payload(),
                ))
            if twin.url not in rejected_by_url:
                self.counts[article.source].articles_valid += 1
                self.counts[article.source].articles_seen_before += 1
        for rejection in invalid:
            self.counts[rejection.source].reject(rejection.reason)
        for article in valid:
            self.counts[article.source].articles_valid += 1
        result = load.load_articles(self.conn, self.run_id, valid, raws)
        for source, n in result.new_by_source.items():
            self.counts[source].articles_new += n
        for source, n in result.seen_by_source.items():
            self.counts[source].articles_seen_before += n
        for source, url in result.unplaced:
            rejection = Rejection(source, "load", "load_conflict", "matched no row", url)
            self.counts[source].reject(rejection.reason)
            invalid.append(rejection)
            self.unplaced.append((source, url))
        load.record_rejections(self.conn, self.run_id, [*rejections, *invalid])

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run warehouse work in a thread; one at a time, as they share a connection."""

        def locked() -> T:
            with self._db_lock:
                return fn(*args)

        return await asyncio.to_thread(locked)

    def _reject(
        self, source: str, exc: ItemError, *, url: str | None, detail_prefix: str = ""
    ) -> None:
        self.counts[source].reject(exc.reason)
        detail = " ".join((detail_prefix + exc.detail).split())
        self.pending_rejections.append(Rejection(source, exc.stage, exc.reason, detail, url))

    def _keep_raw(self, fetched: fetch.Fetched) -> None:
        """Nothing fetched is lost: a page that yielded no article is kept too."""
        import hashlib

        self.pending_raw.append(
            load.RawPage(
                hashlib.sha256(fetched.body).hexdigest(), zlib.compress(fetched.body, 6),
                len(fetched.body), fetched.content_type, fetched.charset, fetched.url,
                fetched.fetched_at,
            )
        )


def _article(
    source: str, entry: FeedEntry, fetched: fetch.Fetched, target: str, extracted: Extracted
) -> Article:
    canonical = canonicalize(fetched.url)
    pairs: list[tuple[str, str]] = [(entry.link, "feed_link")]
    pairs += [(hop, "redirect") for hop in url_aliases([target, *fetched.hops[:-1]])
              if hop != entry.link]
    pairs += [(fetched.url, "final"), (canonical, "canonical")]
    declared = extracted.declared_url
    if declared and declared.startswith(("http://", "https://")):
        try:
            declared_canonical = canonicalize(declared)
        except ValueError:
            declared_canonical = None
        # Only a same-host declaration is trusted (some sites declare their home page).
        if declared_canonical and _host(declared_canonical) == _host(canonical) and (
            _path(declared_canonical) not in ("", "/")
        ):
            pairs.append((declared, "declared"))
    return Article(
        source=source,
        url=canonical,
        urls=list(dict.fromkeys(pairs)),
        title=extracted.title,
        author=extracted.author,
        published_at=extracted.published_at,
        language=extracted.language,
        site_name=extracted.site_name,
        text=extracted.text,
        word_count=extracted.word_count,
        content_hash=extracted.content_hash,
        raw_sha256=extracted.raw_sha256,
        date_source=extracted.date_source,
        extractor=extracted.extractor,
        fetched_at=fetched.fetched_at,
        direct=is_direct(entry.link, target, canonical),
    )


def _host(url: str) -> str:
    return url.split("/", 3)[2]


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else ""


__all__ = ["PassResult", "begin_run", "end_run", "ingest_sources", "new_run_id", "run_pass"]
