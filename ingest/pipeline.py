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
import functools
import logging
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from ingest import db, extract, fetch, load, parse, stories, validate
from ingest.config import Config, Environment, Settings, SourceConfig
from ingest.dedup import collapse_batch
from ingest.errors import (
    ExtractError,
    FetchError,
    ItemError,
    ParseError,
    QualityGateError,
    TransientFetchError,
)
from ingest.extract import Extracted, ExtractJob
from ingest.models import Article, FeedEntry, FeedState, Rejection, SourceCounts
from ingest.pool import JobTimeout, ProcessPool
from ingest.resolve import (
    WrapperRule,
    canonicalize,
    is_direct,
    unwrap,
    url_aliases,
    wrappers_from_settings,
)
from ingest.robots import RobotsEntry

log = logging.getLogger(__name__)

T = TypeVar("T")

#: progress(event, source, n): events "entries" (n found), "item" (one entry done).
ProgressFn = Callable[[str, str, int], None]


@dataclass
class SourcesResult:
    counts: list[SourceCounts]
    fetch: fetch.FetchStats
    docs: Path | None  # the Data Docs index, when this call validated anything


@dataclass
class PassResult:
    run_id: str
    counts: list[SourceCounts]
    summary: dict[str, Any]
    fetch: fetch.FetchStats
    seconds: float
    docs: Path | None = None


def new_run_id(trigger: str) -> str:
    return f"{trigger}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def begin_run(dsn: str, run_id: str, trigger: str, story_window_days: float = 30) -> None:
    """Migrate the warehouse, make sure the near-duplicate index survived (it is
    rebuilt after a crash emptied it), and open the run's record (idempotent)."""
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        rebuilt = stories.ensure_story_index(conn, timedelta(days=story_window_days))
        if rebuilt:
            log.warning("rebuilt the near-duplicate index for %d articles", rebuilt)
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
    quality_dir: Path | None = None,
    full_refresh: bool = False,
) -> SourcesResult:
    """Fetch, parse, resolve, fetch, extract, dedup, validate and load the sources.

    Raises :class:`QualityGateError` after everything is loaded and recorded when a
    source failed a quality gate (``news.quality`` and the run's message say which).
    """
    quality_dir = quality_dir or Environment().home / "quality"
    with db.connect(dsn, autocommit=True) as conn:
        ingestion = _Ingestion(
            config.settings, list(sources), conn, run_id, progress, quality_dir, full_refresh
        )
        asyncio.run(ingestion.run(transport))
    result = SourcesResult(
        list(ingestion.counts.values()), ingestion.fetch_stats, ingestion.docs,
    )
    if ingestion.gate_failures:
        raise QualityGateError(
            f"quality gate failed for {len(ingestion.gate_failures)} source(s): "
            + "; ".join(m for m in ingestion.gate_failures if m),
            result,
        )
    return result


def run_pass(
    config: Config,
    dsn: str,
    *,
    trigger: str = "cli",
    run_id: str | None = None,
    source_names: list[str] | None = None,
    progress: ProgressFn | None = None,
    quality_dir: Path | None = None,
    full_refresh: bool = False,
) -> PassResult:
    """One pass over the enabled sources, without Airflow."""
    started = time.monotonic()
    run_id = run_id or new_run_id(trigger)
    begin_run(dsn, run_id, trigger, config.settings.story_window_days)
    try:
        result = ingest_sources(
            config, config.enabled_sources(source_names), dsn, run_id, progress=progress,
            quality_dir=quality_dir, full_refresh=full_refresh,
        )
    except QualityGateError as exc:
        summary = end_run(dsn, run_id, "failed")  # the gate's message is on the run already
        partial: SourcesResult = exc.result
        exc.result = PassResult(run_id, partial.counts, summary, partial.fetch,
                                time.monotonic() - started, partial.docs)
        raise
    except BaseException as exc:
        end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
        raise
    summary = end_run(dsn, run_id)
    return PassResult(run_id, result.counts, summary, result.fetch, time.monotonic() - started,
                      result.docs)


@dataclass
class RevalidateResult:
    run_id: str
    checked: int
    loaded: int
    still_rejected: dict[str, int]


