"""A ``warc`` source within a pass: its files' HTML responses (:mod:`ingest.archives`)
handed to the pass as fetched pages.

:class:`ArchivePass` works for one pass (:class:`ingest.pipeline._Ingestion`, the
``run``): each page goes through the pass's ``page`` (extraction, page type,
validation, de-duplication, load) as if fetched at its ``WARC-Date``; pages whose
URL is stored already are not extracted again; a file's offset in
``news.warc_files`` moves only past records whose pages were stored or rejected.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ingest import archives, failpoints, load, origins, resolve
from ingest.config import SourceConfig
from ingest.errors import InternalError, ParseError, WarehouseError
from ingest.models import FeedEntry

log = logging.getLogger(__name__)


class ArchivePass:
    """A pass's reading of its ``warc`` sources."""

    def __init__(self, run: Any) -> None:
        self.run = run  # the pass: counts, batches, warehouse, page(), flush(), ...

    async def read(self, source: SourceConfig) -> None:
        """A ``warc`` source: the HTML responses of its files (:mod:`ingest.archives`),
        one file after the other, each page through the pass's ``page`` as if fetched at its
        ``WARC-Date``. A file imported in full is not read again; one read in part goes
        on after the last record whose page was stored or rejected."""
        assert source.warc is not None
        paths = await asyncio.to_thread(archives.expand, source.warc)
        self.run.counts[source.name].feed_status = "ok" if paths else "no_files"
        self.run.progress("entries", source.name, 0)
        for path in paths:
            if self.run.batches.down is not None:
                return
            try:
                await self._file(source, path)
            except OSError as exc:  # gone, or not readable: the other files go on
                self.run.batches.fail(source.name, ParseError("warc_unreadable", f"{path}: {exc}"),
                                  url=archives.location(path, 0))

    async def _file(self, source: SourceConfig, path: Path) -> None:
        counts = self.run.counts[source.name]
        window = self.run.backfill or origins.Window()
        scope = archives.scope(window.since, window.until, source.links, source.hosts)
        state = await self.run.warehouse.call(
            lambda conn: archives.open_file(conn, path, source.name, self.run.run_id, scope))
        if state is None:
            return  # imported in full before, and unchanged since
        reader = archives.Reader(
            path, state.next_offset, max_bytes=self.run.settings.max_body_bytes,
            since=window.since, until=window.until, links=source.link_pattern,
            hosts=source.hosts)
        ledger = archives.Ledger(state)
        new_before = counts.articles_new
        tasks: set[asyncio.Task[None]] = set()
        seen: set[str] = set()  # a URL captured twice: the first capture counts
        counts.feeds_fetched += 1
        try:
            while self.run.batches.down is None:
                chunk = await asyncio.to_thread(reader.take)
                if not chunk:
                    break
                await self._sort_archived(source, chunk, seen)
                for record in chunk:
                    mark = ledger.add(record)
                    if record.kind != "page":
                        if record.error is not None:
                            self.run.batches.fail(source.name, record.error, url=record.url if (
                                record.kind != "problem") else archives.location(
                                    path, record.start))
                        mark.settled = True
                        continue
                    await self.run.inflight.acquire()  # at most concurrency * 2 pages in hand
                    task = asyncio.create_task(self._archived(
                        source, path, record, mark, ledger, new_before))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            await asyncio.gather(*tasks)
            reader.close()
        ledger.state.done = reader.finished and self.run.batches.down is None
        await self._checkpoint(source, ledger, new_before)

    async def _sort_archived(self, source: SourceConfig, chunk: list[archives.Record],
                             seen: set[str]) -> None:
        """The chunk's pages whose URL is stored already (or met earlier in the file)
        become ``known`` (or ``duplicate``): they are not extracted again."""
        pages = [r for r in chunk if r.kind == "page" and r.url]
        for record in pages:
            if record.url in seen:
                record.kind, record.page = "duplicate", None
            seen.add(record.url or "")
        candidates = {r.url: resolve.entry_urls(r.url, self.run.wrappers)
                      for r in pages if r.kind == "page" and r.url}
        known = await self.run.warehouse.call(lambda conn: load.known_urls(
            conn, [u for pairs in candidates.values() for u, _ in pairs]))
        counts = self.run.counts[source.name]
        for record in pages:
            pairs = candidates.get(record.url or "", [])
            if record.kind == "page" and any(u in known for u, _ in pairs):
                record.kind, record.page = "known", None
                counts.articles_seen_before += 1
        counts.entries_seen += len(pages)
        self.run.progress("entries", source.name, len(pages))
        self.run.progress("item", source.name, sum(r.kind != "page" for r in pages))
        if any(r.kind == "page" for r in pages):
            self.run.pool.start_soon()
            self.run.batches.validator.start_soon(after=self.run.pool)

    async def _archived(self, source: SourceConfig, path: Path, record: archives.Record,
                        mark: archives.Mark, ledger: archives.Ledger, new_before: int) -> None:
        """One archived page, whatever happens: a failure is its rejection."""
        assert record.page is not None and record.url is not None
        url, added = record.url, False
        entry = FeedEntry(source.name, url, via="warc", found_in=str(path))
        key = resolve.entry_key(url, self.run.wrappers)
        try:
            self.run.counts[source.name].articles_fetched += 1
            added = await self.run.page(source, entry, resolve.unwrap(url, self.run.wrappers), key,
                                    record.page)
            mark.settled = True
        except WarehouseError as exc:
            self.run.batches.stop(exc)
        except Exception as exc:  # an input or a bug nobody foresaw
            log.exception("archived page %s of %s failed", url, source.name)
            self.run.batches.fail(source.name, InternalError(exc, "extract"), url=url,
                              entry_key=key)
            mark.settled = True
        finally:
            self.run.inflight.release()
            record.page = None
            self.run.progress("item", source.name, 1)
        if added and len(self.run.batches) >= self.run.settings.batch_size:
            try:
                await self._checkpoint(source, ledger, new_before)
            except WarehouseError as exc:
                self.run.batches.stop(exc)

    async def _checkpoint(self, source: SourceConfig, ledger: archives.Ledger,
                          new_before: int) -> None:
        """Store what is pending, then move the file's offset past the records that
        were dealt with before (``news.warc_files``)."""
        upto = ledger.ready()
        await self.run.flush()
        if self.run.batches.down is not None:
            return
        ledger.commit(upto, self.run.counts[source.name].articles_new - new_before)
        done = ledger.state.done and not ledger.pending
        state = ledger.state
        state.done = done
        await self.run.warehouse.call(lambda conn: archives.save(conn, state))
        failpoints.reach("warc.checkpoint")
