"""Backfill: a source's older articles, between two dates, politely and resumably.

A pass reads what a source lists now; a backfill walks back through what it
listed before: a sitemap's children (an index's ``lastmod`` rules out those with
nothing as new as ``since``) and their URLs dated within the range, or a list
page's next pages until a whole page is older than ``since``. It goes in steps of
at most ``settings.sitemap_max_documents`` documents and ``max_items_per_feed``
articles, each step a full pass over what it read (same fetcher, page types,
validation, de-duplication and load), so that it never re-fetches a stored
article, and passes over the same source keep running beside it.

Its progress is in ``news.backfills``: the sitemaps read in full and the next
list page. A backfill killed at any point, run again with the same dates, goes on
from there. A feed lists only its latest entries, so a feed source has nothing to
backfill.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from ingest import db, origins, pipeline, runs
from ingest.config import Config
from ingest.errors import ConfigError, QualityGateError, WarehouseError
from ingest.models import SourceCounts

#: step(n, listed, counts): after each step.
StepFn = Callable[[int, origins.Listed | None, SourceCounts], None]


@dataclass
class BackfillResult:
    run_id: str
    source: str
    steps: int
    finished: bool
    counts: SourceCounts
    documents: int = 0  # sitemaps read in full, over all runs of this backfill
    messages: list[str] = field(default_factory=list)


def backfill(
    config: Config,
    dsn: str,
    source_name: str,
    since: date,
    until: date | None = None,
    *,
    run_id: str | None = None,
    trigger: str = "backfill",
    max_steps: int | None = None,
    progress: pipeline.ProgressFn | None = None,
    on_step: StepFn | None = None,
) -> BackfillResult:
    """Backfill one source from ``since`` to ``until`` (default today), both whole
    UTC days, until it is done or ``max_steps`` steps ran."""
    source = config.source(source_name)
    if source.kind == "feed":
        raise ConfigError(f"source {source_name!r} is a feed, which lists only its latest "
                          "entries: backfill reads sitemaps and list pages (sitemap:, site: or "
                          "listing:)")
    until = until or datetime.now(UTC).date()
    if until < since:
        raise ConfigError(f"--until {until} is before --since {since}")
    run_id = run_id or runs.new_run_id(trigger)
    totals = SourceCounts(source_name)
    result = BackfillResult(run_id, source_name, 0, False, totals)
    with runs.RunGuard(dsn, run_id):
        runs.begin_run(dsn, run_id, trigger, config.settings)
        try:
            _steps(config, dsn, source_name, since, until, result, max_steps, progress, on_step)
        except BaseException as exc:
            with contextlib.suppress(WarehouseError):
                runs.end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
            raise
        runs.end_run(dsn, run_id)
    return result


def _steps(
    config: Config, dsn: str, name: str, since: date, until: date, result: BackfillResult,
    max_steps: int | None, progress: pipeline.ProgressFn | None, on_step: StepFn | None,
) -> None:
    source = config.source(name)
    with db.connect(dsn, autocommit=True) as conn:
        done, cursor = _resume(conn, name, since, until)
    while max_steps is None or result.steps < max_steps:
        window = origins.Window(
            since=datetime.combine(since, time.min, UTC),
            until=datetime.combine(until, time.max, UTC), backfill=True,
            done={name: set(done)}, cursors={name: cursor} if cursor else {})
        try:
            step = pipeline.ingest_sources(config, [source], dsn, result.run_id,
                                           progress=progress, backfill=window)
        except QualityGateError as exc:  # recorded on the run; the backfill goes on
            step = exc.result
            result.messages.append(str(exc))
        result.steps += 1
        counts = step.counts[0]
        _add(result.counts, counts)
        listed = (step.listed or {}).get(name)
        if on_step is not None:
            on_step(result.steps, listed, counts)
        if listed is None:  # the source's own address failed: its rejection says why
            result.messages.append(f"step {result.steps}: {counts.feed_status}")
            break
        before = (len(done), cursor)
        done.extend(url for url in listed.read if url not in done)
        cursor = listed.cursor if source.kind == "listing" else None
        finished = not listed.more and cursor is None
        with db.connect(dsn, autocommit=True) as conn:
            _save(conn, name, since, until, done, cursor, counts, finished)
        if finished:
            result.finished = True
            break
        if (len(done), cursor) == before and not counts.articles_fetched:
            result.messages.append("no progress in a step: stopped (the rest is waiting for "
                                   "URLs that failed to be tried again)")
            break
    result.documents = len(done)


def _resume(conn: Any, name: str, since: date, until: date) -> tuple[list[str], str | None]:
    now = datetime.now(UTC)
    row = conn.execute(
        """INSERT INTO news.backfills (source, since, until, started_at, updated_at)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (source, since, until) DO UPDATE SET updated_at = EXCLUDED.updated_at,
               finished_at = NULL
           RETURNING done, cursor, finished_at""",
        (name, since, until, now, now),
    ).fetchone()
    return list(row[0]), row[1]


def _save(conn: Any, name: str, since: date, until: date, done: list[str], cursor: str | None,
          counts: SourceCounts, finished: bool) -> None:
    now = datetime.now(UTC)
    conn.execute(
        """UPDATE news.backfills SET done = %s, cursor = %s, steps = steps + 1,
               articles = articles + %s, rejected = rejected + %s, updated_at = %s,
               finished_at = CASE WHEN %s THEN %s END
           WHERE source = %s AND since = %s AND until = %s""",
        (done, cursor, counts.articles_new, counts.rejections, now, finished, now,
         name, since, until),
    )


def _add(total: SourceCounts, step: SourceCounts) -> None:
    for name in ("entries_seen", "articles_fetched", "articles_extracted", "articles_valid",
                 "articles_new", "articles_seen_before", "articles_changed", "near_duplicates",
                 "articles_skipped", "rejections", "validated", "validation_rejected"):
        setattr(total, name, getattr(total, name) + getattr(step, name))
    for reason, n in step.reasons.items():
        total.reasons[reason] = total.reasons.get(reason, 0) + n
    total.feed_status = step.feed_status