def revalidate(
    config: Config,
    dsn: str,
    *,
    run_id: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    from_run: str | None = None,
) -> RevalidateResult:
    """Validate quarantined records again with today's suite and thresholds (say,
    after raising a source's limits); load those that pass, in a new run."""
    run_id = run_id or new_run_id("revalidate")
    begin_run(dsn, run_id, "revalidate")
    with db.connect(dsn, autocommit=True) as conn:
        rows = load.quarantined(conn, from_run, source, reason)
        articles = [Article.from_payload(payload) for _, payload in rows]
        settings = config.settings
        rules = {
            name: validate.rules_for(config.source(name), settings)
            if any(s.name == name for s in config.sources)
            else validate.SourceRules(settings.min_words)
            for name in {a.source for a in articles}
        }
        distinct, _ = collapse_batch(articles)
        valid, invalid = validate.validate_records(distinct, rules)
        load.load_batch(conn, run_id, valid,
                        story_window=timedelta(days=settings.story_window_days))
        load.resolve_rejections(conn, [a.url for a in valid], run_id)
        load.record_rejections(conn, run_id, invalid)
    still: dict[str, int] = {}
    for rejection in invalid:
        still[rejection.reason] = still.get(rejection.reason, 0) + 1
    end_run(dsn, run_id)
    return RevalidateResult(run_id, len(articles), len(valid), still)


def extract_failure(exc: Exception) -> ExtractError:
    """Why a page gave no record: the extractor's own ExtractError, the time limit
    (``extract_timeout``), or a crash in the extractor (``extract_error``)."""
    if isinstance(exc, ExtractError):
        return exc
    if isinstance(exc, JobTimeout):
        return ExtractError("extract_timeout", str(exc))
    return ExtractError("extract_error", f"{type(exc).__name__}: {exc}"[:500])


