"""One pass over sources: the stages composed, streaming.

Feeds are fetched concurrently; each entry's page is fetched, then extracted in
the process pool while other pages download; finished records gather into
batches that are de-duplicated, validated and loaded (one transaction each)
while the pass goes on. Every failure on the way becomes a rejection, an
unforeseen exception included (``internal_error``): one entry's or one source's
failure never stops the others. Only the warehouse going away for good stops a
pass early, and what it fetched waits in the spool for the next pass.

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

from ingest import (
    db,
    derive,
    extract,
    failpoints,
    fetch,
    load,
    parse,
    rejections,
    runs,
    spool,
    stories,
    upgrade,
    validate,
)
from ingest.config import Config, Environment, Settings, SourceConfig
from ingest.dedup import collapse_batch
from ingest.errors import (
    ExtractError,
    FetchError,
    InternalError,
    ItemError,
    ParseError,
    QualityGateError,
    TransientFetchError,
    WarehouseError,
)
from ingest.extract import Extracted, ExtractJob
from ingest.fetch import MAX_URL_BYTES
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


def repair(
    conn: psycopg.Connection[Any], settings: Settings, spool_dir: Path | None = None
) -> dict[str, Any]:
    """Finish what killed or cut-off passes left behind: close their runs as
    ``aborted``, rebuild the near-duplicate index if a crash emptied it, write the
    derived data (stories, search) of articles loaded just before a kill, and load
    the batches spooled while the warehouse was away. Idempotent, cheap when there
    is nothing to do; every pass starts with it (``news-ingest db repair`` too)."""
    window = timedelta(days=settings.story_window_days)
    steps = upgrade.run_pending(conn)
    aborted = runs.close_abandoned(conn, timedelta(seconds=settings.abandoned_run_after))
    rebuilt = stories.ensure_story_index(conn, window)
    if rebuilt:
        log.warning("rebuilt the near-duplicate index for %d articles", rebuilt)
    queued = derive.pending(conn)
    drained = derive.drain(conn, window) if queued else derive.Drained()
    if queued:
        log.warning("wrote the stories and search entries of %d article(s) left by a killed "
                    "pass", queued)
    replayed = spool.replay(conn, spool_dir, window) if spool_dir is not None else 0
    return {"aborted_runs": aborted, "index_rebuilt": rebuilt, "derived": drained.linked,
            "indexed": drained.indexed, "spooled_loaded": replayed, "data_steps": steps}


def begin_run(
    dsn: str, run_id: str, trigger: str, settings: Settings | None = None,
    spool_dir: Path | None = None,
) -> None:
    """Migrate the warehouse, repair what killed passes left (:func:`repair`), and open
    the run's record (idempotent)."""
    settings = settings or Settings()
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        repair(conn, settings, spool_dir or spool.directory(Environment().home, dsn))
        runs.start_run(conn, run_id, trigger, datetime.now(UTC))


def end_run(
    dsn: str, run_id: str, status: str = "success", message: str | None = None,
    *, close_abandoned: bool = False,
) -> dict[str, Any]:
    """Close the run's record and return its ``news.runs`` row; with
    ``close_abandoned``, also close earlier runs whose processes died."""
    with db.connect(dsn, autocommit=True) as conn:
        summary = runs.finish_run(conn, run_id, datetime.now(UTC), status, message)
        if close_abandoned:
            runs.close_abandoned(conn, timedelta(seconds=Settings().abandoned_run_after))
        return summary


