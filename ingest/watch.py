"""Watch feeds cheaply for new entries: the engine of the streaming DAG's trigger.

:class:`FeedWatcher` polls each source's feed no more often than its interval,
with conditional GET, and reports the sources whose feeds list links it has not
seen yet. It keeps its state in memory: after a restart its first poll reports
every source with entries, and the ingest run that follows skips what the
warehouse already holds. (Delivery is at least once; consumers are idempotent.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest import fetch, parse
from ingest.config import Config, load_config
from ingest.errors import ItemError

log = logging.getLogger(__name__)


@dataclass
class _Feed:
    etag: str | None = None
    last_modified: str | None = None
    seen: set[str] = field(default_factory=set)
    due: float = 0.0
    failures: int = 0


@dataclass
class Change:
    source: str
    new_links: int


class FeedWatcher:
    """Polls the feeds of a sources file; reloads the file when it changes."""

    def __init__(self, config_path: str | Path, default_interval: float = 300.0) -> None:
        self.config_path = Path(config_path)
        self.default_interval = default_interval
        self._feeds: dict[str, _Feed] = {}
        self._config: Config | None = None
        self._mtime = 0.0
        self.polls = 0

    def _load(self) -> Config:
        mtime = self.config_path.stat().st_mtime
        if self._config is None or mtime != self._mtime:
            self._config, self._mtime = load_config(self.config_path), mtime
        return self._config

    def seconds_to_next(self) -> float:
        now = time.monotonic()
        dues = [f.due for f in self._feeds.values()]
        return max(0.0, min(dues) - now) if dues else 0.0

    async def poll(self) -> list[Change]:
        """Fetch the feeds that are due; return the sources with links not seen before."""
        config = await asyncio.to_thread(self._load)
        now = time.monotonic()
        due = []
        for source in config.enabled_sources():
            state = self._feeds.setdefault(source.name, _Feed())
            if state.due <= now:
                interval = source.poll_interval or config.settings.poll_interval
                # a failing feed is asked less often: 1, 2, 4, ... intervals, at most 16
                state.due = now + interval * min(2 ** state.failures, 16)
                due.append(source)
        if not due:
            return []
        self.polls += 1
        async with fetch.Fetcher(config.settings, max_attempts=1) as fetcher:
            results = await asyncio.gather(*(self._check(fetcher, s) for s in due))
        return [change for change in results if change is not None]

    async def _check(self, fetcher: fetch.Fetcher, source: object) -> Change | None:
        from ingest.config import SourceConfig

        assert isinstance(source, SourceConfig)
        state = self._feeds[source.name]
        try:
            fetched = await fetcher.get(
                source.url, accept=fetch.FEED_ACCEPT, etag=state.etag,
                last_modified=state.last_modified,
            )
            if fetched.status == 304:
                state.failures = 0
                return None
            feed = await asyncio.to_thread(
                parse.parse_feed, fetched.body, source=source.name, url=fetched.url,
                content_type=fetched.headers.get("content-type"),
            )
        except Exception as exc:  # one feed's failure, whatever it is, is that feed's only
            state.failures += 1
            if not isinstance(exc, ItemError):
                log.warning("feed watcher: %s failed unexpectedly: %r", source.name, exc)
            return None  # the ingest run records feed failures; the watcher just waits
        state.failures = 0
        state.etag = fetched.headers.get("etag")
        state.last_modified = fetched.headers.get("last-modified")
        links = {e.link for e in feed.entries}
        new = links - state.seen
        state.seen = links
        return Change(source.name, len(new)) if new else None