class _Ingestion:
    """The state of one ``ingest_sources`` call."""

    def __init__(
        self,
        settings: Settings,
        sources: list[SourceConfig],
        conn: psycopg.Connection[Any],
        run_id: str,
        progress: ProgressFn | None,
        quality_dir: Path,
        full_refresh: bool = False,
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
        self.fetch_stats = fetch.FetchStats()
        self._db_lock = threading.Lock()
        self.feed_state: dict[str, FeedState] = {}
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.transient_failures: set[str] = set()
        self.gates = {s.name: validate.gate_rules_for(s, settings) for s in sources}
        self.gate_failures: list[str | None] = []
        self.quality_dir = quality_dir
        self.full_refresh = full_refresh
        self.validated_batches = 0
        self.docs: Path | None = None

    async def run(self, transport: Any = None) -> None:
        self._flush_lock = asyncio.Lock()
        self._inflight = asyncio.Semaphore(self.settings.concurrency * 2)
        # Extraction workers, and one process for Great Expectations (seconds to
        # import): both start when the first new entry shows up.
        self.feed_state = await self._db(load.feed_states, self.conn, list(self.sources))
        self.pool = ProcessPool.shared(self.settings.extract_workers, extract.warm_up)
        # Spawned: its Great Expectations import runs while the forkserver warms up.
        self.validator = ProcessPool.shared(1, validate.warm_up, method="spawn")
        async with fetch.Fetcher(
            self.settings, transport=transport, robots=_WarehouseRobots(self)
        ) as fetcher:
            self.fetcher = fetcher
            await asyncio.gather(*(self._source(s) for s in self.sources.values()))
            self.fetch_stats = fetcher.stats
        await self._flush()
        if self.validated_batches:
            self.docs = await self.validator.run(
                validate.build_docs, self.quality_dir, self.run_id,
                self.settings.keep_data_docs_runs,
            )
        # Only now, with every entry loaded or rejected, may a feed answer 304 next time:
        # and not if some entries failed for reasons that may pass (timeouts, 5xx).
        for name, (etag, modified) in self.validators.items():
            if name not in self.transient_failures:
                self.feed_state[name].etag, self.feed_state[name].last_modified = etag, modified
        await self._db(load.save_feed_states, self.conn, list(self.feed_state.values()))
        await self._db(self._judge)

    def _judge(self) -> None:
        """Quality gates per source, then the run's records: news.run_sources, news.quality."""
        now = datetime.now(UTC)
        history = load.source_history(self.conn, list(self.sources), self.run_id)
        for name, counts in self.counts.items():
            counts.gate, counts.gate_message = validate.check_gate(
                name, counts.validated, counts.validation_rejected, counts.validation_reasons,
                counts.articles_new, history.get(name, []), self.gates[name],
            )
        load.record_source_counts(self.conn, self.run_id, self.counts.values(), now)
        load.record_quality(self.conn, self.run_id, self.counts.values(), now)
        failed = [c.gate_message for c in self.counts.values() if c.gate == "failed"]
        if failed:
            message = "quality gate failed: " + "; ".join(m for m in failed if m)
            load.flag_run(self.conn, self.run_id, message)
            self.gate_failures = failed

    # --- stages -------------------------------------------------------------------

    async def _source(self, source: SourceConfig) -> None:
        counts = self.counts[source.name]
        now = datetime.now(UTC)
        state = self.feed_state.get(source.name)
        if state is None or state.feed_url != source.url:  # new source, or its URL changed
            state = self.feed_state[source.name] = FeedState(source.name, source.url)
        if not self.full_refresh and state.next_fetch_at is not None and state.next_fetch_at > now:
            # Failing feeds are polled less often, and say so instead of going quiet.
            counts.feed_status = "backoff"
            self._reject(source.name, FetchError(
                "backoff",
                f"feed {source.url} skipped until {state.next_fetch_at:%Y-%m-%d %H:%M} UTC after "
                f"{state.consecutive_failures} failures in a row (last: {state.last_status})",
            ), url=None)
            self.progress("entries", source.name, 0)
            return
        state.last_fetch_at = now
        try:
            fetched = await self.fetcher.get(
                source.url, accept=fetch.FEED_ACCEPT, policy=self._policy(source),
                etag=None if self.full_refresh else state.etag,
                last_modified=None if self.full_refresh else state.last_modified,
            )
            if fetched.status == 304:
                counts.feed_status = state.last_status = "not_modified"
                self._feed_ok(state, now)
                self.progress("entries", source.name, 0)
                return
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
            self._feed_failed(state, exc, now)
            counts.feed_status = exc.reason
            self._reject(source.name, exc, url=None, detail_prefix=f"feed {source.url}: ")
            self.progress("entries", source.name, 0)
            return
        counts.feed_status = state.last_status = "ok"
        self._feed_ok(state, now)
        # Validators are kept only once the pass has dealt with every entry (see run()).
        self.validators[source.name] = (
            fetched.headers.get("etag"), fetched.headers.get("last-modified")
        )
        state.etag = state.last_modified = None
        state.entries_last = len(feed.entries)
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
            state.last_new_item_at = now
            self.pool.start_soon()
            self.validator.start_soon()
        await asyncio.gather(*(self._entry(source, e) for e in fresh))

    def _policy(self, source: SourceConfig) -> fetch.HostPolicy:
        return fetch.HostPolicy(
            source.per_host_concurrency or self.settings.per_host_concurrency,
            source.per_host_delay
            if source.per_host_delay is not None else self.settings.per_host_delay,
        )

    def _feed_ok(self, state: FeedState, now: datetime) -> None:
        state.last_success_at = now
        state.consecutive_failures = 0
        state.next_fetch_at = None
        state.last_error = None

    def _feed_failed(self, state: FeedState, exc: ItemError, now: datetime) -> None:
        """One failure is retried at the next pass; from the second in a row the
        feed waits failure_backoff, doubling each time, at most a day."""
        state.consecutive_failures += 1
        state.last_status = exc.reason
        state.last_error = exc.detail[:1000]
        n = state.consecutive_failures
        if n >= 2 and self.settings.failure_backoff > 0:
            wait = min(self.settings.failure_backoff * 2 ** (n - 2), 86_400)
            state.next_fetch_at = now + timedelta(seconds=wait)

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
        revisit_after = datetime.now(UTC) - timedelta(hours=self.settings.revisit_hours)
        for entry in entries:
            pairs = candidates[entry.link]
            match = next((known[u] for u, _ in pairs if u in known), None)
            if match is None or (self.full_refresh and match[1] >= revisit_after):
                # new, or recent enough that the full refresh looks again for edits
                fresh.append(entry)
            else:
                direct = is_direct(entry.link, unwrap(entry.link, self.wrappers), pairs[-1][0])
                sightings.append((match[0], direct, [p for p in pairs if p[0] not in known]))
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
                fetched = await self.fetcher.get(
                    target, accept=fetch.PAGE_ACCEPT, policy=self._policy(source),
                    obey_robots=self.settings.obey_robots
                    if source.obey_robots is None else source.obey_robots,
                )
                counts.articles_fetched += 1
                fetch.require_html(fetched)
            except FetchError as exc:
                if isinstance(exc, TransientFetchError):
                    self.transient_failures.add(source.name)  # re-read the feed next pass
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
                clean=tuple(source.clean),
                clean_off=tuple(source.clean_off),
                split=source.split,
            )
            try:
                records = await self.pool.run(extract.extract_items, job,
                                              timeout=self.settings.extract_timeout)
            except Exception as exc:  # this page's problem only
                self._keep_raw(fetched)
                self._reject(source.name, extract_failure(exc), url=fetched.url)
                return
        counts.articles_extracted += len(records)
        first = records[0]
        self.pending_raw.append(
            load.RawPage(
                first.raw_sha256, first.raw_gzip, len(fetched.body),
                fetched.content_type, first.encoding, fetched.url, fetched.fetched_at,
            )
        )
        self.pending.extend(_article(source.name, entry, fetched, target, extracted)
                            for extracted in records)
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
                await self.validator.run(
                    functools.partial(
                        validate.validate_records, run_id=self.run_id,
                        quality_dir=self.quality_dir,
                    ),
                    distinct, self.rules,
                )
                if distinct else ([], [])
            )
            self.validated_batches += bool(distinct)
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
        rejected_rows: dict[str, set[str]] = {}
        for rejection in invalid:
            counts = self.counts[rejection.source]
            counts.reject(rejection.reason)
            counts.validation_reasons[rejection.reason] = (
                counts.validation_reasons.get(rejection.reason, 0) + 1
            )
            rejected_rows.setdefault(rejection.source, set()).add(rejection.url or "")
        for source, urls in rejected_rows.items():
            self.counts[source].validated += len(urls)
            self.counts[source].validation_rejected += len(urls)
        for article in valid:
            self.counts[article.source].articles_valid += 1
            self.counts[article.source].validated += 1
        result = load.load_batch(
            self.conn, self.run_id, valid, raws,
            story_window=timedelta(days=self.settings.story_window_days),
        )
        for source, n in result.new_by_source.items():
            self.counts[source].articles_new += n
        for source, n in result.seen_by_source.items():
            self.counts[source].articles_seen_before += n
        for source, n in result.changed_by_source.items():
            self.counts[source].articles_changed += n
        for source, n in result.near_by_source.items():
            self.counts[source].near_duplicates += n
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


