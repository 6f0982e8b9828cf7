"""Re-derive stored records from their raw pages, without fetching again.

After an upgrade of trafilatura, of the metadata rules or of the cleaning rules
(``ingest/rules/clean.yml``, a source's ``clean:`` or ``split:``), every article
whose raw page is in ``news.raw_pages`` can be extracted again exactly as a pass
would extract it: same page bytes, same feed entry (kept on the article), same
source settings. Each new record is validated; then

* a record whose text or metadata changed updates its article in place (the
  previous text goes to ``news.article_versions`` with ``changes.reextracted``),
  and its near-duplicate keys and search entry are renewed;
* a record that now fails validation, or whose text became another article's,
  leaves its article as it was and is recorded in ``news.rejections``;
* an item of a split page that did not exist before is loaded as a new article.

It runs as a run of its own (``news.runs``, trigger ``reextract``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag

import psycopg

from ingest import db, derive, extract, load, rawstore, resolve, runs, validate
from ingest.config import Config, SourceConfig
from ingest.errors import ConfigError, ExtractError
from ingest.extract import Extracted, ExtractJob
from ingest.models import Article, Rejection
from ingest.pool import ProcessPool
from ingest.rejections import record_rejections

log = logging.getLogger(__name__)

#: Pages extracted per round: the bytes of this many raw pages are in memory at once.
PAGES_PER_ROUND = 200


@dataclass
class ReextractResult:
    run_id: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pages: int = 0
    records: int = 0
    changed_text: int = 0
    changed_metadata: int = 0
    unchanged: int = 0
    new_items: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0  # raw pages that could not be read back (a WARC file gone, ...)


@dataclass(slots=True)
class _Stored:
    """An article as stored, with what is needed to extract its page again."""

    article_id: int
    url: str
    source: str
    raw_sha256: str
    feed_title: str | None
    feed_published_at: datetime | None
    feed_author: str | None
    first_seen_at: datetime
    feed_date_kind: str  # published, updated, crawled (see feeds.date_kind)
    fields: tuple[Any, ...]  # the derived fields, in _DERIVED order


_DERIVED = ("title", "author", "published_at", "date_source", "modified_at", "language",
            "site_name", "content_hash", "extractor", "removed", "page_type")


def reextract(
    config: Config,
    dsn: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    run_id: str | None = None,
    workers: int | None = None,
) -> ReextractResult:
    """Extract the stored raw pages of the articles of ``source`` (all by default)
    first seen since ``since`` again, and update the warehouse."""
    run_id = run_id or runs.new_run_id("reextract")
    with runs.RunGuard(dsn, run_id):
        runs.begin_run(dsn, run_id, "reextract", config.settings)
        result = ReextractResult(run_id)
        pool = ProcessPool.shared(workers or config.settings.extract_workers, extract.warm_up)
        try:
            with db.connect(dsn, autocommit=True) as conn:
                for stored in _rounds(conn, source, since):
                    _round(conn, config, pool, stored, result)
        except BaseException as exc:
            runs.end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
            raise
        runs.end_run(dsn, run_id)
    return result


def _rounds(
    conn: psycopg.Connection[Any], source: str | None, since: datetime | None
) -> Iterator[dict[str, list[_Stored]]]:
    """The articles to re-derive, grouped by raw page, PAGES_PER_ROUND pages at a time."""
    rows = conn.execute(
        f"""SELECT article_id, url, source, raw_sha256, feed_title, feed_published_at,
                   feed_author, first_seen_at,
                   coalesce(feed_date_kind,  -- rows from before 010: as a pass judged them then
                            CASE WHEN direct THEN 'published' ELSE 'crawled' END),
                   {', '.join(_DERIVED)}
            FROM news.articles
            WHERE raw_sha256 IS NOT NULL
              AND (%(source)s::text IS NULL OR source = %(source)s)
              AND (%(since)s::timestamptz IS NULL OR first_seen_at >= %(since)s)
            ORDER BY raw_sha256, article_id""",
        {"source": source, "since": since},
    ).fetchall()
    batch: dict[str, list[_Stored]] = {}
    for row in rows:
        (article_id, url, name, sha, feed_title, feed_date, feed_author, seen, kind), derived = (
            row[:9], tuple(row[9:]))
        stored = _Stored(article_id, url, name, sha, feed_title, feed_date, feed_author, seen,
                         kind, derived)
        if stored.raw_sha256 not in batch and len(batch) >= PAGES_PER_ROUND:
            yield batch
            batch = {}
        batch.setdefault(stored.raw_sha256, []).append(stored)
    if batch:
        yield batch


def _round(
    conn: psycopg.Connection[Any],
    config: Config,
    pool: ProcessPool,
    pages: dict[str, list[_Stored]],
    result: ReextractResult,
) -> None:
    raw: dict[str, tuple[bytes, str | None, str]] = {}
    for sha, (body, encoding, url) in rawstore.bodies(conn, pages).items():
        if isinstance(body, rawstore.RawStoreError):  # its articles stay as they are
            log.error("raw page %s of %s cannot be read: %s", sha[:12], url, body)
            result.unreadable += 1
        else:
            raw[sha] = (body, encoding, url)
    shas = [sha for sha in pages if sha in raw]
    jobs = [_job(_source(config, pages[sha][0].source), pages[sha], raw[sha]) for sha in shas]
    outcomes = asyncio.run(_extract_all(pool, jobs, config.settings.extract_timeout))
    updates: list[tuple[_Stored, Article]] = []
    new_items: list[Article] = []
    rejections: list[Rejection] = []
    for sha, job, outcome in zip(shas, jobs, outcomes, strict=True):
        articles = pages[sha]
        result.pages += 1
        if isinstance(outcome, ExtractError):
            rejections += [Rejection(a.source, "extract", outcome.reason, outcome.detail, a.url)
                           for a in articles]
            continue
        by_url = {a.url: a for a in articles}
        page_article = next((a for a in articles if "#item-" not in a.url), None)
        for record in outcome:
            result.records += 1
            stored = by_url.get(record.item_url) if record.item_url else page_article
            article = _article(job, record, stored)
            if stored is None:
                new_items.append(article)
            else:
                updates.append((stored, article))
    rules = {s: validate.rules_for(_source(config, s), config.settings)
             for s in {a.source for _, a in updates} | {a.source for a in new_items}}
    valid, invalid = validate.validate_records([a for _, a in updates] + new_items, rules)
    ok = {id(a) for a in valid}
    rejections += invalid
    _apply(conn, result, [(s, a) for s, a in updates if id(a) in ok], rejections,
           timedelta(days=config.settings.story_window_days))
    fresh = [a for a in new_items if id(a) in ok]
    if fresh:
        loaded = load.load_batch(conn, result.run_id, fresh,
                                 story_window=timedelta(days=config.settings.story_window_days))
        result.new_items += loaded.new
    for rejection in rejections:
        result.rejected[rejection.reason] = result.rejected.get(rejection.reason, 0) + 1
    record_rejections(conn, result.run_id, rejections)


def _source(config: Config, name: str) -> SourceConfig:
    """The source's settings; a source no longer in the file gets the defaults."""
    try:
        return config.source(name)
    except ConfigError:
        return SourceConfig(name=name, url="http://removed.invalid/")