def ingest_sources(
    config: Config,
    sources: Sequence[SourceConfig],
    dsn: str,
    run_id: str,
    *,
    progress: ProgressFn | None = None,
    transport: Any = None,
    quality_dir: Path | None = None,
    spool_dir: Path | None = None,
    full_refresh: bool = False,
) -> SourcesResult:
    """Fetch, parse, resolve, fetch, extract, dedup, validate and load the sources.

    Raises :class:`QualityGateError` after everything is loaded and recorded when a
    source failed a quality gate (``news.quality`` and the run's message say which),
    and :class:`WarehouseError` when the warehouse went away for longer than
    ``settings.warehouse_retry``, after keeping what was fetched in the spool.
    """
    env = Environment()
    quality_dir = quality_dir or env.home / "quality"
    spool_dir = spool_dir or spool.directory(env.home, dsn)
    with runs.RunGuard(dsn, run_id):
        warehouse = db.Warehouse(dsn, retry_for=config.settings.warehouse_retry)
        try:
            if spool.pending(spool_dir):
                warehouse.run(lambda conn: spool.replay(
                    conn, spool_dir, timedelta(days=config.settings.story_window_days)))
            ingestion = _Ingestion(
                config.settings, list(sources), warehouse, run_id, progress, quality_dir,
                spool_dir, full_refresh,
            )
            asyncio.run(ingestion.run(transport))
        finally:
            warehouse.close()
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
    spool_dir: Path | None = None,
    full_refresh: bool = False,
) -> PassResult:
    """One pass over the enabled sources, without Airflow."""
    started = time.monotonic()
    run_id = run_id or new_run_id(trigger)
    with runs.RunGuard(dsn, run_id):  # from the start: the run is never left unguarded
        begin_run(dsn, run_id, trigger, config.settings, spool_dir)
        try:
            result = ingest_sources(
                config, config.enabled_sources(source_names), dsn, run_id, progress=progress,
                quality_dir=quality_dir, spool_dir=spool_dir, full_refresh=full_refresh,
            )
        except QualityGateError as exc:
            summary = end_run(dsn, run_id, "failed")  # the gate's message is on the run
            partial: SourcesResult = exc.result
            exc.result = PassResult(run_id, partial.counts, summary, partial.fetch,
                                    time.monotonic() - started, partial.docs)
            raise
        except BaseException as exc:
            # The warehouse may be what failed: then the next pass closes the run.
            with contextlib.suppress(WarehouseError):
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
    with runs.RunGuard(dsn, run_id):
        begin_run(dsn, run_id, "revalidate", config.settings)
        with db.connect(dsn, autocommit=True) as conn:
            rows = rejections.quarantined(conn, from_run, source, reason)
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
            rejections.resolve_rejections(conn, [a.url for a in valid], run_id)
            rejections.record_rejections(conn, run_id, invalid)
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
        warehouse: db.Warehouse,
        run_id: str,
        progress: ProgressFn | None,
        quality_dir: Path,
        spool_dir: Path,
        full_refresh: bool = False,
    ) -> None:
        self.settings = settings
        self.sources = {s.name: s for s in sources}
        self.warehouse = warehouse
        self.run_id = run_id
        self.progress = progress or (lambda event, source, n: None)
        self.counts = {s.name: SourceCounts(s.name) for s in sources}
        self.wrappers: tuple[WrapperRule, ...] = wrappers_from_settings(settings.redirect_wrappers)
        self.rules = {s.name: validate.rules_for(s, settings) for s in sources}
        self.window = timedelta(days=settings.story_window_days)
        self.pending: list[Article] = []
        self.pending_raw: list[load.RawPage] = []
        self.pending_rejections: list[Rejection] = []
        self.pending_failures: list[tuple[str, Rejection]] = []  # (entry key, why)
        self.entry_keys: dict[str, str] = {}  # record URL -> its feed entry's key
        self.fetch_stats = fetch.FetchStats()
        self._db_lock = threading.Lock()
        self.feed_state: dict[str, FeedState] = {}
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        # Sources whose feed must be read in full next pass (no 304): some entries
        # failed for reasons that may pass, or the feed listed more than we took.
        self.reread: set[str] = set()
        self.gates = {s.name: validate.gate_rules_for(s, settings) for s in sources}
        self.gate_failures: list[str | None] = []
        self.quality_dir = quality_dir
        self.spool_dir = spool_dir
        self.spooled = 0
        self.full_refresh = full_refresh
        self.validated_batches = 0
        self.docs: Path | None = None
        self.down: WarehouseError | None = None  # the warehouse went away for good
        self.notes: list[str] = []  # for the run's message

    async def run(self, transport: Any = None) -> None:
        self._flush_lock = asyncio.Lock()
        self._inflight = asyncio.Semaphore(self.settings.concurrency * 2)
        self.feed_state = await self._db(load.feed_states, list(self.sources))
        # Extraction workers, and one process for Great Expectations (seconds to
        # import): both start when the first new entry shows up.
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
        if self.down is not None:
            raise WarehouseError(
                f"{self.down}; {self.spooled} fetched record(s) kept in {self.spool_dir} for "
                "the next pass"
            )
        if self.validated_batches:
            self.docs = await self.validator.run(
                validate.build_docs, self.quality_dir, self.run_id,
                self.settings.keep_data_docs_runs,
            )
        if self.warehouse.reconnects:
            self.notes.append(f"the warehouse connection was lost and came back "
                              f"({self.warehouse.reconnects} reconnection(s))")
        # Only now, with every entry loaded or rejected, may a feed answer 304 next time:
        # and not if some entries failed for reasons that may pass (timeouts, 5xx).
        for name, (etag, modified) in self.validators.items():
            if name not in self.reread:
                self.feed_state[name].etag, self.feed_state[name].last_modified = etag, modified
        await self._db(load.save_feed_states, list(self.feed_state.values()))
        await self._db(self._judge)

    def _judge(self, conn: psycopg.Connection[Any]) -> None:
        """Quality gates per source, then the run's records: news.run_sources, news.quality."""
        now = datetime.now(UTC)
        history = runs.source_history(conn, list(self.sources), self.run_id)
        for name, counts in self.counts.items():
            counts.gate, counts.gate_message = validate.check_gate(
                name, counts.validated, counts.validation_rejected, counts.validation_reasons,
                counts.articles_new, history.get(name, []), self.gates[name],
            )
        runs.record_source_counts(conn, self.run_id, self.counts.values(), now)
        runs.record_quality(conn, self.run_id, self.counts.values(), now)
        for note in self.notes:
            runs.note_run(conn, self.run_id, note)
        failed = [c.gate_message for c in self.counts.values() if c.gate == "failed"]
        if failed:
            message = "quality gate failed: " + "; ".join(m for m in failed if m)
            runs.flag_run(conn, self.run_id, message)
            self.gate_failures = failed

    def _lost(self, exc: WarehouseError) -> None:
        """The warehouse is gone for good: no new page is fetched; those in hand are
        extracted, validated and spooled for the next pass."""
        if self.down is None:
            self.down = exc
            log.error("%s: finishing the pages in hand, then stopping", exc)

    # --- stages -------------------------------------------------------------------

    async def _source(self, source: SourceConfig) -> None:
        """One source, whatever happens: any failure is this source's rejection (and
        counts toward its feed's back-off), never the pass's end."""
        try:
            await self._read_source(source)
        except WarehouseError as exc:
            self._lost(exc)
        except Exception as exc:  # an input or a bug nobody foresaw
            log.exception("source %s failed", source.name)
            error = InternalError(exc, "parse")
            state = self.feed_state.get(source.name)
            if state is not None:
                self._feed_failed(state, error, datetime.now(UTC))
            self.counts[source.name].feed_status = error.reason
            self._reject(source.name, error, url=None, detail_prefix=f"feed {source.url}: ")

    async def _read_source(self, source: SourceConfig) -> None:
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
        if self.down is not None:
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
            feed = await asyncio.to_thread(
                parse.parse_feed,
                fetched.body,
                source=source.name,
                url=fetched.url,
                content_type=fetched.headers.get("content-type"),
                max_items=None,  # all: the entries already stored do not count (below)
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
        limit = source.max_items or self.settings.max_items_per_feed
        if len(fresh) > limit:
            # The newest first; the others stay unknown, so the next pass takes them.
            self._reject(source.name, ParseError(
                "feed_truncated",
                f"{len(fresh)} new entries, {limit} taken this pass (max_items_per_feed); the "
                f"other {len(fresh) - limit} are taken by the next passes",
            ), url=None, detail_prefix=f"feed {source.url}: ")
            self.reread.add(source.name)
            self.progress("item", source.name, len(fresh) - limit)
            fresh = fresh[:limit]
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

    def _entry_key(self, link: str) -> str:
        """An entry's identity across passes, for news.url_failures: its target's
        canonical URL (an aggregator wraps one target in ever-new tracking links)."""
        try:
            key = canonicalize(unwrap(link, self.wrappers))
        except ValueError:
            key = link
        return rejections.clip_url(key) or key

    async def _skip_known(self, source: SourceConfig, entries: list[FeedEntry]) -> list[FeedEntry]:
        """Entries whose link, target or canonical URL is already stored are not
        downloaded again: their article's ``last_seen_at`` moves, that is all. Entries
        whose URL failed before wait for their next try (news.failing_urls)."""
        candidates: dict[str, list[tuple[str, str]]] = {}
        for entry in entries:
            target = unwrap(entry.link, self.wrappers)
            pairs = [(entry.link, "feed_link")]
            if target != entry.link:
                pairs.append((target, "redirect"))
            with contextlib.suppress(ValueError):
                pairs.append((canonicalize(target), "canonical"))
            candidates[entry.link] = pairs
        keys = {entry.link: self._entry_key(entry.link) for entry in entries}
        now = datetime.now(UTC)

        def lookup(conn: psycopg.Connection[Any]) -> tuple[
            dict[str, tuple[int, datetime]], dict[str, tuple[str, datetime | None]]
        ]:
            known = load.known_urls(conn, [u for pairs in candidates.values() for u, _ in pairs])
            waiting = rejections.waiting_urls(conn, keys.values(), now,
                                              given_up_only=self.full_refresh)
            return known, waiting

        known, waiting = await self._db(lookup)
        fresh: list[FeedEntry] = []
        sightings: list[tuple[int, bool, list[tuple[str, str]]]] = []
        revisit_after = now - timedelta(hours=self.settings.revisit_hours)
        skipped = 0
        for entry in entries:
            pairs = candidates[entry.link]
            match = next((known[u] for u, _ in pairs if u in known), None)
            if match is None and keys[entry.link] in waiting:
                skipped += 1  # failed before: not before its next try
                if waiting[keys[entry.link]][1] is not None:
                    self.reread.add(source.name)  # no 304 next time: it is due later
                self.progress("item", source.name, 1)
            elif match is None or (self.full_refresh and match[1] >= revisit_after):
                # new, or recent enough that the full refresh looks again for edits
                fresh.append(entry)
            else:
                direct = is_direct(entry.link, unwrap(entry.link, self.wrappers), pairs[-1][0])
                sightings.append((match[0], direct, [p for p in pairs if p[0] not in known]))
                self.progress("item", source.name, 1)
        self.counts[source.name].articles_skipped += skipped
        if sightings:
            await self._db(
                load.touch_known, self.run_id, source.name, sightings, datetime.now(UTC),
            )
            self.counts[source.name].articles_seen_before += len(sightings)
        return fresh

    async def _entry(self, source: SourceConfig, entry: FeedEntry) -> None:
        """One entry, whatever happens: a failure is its rejection, never the pass's."""
        try:
            await self._article(source, entry)
        except WarehouseError as exc:
            self._lost(exc)
        except Exception as exc:  # an input or a bug nobody foresaw
            log.exception("entry %s of %s failed", entry.link, source.name)
            self._reject(source.name, InternalError(exc, "extract"), url=entry.link,
                         entry_key=self._entry_key(entry.link))
        finally:
            self.progress("item", source.name, 1)

    async def _article(self, source: SourceConfig, entry: FeedEntry) -> None:
        counts = self.counts[source.name]
        target = unwrap(entry.link, self.wrappers)
        key = self._entry_key(entry.link)
        async with self._inflight:
            if self.down is not None:
                return  # the warehouse is gone: fetch nothing more
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
                    self.reread.add(source.name)  # re-read the feed next pass
                self._reject(source.name, exc, url=entry.link, entry_key=key)
                return
            failpoints.reach("fetch.page")
            date_kind = _feed_date_kind(entry, target, fetched.url)
            job = ExtractJob(
                source=source.name,
                url=fetched.url,
                body=fetched.body,
                declared_charset=fetched.charset,
                feed_title=entry.title,
                feed_published_at=entry.published_at if date_kind == "published" else None,
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
                self._reject(source.name, extract_failure(exc), url=fetched.url, entry_key=key)
                return
        counts.articles_extracted += len(records)
        first = records[0]
        self.pending_raw.append(
            load.RawPage(
                first.raw_sha256, first.raw_gzip, len(fetched.body),
                fetched.content_type, first.encoding, fetched.url, fetched.fetched_at,
            )
        )
        for extracted in records:
            article = _article(source.name, entry, fetched, target, extracted)
            article.feed_date_kind = date_kind if entry.published_at else None
            self.entry_keys[article.url] = key
            self.pending.append(article)
        if len(self.pending) >= self.settings.batch_size:
            await self._flush()

    # --- batches ------------------------------------------------------------------

    async def _flush(self) -> None:
        """Validate and load what is pending, in one batch; into the spool instead when
        the warehouse is gone."""
        async with self._flush_lock:
            batch, self.pending = self.pending, []
            raws, self.pending_raw = self.pending_raw, []
            rejected, self.pending_rejections = self.pending_rejections, []
            failures, self.pending_failures = self.pending_failures, []
            if not (batch or raws or rejected or failures):
                return
            distinct, merged = collapse_batch(batch)
            valid, invalid = await self._validate(distinct) if distinct else ([], [])
            self.validated_batches += bool(distinct)
            invalid += _twins_rejected(merged, invalid)
            keys = {a.url: self.entry_keys.pop(a.url, None) for a in batch}
            failures += [(key, r) for r in invalid if (key := keys.get(r.url or ""))]
            if self.down is None:
                try:
                    result, load_rejected = await self._in_db(
                        self._store, valid, raws, [*rejected, *invalid], failures, keys)
                except WarehouseError as exc:
                    self._lost(exc)
                else:
                    self._count(merged, valid, [*invalid, *load_rejected], result)
                    return
            self.spooled += len(valid)
            spool.save(self.spool_dir, spool.SpooledBatch(
                self.run_id, valid, raws, [*rejected, *invalid]))

    async def _validate(self, records: list[Article]) -> tuple[list[Article], list[Rejection]]:
        """The suite over a batch. Should it fail on the batch itself (a record that
        breaks Great Expectations or pandas), the halves are validated apart, down to
        the one record, which becomes an ``internal_error`` rejection."""
        try:
            return await self.validator.run(
                functools.partial(validate.validate_records, run_id=self.run_id,
                                  quality_dir=self.quality_dir),
                records, self.rules,
            )
        except Exception as exc:
            if len(records) == 1:
                record = records[0]
                error = InternalError(exc, "validate")
                return [], [Rejection(record.source, "validate", error.reason, error.detail,
                                      record.url, record.as_payload())]
            half = len(records) // 2
            first = await self._validate(records[:half])
            second = await self._validate(records[half:])
            return first[0] + second[0], first[1] + second[1]

    def _store(
        self,
        valid: list[Article],
        raws: list[load.RawPage],
        rejected: list[Rejection],
        failures: list[tuple[str, Rejection]],
        keys: dict[str, str | None],
    ) -> tuple[load.LoadResult, list[Rejection]]:
        """A batch into the warehouse, step by step, each step one transaction that is
        done again if the connection drops (a step done twice changes nothing)."""
        reconnects = self.warehouse.reconnects
        result, load_rejected = self.warehouse.run(lambda conn: self._load(conn, valid, raws))
        failpoints.reach("load.committed")
        drained = self._derive(result.fresh)
        while self.warehouse.reconnects != reconnects:
            # The load commits without waiting for its WAL flush; the derive step's
            # commit, a normal one, is what makes it durable. The connection was lost in
            # between: a crash of the server may have taken the load, so load again
            # (nothing changes if it survived) and derive what that brings.
            reconnects = self.warehouse.reconnects
            again, _ = self.warehouse.run(lambda conn: self._load(conn, valid, raws))
            drained = self._derive(again.fresh)
        result.near_by_source, result.indexed = drained.near_by_source, drained.indexed
        failpoints.reach("load.derived")
        failures = [*failures, *((key, r) for r in load_rejected
                                 if (key := keys.get(r.url or "")))]
        now = datetime.now(UTC)
        self.warehouse.run(lambda conn: (
            rejections.record_rejections(conn, self.run_id, [*rejected, *load_rejected]),
            rejections.record_url_failures(conn, self.run_id, failures, now,
                                           self.settings.url_retry_backoff),
        ))
        return result, load_rejected

    def _derive(self, fresh: list[tuple[int, Article]]) -> derive.Drained:
        return self.warehouse.run(lambda conn: derive.drain(
            conn, self.window, fresh, only=[aid for aid, _ in fresh]))

    def _load(
        self, conn: psycopg.Connection[Any], valid: list[Article], raws: list[load.RawPage]
    ) -> tuple[load.LoadResult, list[Rejection]]:
        """Load a batch; a record the database refuses is a ``load_error`` rejection."""
        result, refused = load.load_what_fits(conn, self.run_id, valid, raws,
                                              connection_lost=self.warehouse.lost)
        return result, [Rejection(a.source, "load", "load_error", why, a.url, a.as_payload())
                        for a, why in refused]

    def _count(
        self,
        merged: list[tuple[Article, Article]],
        valid: list[Article],
        invalid: list[Rejection],
        result: load.LoadResult,
    ) -> None:
        """A batch's outcome in the sources' counts (once it is stored)."""
        for article, _ in merged:
            if not any(r.url == article.url for r in invalid):
                self.counts[article.source].articles_valid += 1
                self.counts[article.source].articles_seen_before += 1
        rejected_rows: dict[str, set[str]] = {}
        for rejection in invalid:
            counts = self.counts[rejection.source]
            counts.reject(rejection.reason)
            if rejection.stage != "validate":
                continue  # refused by the database: it had passed validation
            counts.validation_reasons[rejection.reason] = (
                counts.validation_reasons.get(rejection.reason, 0) + 1
            )
            rejected_rows.setdefault(rejection.source, set()).add(rejection.url or "")
        for source, urls in rejected_rows.items():
            self.counts[source].validated += len(urls)
            self.counts[source].validation_rejected += len(urls)
        refused = {r.url for r in invalid if r.stage == "load"}
        for article in valid:
            self.counts[article.source].validated += 1
            if article.url not in refused:
                self.counts[article.source].articles_valid += 1
        for source, n in result.new_by_source.items():
            self.counts[source].articles_new += n
        for source, n in result.seen_by_source.items():
            self.counts[source].articles_seen_before += n
        for source, n in result.changed_by_source.items():
            self.counts[source].articles_changed += n
        for source, n in result.near_by_source.items():
            self.counts[source].near_duplicates += n

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in a thread, one at a time (they share the
        connection); redone on a new connection if the old one was lost."""
        return await self._in_db(lambda: self.warehouse.run(lambda conn: fn(conn, *args)))

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, which uses ``self.warehouse``, in a thread, one at a time."""

        def locked() -> T:
            with self._db_lock:
                return fn(*args)

        return await asyncio.to_thread(locked)

    def _reject(
        self, source: str, exc: ItemError, *, url: str | None, detail_prefix: str = "",
        entry_key: str | None = None,
    ) -> None:
        """Count and keep a rejection; with ``entry_key``, the entry's URL failed and
        waits before it is tried again (news.url_failures)."""
        self.counts[source].reject(exc.reason)
        detail = " ".join((detail_prefix + exc.detail).split())
        rejection = Rejection(source, exc.stage, exc.reason, detail, url)
        self.pending_rejections.append(rejection)
        if entry_key is not None:
            self.pending_failures.append((entry_key, rejection))

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


def _twins_rejected(
    merged: list[tuple[Article, Article]], invalid: list[Rejection]
) -> list[Rejection]:
    """A record merged into another of its batch shares its fate: rejected for the
    same reasons, under its own URL (or, if the other is valid, known)."""
    by_url: dict[str, list[Rejection]] = {}
    for rejection in invalid:
        by_url.setdefault(rejection.url or "", []).append(rejection)
    return [
        Rejection(article.source, rejection.stage, rejection.reason,
                  f"same document as {twin.url}: {rejection.detail}", article.url,
                  article.as_payload())
        for article, twin in merged
        for rejection in by_url.get(twin.url, [])
    ]


class _WarehouseRobots:
    """robots.txt kept in ``news.robots`` between passes."""

    def __init__(self, ingestion: _Ingestion) -> None:
        self._ingestion = ingestion

    async def get(self, origin: str) -> RobotsEntry | None:
        return await self._ingestion._db(load.robots_get, origin)

    async def put(self, entry: RobotsEntry) -> None:
        await self._ingestion._db(load.robots_put, entry)


def _feed_date_kind(entry: FeedEntry, target: str, final_url: str) -> str:
    """What the entry's date is: ``published`` (a publisher's own feed says when the
    page appeared), ``updated`` (Atom's <updated> alone: when the entry last changed)
    or ``crawled`` (an aggregator's entry: when it listed the link). Only the first
    may stand for the page's date, and only when the page gives none (metadata)."""
    if entry.updated_only:
        return "updated"
    try:
        canonical = canonicalize(final_url)
    except ValueError:
        canonical = final_url
    return "published" if is_direct(entry.link, target, canonical) else "crawled"


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
        feed_title=rejections.storable(entry.title), feed_published_at=entry.published_at,
        feed_author=rejections.storable(entry.author),
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
        page_type=extracted.page_type,
        page_type_evidence=extracted.page_type_evidence,
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
    # A wrapper link too long to index (the page itself was reachable) is not kept.
    return [p for p in pairs if len(p[0].encode("utf-8", "surrogatepass")) <= MAX_URL_BYTES]


def _host(url: str) -> str:
    return url.split("/", 3)[2]


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else ""


__all__ = ["PassResult", "begin_run", "end_run", "ingest_sources", "new_run_id", "run_pass"]