class _WarehouseRobots:
    """robots.txt kept in ``news.robots`` between passes."""

    def __init__(self, ingestion: _Ingestion) -> None:
        self._ingestion = ingestion

    async def get(self, origin: str) -> RobotsEntry | None:
        return await self._ingestion._db(load.robots_get, self._ingestion.conn, origin)

    async def put(self, entry: RobotsEntry) -> None:
        await self._ingestion._db(load.robots_put, self._ingestion.conn, entry)


def _article(
    source: str, entry: FeedEntry, fetched: fetch.Fetched, target: str, extracted: Extracted
) -> Article:
    if extracted.item_url:
        # An item of a split page: its own URL only, since the page's URLs name every
        # item of the page and would match them all to one article.
        canonical = extracted.item_url
        pairs: list[tuple[str, str]] = [(canonical, "item")]
    else:
        canonical = canonicalize(fetched.url)
        pairs = _page_urls(entry, fetched, target, canonical, extracted.declared_url)
    return article_from(
        extracted, source=source, url=canonical, urls=list(dict.fromkeys(pairs)),
        fetched_at=fetched.fetched_at, direct=is_direct(entry.link, target, canonical),
        feed_title=entry.title, feed_published_at=entry.published_at, feed_author=entry.author,
    )


def article_from(
    extracted: Extracted,
    *,
    source: str,
    url: str,
    urls: list[tuple[str, str]],
    fetched_at: datetime | None,
    direct: bool,
    feed_title: str | None,
    feed_published_at: datetime | None,
    feed_author: str | None,
) -> Article:
    """The record to validate and load, from what extraction derived and where the page
    was met (a pass, or news-ingest reextract)."""
    return Article(
        source=source,
        url=url,
        urls=urls,
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
        fetched_at=fetched_at,
        direct=direct,
        bands=extracted.bands,
        modified_at=extracted.modified_at,
        feed_title=feed_title,
        feed_published_at=feed_published_at,
        feed_author=feed_author,
        removed=extracted.removed or None,
    )


def _page_urls(
    entry: FeedEntry, fetched: fetch.Fetched, target: str, canonical: str, declared: str | None
) -> list[tuple[str, str]]:
    """Every URL the page was met under: feed link, redirect hops, final, canonical, and
    the URL it declares itself when that is on the same host."""
    pairs: list[tuple[str, str]] = [(entry.link, "feed_link")]
    pairs += [(hop, "redirect") for hop in url_aliases([target, *fetched.hops[:-1]])
              if hop != entry.link]
    pairs += [(fetched.url, "final"), (canonical, "canonical")]
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
    return pairs


def _host(url: str) -> str:
    return url.split("/", 3)[2]


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else ""


__all__ = ["PassResult", "begin_run", "end_run", "ingest_sources", "new_run_id", "run_pass"]
