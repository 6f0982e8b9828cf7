"""One pass over sources: the stages composed, streaming.

Sources are read concurrently (:mod:`ingest.origins`: feeds, sitemaps, discovered
sites, list pages; :mod:`ingest.archive_pass`: web archive files, whose pages need no
fetching); each new entry's page is fetched (:mod:`ingest.fetch`), then extracted in
the process pool (:mod:`ingest.extract`) while other pages download; finished records
gather into batches that are de-duplicated, validated and stored while the pass goes
on (:mod:`ingest.batches`).
Every failure on the way becomes a rejection, an unforeseen exception included
(``internal_error``): one entry's or one source's failure never stops the others.
Only the warehouse going away for good stops a pass early, and what it fetched waits
in the spool for the next pass.

The Airflow DAG calls :func:`ingest.runs.begin_run`, :func:`ingest_sources` (once
per batch of sources) and :func:`ingest.runs.end_run`; the CLI calls :func:`run_pass`,
which does the same three in one process. Every run begins by repairing what killed
passes left (:func:`ingest.runs.repair`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest import (
    archive_pass,
    batches,
    db,
    extract,
    failpoints,
    feeds,
    fetch,
    load,
    origins,
    rawstore,
    resolve,
    runs,
    spool,
    validate,
)
from ingest.config import Config, Environment, Settings, SourceConfig
from ingest.errors import (
    FetchError,
    InternalError,
    ItemError,
    ParseError,
    QualityGateError,
    TransientFetchError,
    WarehouseError,
)
from ingest.extract import ExtractJob
from ingest.models import FeedEntry, SourceCounts
from ingest.pool import ProcessPool, start_forkserver
from ingest.robots import WarehouseStore

log = logging.getLogger(__name__)

#: Added to the validator's niceness. Enough to yield to extraction, not so much
#: that it falls behind: at 10 it got nothing while both workers were busy, and every
#: batch's validation waited for the last page (a tail of 3.5 s in bench/e2e.py).
VALIDATOR_NICE = 5

#: progress(event, source, n): events "entries" (n found), "item" (one entry done).
ProgressFn = Callable[[str, str, int], None]


@dataclass
class Timings:
    """Where a call's time went (``time.monotonic()`` seconds): its start-up, until its
    first page was extracted; its tail, from its last page extracted to its end (the
    last batch's validation and load, the Data Docs); how busy the extraction workers
    were. Logged by the CLI and the ingest task, printed by bench/e2e.py."""

    started: float = field(default_factory=time.monotonic)
    first_page: float | None = None
    last_page: float | None = None
    ended: float | None = None
    workers: int = 0
    busy: float | None = None  # the extraction workers' CPU seconds during the call

    def page_done(self) -> None:
        self.last_page = time.monotonic()
        if self.first_page is None:
            self.first_page = self.last_page

    def as_dict(self) -> dict[str, float | None]:
        """The figures, in rounded seconds (and a share)."""
        start = self.started
        end = self.ended if self.ended is not None else time.monotonic()
        share = (self.busy / (self.workers * (end - start))
                 if self.busy is not None and self.workers and end > start else None)
        return {
            "seconds": round(end - start, 3),
            "startup": None if self.first_page is None else round(self.first_page - start, 3),
            "tail": None if self.last_page is None else round(end - self.last_page, 3),
            "workers": self.workers,
            "workers_busy": None if share is None else round(share, 3),
        }

    def text(self) -> str:
        """One line for a log."""
        values = self.as_dict()
        if values["startup"] is None:
            return f"{values['seconds']:.1f} s, no page extracted"
        busy = ("" if values["workers_busy"] is None else
                f"; {self.workers} extraction worker(s) busy {values['workers_busy']:.0%}")
        return (f"{values['seconds']:.1f} s: first page extracted after {values['startup']:.2f} s,"
                f" last {values['tail']:.2f} s before the end{busy}")


@dataclass
class SourcesResult:
    counts: list[SourceCounts]
    fetch: fetch.FetchStats
    docs: Path | None  # the Data Docs index, when this call validated anything
    listed: dict[str, origins.Listed] | None = None  # what each source listed (backfill)
    timings: Timings | None = None


@dataclass
class PassResult:
    run_id: str
    counts: list[SourceCounts]
    summary: dict[str, Any]
    fetch: fetch.FetchStats
    seconds: float
    docs: Path | None = None
    timings: Timings | None = None


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
    backfill: origins.Window | None = None,
    timings: Timings | None = None,
) -> SourcesResult:
    """Fetch, parse, resolve, fetch, extract, dedup, validate and load the sources.

    Raises :class:`QualityGateError` after everything is loaded and recorded when a
    source failed a quality gate (``news.quality`` and the run's message say which),
    and :class:`WarehouseError` when the warehouse went away for longer than
    ``settings.warehouse_retry``, after keeping what was fetched in the spool.
    ``timings``: started by the caller, to count its own start-up too.
    """
    timings = timings or Timings()
    if sources:
        start_forkserver()  # its warm-up overlaps the run's set-up and the sources' reading
    env = Environment()
    quality_dir = quality_dir or env.quality_dir
    spool_dir = spool_dir or spool.directory(env.home, dsn)
    raw_store = rawstore.open_store(config.settings, env.home)
    with runs.RunGuard(dsn, run_id):
        # niced (the embedded server's process): batch work yields the cores to extraction
        warehouse = db.Warehouse(dsn, retry_for=config.settings.warehouse_retry, nice=10)
        try:
            if spool.pending(spool_dir):
                warehouse.run(lambda conn: spool.replay(
                    conn, spool_dir, timedelta(days=config.settings.story_window_days),
                    raw_store))
            ingestion = _Ingestion(config.settings, list(sources), warehouse, run_id, progress,
                                   quality_dir, spool_dir, full_refresh, backfill, raw_store,
                                   timings)
            asyncio.run(ingestion.run(transport))
        finally:
            warehouse.close()
            timings.ended = time.monotonic()
    result = SourcesResult(list(ingestion.counts.values()), ingestion.fetch_stats,
                           ingestion.docs, ingestion.listed, timings)
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
    timings = Timings()
    started = timings.started
    run_id = run_id or runs.new_run_id(trigger)
    with runs.RunGuard(dsn, run_id):  # from the start: the run is never left unguarded
        runs.begin_run(dsn, run_id, trigger, config.settings, spool_dir)
        try:
            result = ingest_sources(
                config, config.enabled_sources(source_names), dsn, run_id, progress=progress,
                quality_dir=quality_dir, spool_dir=spool_dir, full_refresh=full_refresh,
                timings=timings,
            )
        except QualityGateError as exc:
            summary = runs.end_run(dsn, run_id, "failed")  # the gate's message is on the run
            partial: SourcesResult = exc.result
            exc.result = PassResult(run_id, partial.counts, summary, partial.fetch,
                                    time.monotonic() - started, partial.docs)
            raise
        except BaseException as exc:
            # The warehouse may be what failed: then the next pass closes the run.
            with contextlib.suppress(WarehouseError):
                runs.end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
            raise
        summary = runs.end_run(dsn, run_id)
    timings.ended = time.monotonic()
    return PassResult(run_id, result.counts, summary, result.fetch, time.monotonic() - started,
                      result.docs, result.timings)


class _Ingestion:
    """The state of one ``ingest_sources`` call: the stages, composed."""

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
        backfill: origins.Window | None = None,
        raw_store: rawstore.RawStore | None = None,
        timings: Timings | None = None,
    ) -> None:
        self.settings = settings
        self.timings = timings or Timings()
        self.raw_store = raw_store
        self.sources = {s.name: s for s in sources}
        self.warehouse = warehouse
        self.run_id = run_id
        self.progress = progress or (lambda event, source, n: None)
        self.counts = {s.name: SourceCounts(s.name) for s in sources}
        self.wrappers = resolve.wrappers_from_settings(settings.redirect_wrappers)
        self.quality_dir = quality_dir
        self.spool_dir = spool_dir
        self.full_refresh = full_refresh
        self.fetch_stats = fetch.FetchStats()
        self.backfill = backfill
        self.memories: dict[str, origins.Memory] = {}
        self.listed: dict[str, origins.Listed] = {}
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        # Sources whose feed must be read in full next pass (no 304): some entries
        # failed for reasons that may pass, or the feed listed more than we took.
        self.reread: set[str] = set()
        self.gates = {s.name: validate.gate_rules_for(s, settings) for s in sources}
        self.gate_failures: list[str | None] = []
        self.docs: Path | None = None
        self.notes: list[str] = []  # for the run's message

    async def run(self, transport: Any = None) -> None:
        self.inflight = asyncio.Semaphore(self.settings.concurrency * 2)
        self._flushing = asyncio.Lock()
        listing = [s for s in self.sources.values() if s.kind != "warc"]  # archives: no feed
        self.memories = await self.warehouse.call(lambda conn: origins.load_memories(
            conn, feeds.load_states(conn, [s.name for s in listing]), listing))
        # Extraction workers start now, forked from the forkserver started with the
        # call, while the sources are read (the warm-up, about a second of one core, is
        # wasted only by a pass that finds nothing new).
        self.pool = ProcessPool.shared(self.settings.extract_workers, extract.warm_up)
        self.timings.workers = self.pool.workers
        busy_before = self.pool.cpu_seconds()  # a pool shared with earlier calls
        if self.sources:
            self.pool.start_soon()
        # One process for Great Expectations (3 s to import), started when the first
        # new entry shows up and the extraction workers are up (its import must not
        # delay theirs), and niced: validating a batch yields the cores to extraction.
        validator = ProcessPool.shared(1, validate.warm_up, method="spawn", nice=VALIDATOR_NICE)
        self.batches = batches.Batches(
            self.warehouse, validator, run_id=self.run_id,
            rules={s.name: validate.rules_for(s, self.settings) for s in self.sources.values()},
            counts=self.counts, window=timedelta(days=self.settings.story_window_days),
            url_retry_backoff=self.settings.url_retry_backoff, quality_dir=self.quality_dir,
            spool_dir=self.spool_dir, raw_store=self.raw_store,
        )
        async with fetch.Fetcher(
            self.settings, transport=transport, robots=WarehouseStore(self.warehouse)
        ) as fetcher:
            self.fetcher = fetcher
            await asyncio.gather(*(self._source(s) for s in self.sources.values()))
            self.fetch_stats = fetcher.stats
        docs: asyncio.Future[Path] | None = None

        def build_docs() -> None:  # after the last validation, while the rest goes on
            nonlocal docs
            if self.batches.validated and self.batches.down is None:
                docs = asyncio.ensure_future(validator.run(
                    validate.build_docs, self.quality_dir, self.run_id,
                    self.settings.keep_data_docs_runs))

        await self.flush(build_docs)
        if self.batches.down is not None:
            raise WarehouseError(f"{self.batches.down}; {self.batches.spooled} fetched record(s) "
                                 f"kept in {self.spool_dir} for the next pass")
        busy_after = self.pool.cpu_seconds()
        if busy_before is not None and busy_after is not None:
            self.timings.busy = busy_after - busy_before
        if self.warehouse.reconnects:
            self.notes.append(f"the warehouse connection was lost and came back "
                              f"({self.warehouse.reconnects} reconnection(s))")
        # Only now, with every entry loaded or rejected, may a feed answer 304 next time:
        # and not if some entries failed for reasons that may pass (timeouts, 5xx).
        states = {name: memory.state for name, memory in self.memories.items()}
        feeds.keep_validators(states, self.validators, but=self.reread)
        found = {name: (self.sources[name].address, listed.discovery)
                 for name, listed in self.listed.items() if listed.discovery is not None}

        def remember(conn: Any) -> None:
            feeds.save_states(conn, list(states.values()))
            origins.save_memories(conn, self.memories.values(), but=self.reread, found=found)

        await self.warehouse.call(remember)
        self.gate_failures = await self.warehouse.call(lambda conn: runs.judge(
            conn, self.run_id, self.counts, self.gates, self.notes))
        if docs is not None:
            self.docs = await docs

    # --- stages -------------------------------------------------------------------

    async def _source(self, source: SourceConfig) -> None:
        """One source, whatever happens: any failure is this source's rejection (and
        counts toward its feed's back-off), never the pass's end."""
        try:
            await self._read_source(source)
        except WarehouseError as exc:
            self.batches.stop(exc)
        except Exception as exc:  # an input or a bug nobody foresaw
            log.exception("source %s failed", source.name)
            self._feed_failed(source, InternalError(exc, "parse"))

    def _feed_failed(self, source: SourceConfig, error: ItemError) -> None:
        memory = self.memories.get(source.name)
        if memory is not None:
            state = memory.state
            feeds.failed(state, error, datetime.now(UTC), self.settings.failure_backoff)
        self.counts[source.name].feed_status = error.reason
        self.batches.fail(source.name, error, url=None,
                          detail_prefix=f"{source.kind} {source.address}: ")
        self.progress("entries", source.name, 0)

    async def _read_source(self, source: SourceConfig) -> None:
        if source.kind == "warc":
            await archive_pass.ArchivePass(self).read(source)
            return
        counts = self.counts[source.name]
        now = datetime.now(UTC)
        memory = self.memories[source.name]
        state = memory.state
        if not self.full_refresh and self.backfill is None and not feeds.due(state, now):
            # Failing feeds are polled less often, and say so instead of going quiet.
            counts.feed_status = "backoff"
            self.batches.fail(source.name, FetchError("backoff", feeds.backoff_note(state)),
                              url=None)
            self.progress("entries", source.name, 0)
            return
        if self.batches.down is not None:
            return
        state.last_fetch_at = now
        try:
            read = await origins.read(
                self.fetcher, source, memory, self.settings,
                conditional=not self.full_refresh and self.backfill is None,
                policy=fetch.HostPolicy.of(source, self.settings), window=self.backfill)
        except ItemError as exc:
            self._feed_failed(source, exc)
            return
        if read is None:
            counts.feed_status = "not_modified"
            feeds.succeeded(state, now, "not_modified")
            self.progress("entries", source.name, 0)
            return
        counts.feeds_fetched += 1
        counts.feed_status = "ok"
        self.listed[source.name] = read
        feeds.succeeded(state, now, "ok", entries=len(read.entries))
        # Validators are kept only once the pass has dealt with every entry (see run()).
        self.validators[source.name] = (read.etag, read.last_modified)
        for problem in read.problems:
            self.batches.fail(source.name, problem, url=None)
        if read.more:
            self.reread.add(source.name)
            if self.backfill is None:
                self.notes.append(f"{source.name}: more documents than "
                                  f"settings.sitemap_max_documents; the rest next pass")
        entries = list({e.link: e for e in read.entries}.values())
        counts.entries_seen += len(entries)
        self.progress("entries", source.name, len(entries))
        fresh = await self._skip_known(source, entries,
                                       source.max_items or self.settings.max_items_per_feed)
        if fresh:
            state.last_new_item_at = now
            self.pool.start_soon()
            self.batches.validator.start_soon(after=self.pool)
        await asyncio.gather(*(self._entry(source, e) for e in fresh))

    async def _skip_known(
        self, source: SourceConfig, entries: list[FeedEntry], limit: int
    ) -> list[FeedEntry]:
        """The entries to fetch (:func:`ingest.feeds.sort_entries`), at most ``limit``;
        the known ones' articles get their sighting (``last_seen_at``, new URLs)."""
        now = datetime.now(UTC)
        revisit = now - timedelta(hours=self.settings.revisit_hours) if self.full_refresh else None
        found = await self.warehouse.call(lambda conn: feeds.sort_entries(
            conn, entries, self.wrappers, now, revisit_after=revisit, limit=limit))
        counts = self.counts[source.name]
        counts.articles_skipped += found.waiting
        if found.due_later or found.cut:
            self.reread.add(source.name)  # no 304 next time: entries are due later
        if found.cut and self.backfill is not None and source.name in self.listed:
            listed = self.listed[source.name]  # the same documents again next step
            listed.read.clear()
            listed.more, listed.cursor = True, self.backfill.cursors.get(source.name)
        if found.cut:
            self.batches.fail(source.name, ParseError(
                "feed_truncated",
                f"{len(found.fresh) + found.cut} new entries, {limit} taken this pass "
                f"(max_items_per_feed); the other {found.cut} are taken by the next passes",
            ), url=None, detail_prefix=f"{source.kind} {source.address}: ")
        if found.sightings:
            await self.warehouse.call(lambda conn: load.touch_known(
                conn, self.run_id, source.name, found.sightings, datetime.now(UTC)))
            counts.articles_seen_before += len(found.sightings)
        self.progress("item", source.name, len(entries) - len(found.fresh))
        return found.fresh

    async def _entry(self, source: SourceConfig, entry: FeedEntry) -> None:
        """One entry, whatever happens: a failure is its rejection, never the pass's."""
        try:
            await self._article(source, entry)
        except WarehouseError as exc:
            self.batches.stop(exc)
        except Exception as exc:  # an input or a bug nobody foresaw
            log.exception("entry %s of %s failed", entry.link, source.name)
            self.batches.fail(source.name, InternalError(exc, "extract"), url=entry.link,
                         entry_key=resolve.entry_key(entry.link, self.wrappers))
        finally:
            self.progress("item", source.name, 1)

    async def _article(self, source: SourceConfig, entry: FeedEntry) -> None:
        counts = self.counts[source.name]
        target = resolve.unwrap(entry.link, self.wrappers)
        key = resolve.entry_key(entry.link, self.wrappers)
        async with self.inflight:
            if self.batches.down is not None:
                return  # the warehouse is gone: fetch nothing more
            try:
                fetched = await self.fetcher.get(
                    target, accept=fetch.PAGE_ACCEPT,
                    policy=fetch.HostPolicy.of(source, self.settings), obey_robots=(
                        self.settings.obey_robots if source.obey_robots is None
                        else source.obey_robots))
                counts.articles_fetched += 1
                fetch.require_html(fetched)
            except FetchError as exc:
                if isinstance(exc, TransientFetchError):
                    self.reread.add(source.name)  # re-read the feed next pass
                self.batches.fail(source.name, exc, url=entry.link, entry_key=key)
                return
            failpoints.reach("fetch.page")
            added = await self.page(source, entry, target, key, fetched)
        if added and len(self.batches) >= self.settings.batch_size:
            await self.flush()

    async def page(
        self, source: SourceConfig, entry: FeedEntry, target: str, key: str,
        fetched: fetch.Fetched,
    ) -> bool:
        """A fetched page (or one read from an archive) extracted and batched; False
        when it became a rejection (its raw page kept)."""
        counts = self.counts[source.name]
        date_kind = feeds.date_kind(entry, target, fetched.url)
        job = ExtractJob(
            source=source.name, url=fetched.url, body=fetched.body,
            declared_charset=fetched.charset, feed_title=entry.title,
            feed_published_at=entry.published_at if date_kind == "published" else None,
            feed_author=entry.author, timezone=source.timezone, clean=tuple(source.clean),
            clean_off=tuple(source.clean_off), split=source.split,
            capture=rawstore.Capture(
                fetched.status, tuple(fetched.headers.multi_items()), fetched.content_type,
                fetched.fetched_at, self.raw_store.user_agent,
            ) if isinstance(self.raw_store, rawstore.WarcStore) else None,
        )
        try:
            records = await self.pool.run(extract.extract_items, job,
                                          timeout=self.settings.extract_timeout)
        except Exception as exc:  # this page's problem only
            self.timings.page_done()
            self.batches.add_raw(rawstore.RawPage.of(  # nothing fetched is lost
                fetched.body, fetched.content_type, fetched.charset, fetched.url,
                fetched.fetched_at, fetched.status, fetched.headers.multi_items()))
            self.batches.fail(source.name, extract.failure(exc), url=fetched.url, entry_key=key)
            return False
        self.timings.page_done()
        counts.articles_extracted += len(records)
        self.batches.add_page(source.name, entry, target, fetched, records, key, date_kind)
        return True

    async def flush(self, validated: Callable[[], None] | None = None) -> None:
        async with self._flushing:
            await self.batches.flush(validated)


__all__ = [
    "PassResult", "ProgressFn", "SourcesResult", "Timings", "ingest_sources", "run_pass",
]
