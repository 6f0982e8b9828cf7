"""The batch stage of a pass: records gather as their pages are extracted; a batch at
a time they are collapsed (one document once), validated (Great Expectations, in a
process of its own) and stored in the warehouse, or spooled when it is gone.

Storing is done step by step (:meth:`Batches.store`), each step one transaction or
idempotent, so that a lost connection redoes the step and a kill between two leaves
what the next pass repairs:

1. the load: the records, their URLs and raw pages, and their derived data queued
   (``ingest.load``); a record the database refuses is a ``load_error`` rejection and
   the rest of its batch loads;
2. the derived data: stories and search entries (``ingest.derive``); its commit, a
   normal one, makes the load's (which does not wait for its WAL flush) durable, so a
   connection lost in between means the load is done again;
3. the batch's rejections, and the entries' failing URLs (``news.url_failures``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from ingest import db, derive, failpoints, load, rawstore, rejections, resolve, spool, validate
from ingest.dedup import collapse_batch
from ingest.errors import InternalError, ItemError, WarehouseError
from ingest.extract import Extracted
from ingest.fetch import Fetched
from ingest.models import Article, FeedEntry, Rejection, SourceCounts
from ingest.pool import ProcessPool
from ingest.rawstore import RawStore

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    articles: list[Article] = field(default_factory=list)
    raws: list[rawstore.RawPage] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    failures: list[tuple[str, Rejection]] = field(default_factory=list)  # (entry key, why)
    keys: dict[str, str] = field(default_factory=dict)  # record URL -> its entry's key


class Batches:
    """What a pass has extracted and rejected, on its way to the warehouse."""

    def __init__(
        self,
        warehouse: db.Warehouse,
        validator: ProcessPool,
        *,
        run_id: str,
        rules: dict[str, validate.SourceRules],
        counts: dict[str, SourceCounts],
        window: timedelta,
        url_retry_backoff: float,
        quality_dir: Path,
        spool_dir: Path,
        raw_store: RawStore | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.raw_store = raw_store
        self.validator = validator
        self.run_id = run_id
        self.rules = rules
        self.counts = counts
        self.window = window
        self.url_retry_backoff = url_retry_backoff
        self.quality_dir = quality_dir
        self.spool_dir = spool_dir
        self.pending = _Pending()
        self.down: WarehouseError | None = None  # the warehouse went away for good
        self.spooled = 0
        self.validated = 0  # batches that reached validation (for the Data Docs)

    def __len__(self) -> int:
        return len(self.pending.articles)

    def add(self, article: Article, entry_key: str) -> None:
        self.pending.articles.append(article)
        self.pending.keys[article.url] = entry_key

    def add_page(
        self, source: str, entry: FeedEntry, target: str, fetched: Fetched,
        records: Sequence[Extracted], entry_key: str, date_kind: str,
    ) -> None:
        """A fetched page's records (one, or a split page's items) and its raw page.
        ``target`` is the entry's link unwrapped, ``date_kind`` what its date is."""
        first = records[0]
        self.add_raw(rawstore.RawPage(first.raw_sha256, first.raw_gzip or None, len(fetched.body),
                                  fetched.content_type, first.encoding, fetched.url,
                                  fetched.fetched_at, fetched.status,
                                  tuple(fetched.headers.multi_items()),
                                  record=first.raw_record))
        for extracted in records:
            if extracted.item_url:
                # An item of a split page: its own URL only, since the page's URLs name
                # every item of the page and would match them all to one article.
                url, urls = extracted.item_url, [(extracted.item_url, "item")]
            else:
                url = resolve.canonicalize(fetched.url)
                urls = resolve.page_urls(entry.link, target, fetched.hops, url,
                                         extracted.declared_url)
            self.add(Article.from_extracted(
                extracted, source=source, url=url, urls=urls, fetched_at=fetched.fetched_at,
                direct=resolve.is_direct(entry.link, target, url),
                feed_title=rejections.storable(entry.title), feed_published_at=entry.published_at,
                feed_author=rejections.storable(entry.author),
                feed_date_kind=date_kind if entry.published_at else None,
                via=entry.via, found_in=rejections.storable(entry.found_in),
            ), entry_key)

    def add_raw(self, page: rawstore.RawPage) -> None:
        self.pending.raws.append(page)

    def fail(
        self, source: str, exc: ItemError, *, url: str | None, detail_prefix: str = "",
        entry_key: str | None = None,
    ) -> None:
        """Count and keep an item's rejection; with ``entry_key``, the entry's URL
        failed and waits before it is tried again (news.url_failures)."""
        self.counts[source].reject(exc.reason)
        detail = " ".join((detail_prefix + exc.detail).split())
        rejection = Rejection(source, exc.stage, exc.reason, detail, url)
        self.pending.rejections.append(rejection)
        if entry_key is not None:
            self.pending.failures.append((entry_key, rejection))

    async def flush(self, validated: Callable[[], None] | None = None) -> None:
        """Validate and store what is pending; into the spool instead when the
        warehouse is gone (:attr:`down`). ``validated`` is called once the batch is
        validated, before it is stored (at once when nothing is pending): what waits
        for the last validation, not for the last load (the pass's Data Docs), starts
        then."""
        pending, self.pending = self.pending, _Pending()
        if not (pending.articles or pending.raws or pending.rejections or pending.failures):
            if validated is not None:
                validated()
            return
        distinct, merged = collapse_batch(pending.articles)
        valid, invalid = await self.validate(distinct) if distinct else ([], [])
        self.validated += bool(distinct)
        if validated is not None:
            validated()
        await self._keep(pending, valid, invalid, merged)

    async def _keep(self, pending: _Pending, valid: list[Article], invalid: list[Rejection],
                    merged: list[tuple[Article, Article]]) -> None:
        """A validated batch into the warehouse, or the spool."""
        invalid += twins_rejected(merged, invalid)
        failures = [*pending.failures,
                    *((key, r) for r in invalid if (key := pending.keys.get(r.url or "")))]
        if self.down is None:
            try:
                result, refused = await self.warehouse.work(functools.partial(
                    self.store, valid, pending.raws, [*pending.rejections, *invalid], failures,
                    pending.keys))
            except WarehouseError as exc:
                self.stop(exc)
            else:
                count(self.counts, merged, valid, [*invalid, *refused], result)
                return
        self.spooled += len(valid)
        spool.save(self.spool_dir, spool.SpooledBatch(
            self.run_id, valid, pending.raws, [*pending.rejections, *invalid]))

    def stop(self, exc: WarehouseError) -> None:
        """The warehouse is gone for good: what comes next goes to the spool (and the
        pass fetches nothing more)."""
        if self.down is None:
            self.down = exc
            log.error("%s: finishing the pages in hand, then stopping", exc)

    async def validate(self, records: list[Article]) -> tuple[list[Article], list[Rejection]]:
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
            first = await self.validate(records[:half])
            second = await self.validate(records[half:])
            return first[0] + second[0], first[1] + second[1]

    def store(
        self,
        valid: list[Article],
        raws: list[rawstore.RawPage],
        rejected: list[Rejection],
        failures: list[tuple[str, Rejection]],
        keys: dict[str, str],
    ) -> tuple[load.LoadResult, list[Rejection]]:
        """A batch into the warehouse, in the steps of the module docstring. Returns
        the load's result and the records the database refused."""
        reconnects = self.warehouse.reconnects
        result, refused = self.warehouse.run(lambda conn: self._load(conn, valid, raws))
        failpoints.reach("load.committed")
        drained = self._derive(result.fresh)
        while self.warehouse.reconnects != reconnects:
            # The connection was lost after the load: a crash of the server may have
            # taken it (it did not wait for its flush). Load again: nothing changes if
            # it survived.
            reconnects = self.warehouse.reconnects
            again, _ = self.warehouse.run(lambda conn: self._load(conn, valid, raws))
            drained = self._derive(again.fresh)
        result.near_by_source, result.indexed = drained.near_by_source, drained.indexed
        failpoints.reach("load.derived")
        failures = [*failures, *((key, r) for r in refused if (key := keys.get(r.url or "")))]
        now = datetime.now(UTC)
        self.warehouse.run(lambda conn: (
            rejections.record_rejections(conn, self.run_id, [*rejected, *refused]),
            rejections.record_url_failures(conn, self.run_id, failures, now,
                                           self.url_retry_backoff),
        ))
        return result, refused

    def _derive(self, fresh: list[tuple[int, Article]]) -> derive.Drained:
        return self.warehouse.run(lambda conn: derive.drain(
            conn, self.window, fresh, only=[aid for aid, _ in fresh]))

    def _load(
        self, conn: psycopg.Connection[Any], valid: list[Article], raws: list[rawstore.RawPage]
    ) -> tuple[load.LoadResult, list[Rejection]]:
        result, refused = load.load_what_fits(conn, self.run_id, valid, raws,
                                              connection_lost=self.warehouse.lost,
                                              store=self.raw_store)
        return result, [Rejection(a.source, "load", "load_error", why, a.url, a.as_payload())
                        for a, why in refused]


