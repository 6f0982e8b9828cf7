"""Watch sources cheaply for new entries: the engine of the streaming DAG's trigger.

:class:`FeedWatcher` asks each source (its feed, sitemap, list page or discovered
site: :mod:`ingest.origins`) no more often than its ``poll_interval``, with
conditional GET (:mod:`ingest.feeds`, as a pass does, and
with a pass's back-off rule when a feed fails), and reports the sources whose feeds
list links it has not seen yet. It keeps its state in memory: after a restart its
first poll reports every source with entries, and the ingest run that follows skips
what the warehouse already holds. (Delivery is at least once; consumers are
idempotent.)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest import feeds, fetch, origins
from ingest.config import Config, SourceConfig, load_config
from ingest.errors import InternalError, ItemError
from ingest.models import FeedState

log = logging.getLogger(__name__)


@dataclass
class _Feed:
    memory: origins.Memory  # its feed state, and the documents of a sitemap or list
    seen: set[str] = field(default_factory=set)
    next_poll: datetime | None = None

    @property
    def state(self) -> FeedState:
        return self.memory.state


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
        self._fetcher: fetch.Fetcher | None = None
        self._fetcher_settings: object = None
        self.polls = 0

    def _load(self) -> Config:
        mtime = self.config_path.stat().st_mtime
        if self._config is None or mtime != self._mtime:
            self._config, self._mtime = load_config(self.config_path), mtime
        return self._config

    def seconds_to_next(self) -> float:
        now = datetime.now(UTC)
        dues = [max(f.next_poll or now, f.state.next_fetch_at or now)
                for f in self._feeds.values()]
        return max(0.0, (min(dues) - now).total_seconds()) if dues else 0.0

    async def poll(self) -> list[Change]:
        """Ask the feeds that are due; return the sources with links not seen before."""
        config = await asyncio.to_thread(self._load)
        now = datetime.now(UTC)
        due: list[SourceConfig] = []
        for source in config.enabled_sources():
            feed = self._feeds.get(source.name)
            if feed is None or feed.state.feed_url != source.address:
                feed = self._feeds[source.name] = _Feed(
                    origins.Memory(FeedState(source.name, source.address)))
            if (feed.next_poll is None or feed.next_poll <= now) and feeds.due(feed.state, now):
                interval = source.poll_interval or config.settings.poll_interval
                feed.next_poll = now + timedelta(seconds=interval)
                due.append(source)
        if not due:
            return []
        self.polls += 1
        fetcher = await self._fetcher_for(config)
        results = await asyncio.gather(*(self._check(fetcher, s, config) for s in due))
        return [change for change in results if change is not None]

    async def _fetcher_for(self, config: Config) -> fetch.Fetcher:
        """The HTTP client, kept from poll to poll while the settings stay the same, and
        built in a thread: building one makes SSL contexts (tens of milliseconds, far
        more on a busy machine), which the event loop the watcher shares (Airflow's
        triggerer runs every trigger in one loop) must not wait for at every poll."""
        if self._fetcher is None or self._fetcher_settings is not config.settings:
            old = self._fetcher
            self._fetcher = await asyncio.to_thread(
                fetch.Fetcher, config.settings, max_attempts=1)
            self._fetcher_settings = config.settings
            if old is not None:
                await old.__aexit__(None, None, None)
        return self._fetcher

    async def aclose(self) -> None:
        """Close the HTTP client (its connections); the watcher may poll again after."""
        if self._fetcher is not None:
            fetcher, self._fetcher = self._fetcher, None
            await fetcher.__aexit__(None, None, None)

    async def _check(
        self, fetcher: fetch.Fetcher, source: SourceConfig, config: Config
    ) -> Change | None:
        feed = self._feeds[source.name]
        now = datetime.now(UTC)
        backoff = config.settings.failure_backoff
        try:
            read = await origins.read(fetcher, source, feed.memory, config.settings)
        except Exception as exc:  # one feed's failure, whatever it is, is that feed's only
            error = exc if isinstance(exc, ItemError) else InternalError(exc, "parse")
            if not isinstance(exc, ItemError):
                log.warning("feed watcher: %s failed unexpectedly: %r", source.name, exc)
            feeds.failed(feed.state, error, now, backoff)
            return None  # the ingest run records feed failures; the watcher just waits
        if read is None:
            feeds.succeeded(feed.state, now, "not_modified")
            return None
        feeds.succeeded(feed.state, now, "ok")
        feed.state.etag, feed.state.last_modified = read.etag, read.last_modified
        links = {e.link for e in read.entries}
        new = links - feed.seen
        feed.seen = links
        return Change(source.name, len(new)) if new else None