def _job(source: SourceConfig, articles: list[_Stored],
         raw: tuple[bytes, str | None, str]) -> ExtractJob:
    body, encoding, url = raw
    first = articles[0]
    feed_date = first.feed_published_at
    if feed_date is None and first.fields[_DERIVED.index("date_source")] == "feed":
        feed_date = first.fields[_DERIVED.index("published_at")]  # stored before 006
    if first.feed_date_kind != "published":
        feed_date = None  # as a pass: a crawl time or an update time is no page's date
    return ExtractJob(
        source=source.name, url=url, body=body, declared_charset=encoding,
        feed_title=first.feed_title, feed_published_at=feed_date,
        feed_author=first.feed_author, timezone=source.timezone, clean=tuple(source.clean),
        clean_off=tuple(source.clean_off),
        split=source.split,
    )


async def _extract_all(
    pool: ProcessPool, jobs: list[ExtractJob], timeout: float
) -> list[list[Extracted] | ExtractError]:
    """Each job's records, or why there are none (a page over ``timeout`` seconds is an
    ``extract_timeout``); at most two jobs a worker are handed over at once, so that a
    job's time is mostly its own."""
    slots = asyncio.Semaphore(2 * pool.workers)

    async def one(job: ExtractJob) -> list[Extracted] | ExtractError:
        async with slots:
            try:
                return await pool.run(extract.extract_items, job, timeout=timeout)
            except Exception as exc:  # this page's problem only
                return extract.failure(exc)

    return await asyncio.gather(*map(one, jobs))


def _article(job: ExtractJob, record: Extracted, stored: _Stored | None) -> Article:
    url = stored.url if stored else (record.item_url or urldefrag(job.url)[0])
    return Article.from_extracted(
        record, source=job.source, url=url,
        urls=[(url, "item" if record.item_url else "canonical")],
        fetched_at=stored.first_seen_at if stored else datetime.now(UTC), direct=True,
        feed_title=job.feed_title,
        feed_published_at=stored.feed_published_at if stored else job.feed_published_at,
        feed_author=job.feed_author,
    )


def _derived(a: Article) -> tuple[Any, ...]:
    return tuple(getattr(a, name) for name in _DERIVED)


def _apply(
    conn: psycopg.Connection[Any],
    result: ReextractResult,
    updates: Sequence[tuple[_Stored, Article]],
    rejections: list[Rejection],
    window: timedelta,
) -> None:
    """Update the articles whose record changed, in one transaction under the load lock."""
    changed = [(s, a) for s, a in updates if _derived(a) != s.fields]
    result.unchanged += len(updates) - len(changed)
    if not changed:
        return
    fresh: list[tuple[int, Article]] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (db.LOAD_LOCK,))
        # A text is one document within a site: whose is it on this one?
        owners = {(site, text): aid for site, text, aid in conn.execute(
            "SELECT site, content_hash, article_id FROM news.articles WHERE content_hash = ANY(%s)",
            ([a.content_hash for _, a in changed],))}
        claimed: set[tuple[str, str]] = set()
        for stored, article in changed:
            key = (resolve.site(stored.url), article.content_hash)
            owner = owners.get(key, stored.article_id)
            if owner != stored.article_id or key in claimed:
                rejections.append(Rejection(
                    article.source, "load", "duplicate_text",
                    f"re-extracted text equals article {owner}'s; kept the stored record",
                    article.url))
                continue
            claimed.add(key)
            text_changed = article.content_hash != stored.fields[_DERIVED.index("content_hash")]
            load.replace_version(conn, stored.article_id, article, run_id=result.run_id,
                                 at=result.started_at, text_changed=text_changed)
            if text_changed:
                fresh.append((stored.article_id, article))
                result.changed_text += 1
            else:
                result.changed_metadata += 1
        derive.enqueue(conn, [aid for aid, _ in fresh], result.started_at)
    if fresh:
        derive.drain(conn, window, fresh, only=[aid for aid, _ in fresh])