def twins_rejected(
    merged: Sequence[tuple[Article, Article]], invalid: Sequence[Rejection]
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


def count(
    counts: dict[str, SourceCounts],
    merged: Sequence[tuple[Article, Article]],
    valid: Sequence[Article],
    invalid: Sequence[Rejection],
    result: load.LoadResult,
) -> None:
    """A stored batch's outcome in its sources' counts."""
    rejected_urls = {r.url for r in invalid}
    for article, _ in merged:
        if article.url not in rejected_urls:
            counts[article.source].known_twin()
    failed: dict[str, set[str]] = {}
    for rejection in invalid:
        counts[rejection.source].reject(rejection.reason)
        if rejection.stage == "validate":  # not a record the database refused afterwards
            counts[rejection.source].validation_rejected_for(rejection.reason)
            failed.setdefault(rejection.source, set()).add(rejection.url or "")
    for source, urls in failed.items():
        counts[source].validated_records(failed=len(urls))
    refused = {r.url for r in invalid if r.stage == "load"}
    for article in valid:
        counts[article.source].validated_records(passed=1, refused=int(article.url in refused))
    for source in {*result.new_by_source, *result.seen_by_source, *result.changed_by_source,
                   *result.near_by_source}:
        counts[source].loaded(
            new=result.new_by_source.get(source, 0), seen=result.seen_by_source.get(source, 0),
            changed=result.changed_by_source.get(source, 0),
            near=result.near_by_source.get(source, 0))
