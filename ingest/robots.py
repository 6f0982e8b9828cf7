"""robots.txt: fetched once per origin, cached with its own expiry, obeyed.

Follows RFC 9309: a 4xx answer means everything is allowed; a 5xx answer or
no answer means everything is disallowed for now (cached one hour, then tried
again); a cached copy is used for at most 24 hours, or less when the server
says so (``Cache-Control: max-age``). Parsing is protego's. A ``Crawl-delay``
raises the host's minimum delay between requests.

:class:`RobotsCache` keeps entries in memory for a pass and, through an
optional :class:`RobotsStore`, in the warehouse across passes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import psycopg
from protego import Protego

from ingest.errors import PermanentFetchError

ROBOTS_MAX_BYTES = 512 * 1024
#: Why a host may not be asked at all: reported as such, not as a robots.txt failure.
_HOST_REFUSED = frozenset({"private_address", "host_not_allowed", "bad_scheme", "bad_url",
                           "dns_error"})
MAX_AGE = timedelta(hours=24)
FAILURE_AGE = timedelta(hours=1)
AGENT = "news-ingest"


@dataclass(slots=True)
class RobotsEntry:
    origin: str
    status: int | None  # None: the request failed
    body: str
    fetched_at: datetime
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return self.expires_at > now


class RobotsStore(Protocol):
    async def get(self, origin: str) -> RobotsEntry | None: ...

    async def put(self, entry: RobotsEntry) -> None: ...


#: fetch(url) -> (status, body, headers); raises on network failure.
Fetch = Callable[[str], Awaitable[tuple[int, bytes, dict[str, str]]]]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class Rules:
    """What one robots.txt allows us."""

    def __init__(self, entry: RobotsEntry) -> None:
        self.entry = entry
        self._parser: Any = None
        if entry.status is not None and 200 <= entry.status < 300 and entry.body.strip():
            self._parser = Protego.parse(entry.body)

    @property
    def unreachable(self) -> bool:
        """robots.txt could not be read (5xx, or no answer): everything is disallowed
        for now, and that may pass."""
        return self.entry.status is None or self.entry.status >= 500

    def allowed(self, url: str) -> bool:
        status = self.entry.status
        if status is None or status >= 500:
            return False  # unreachable robots.txt: assume complete disallow (RFC 9309 2.3.1.4)
        if self._parser is None:
            return True  # 4xx, 3xx gone wrong, or empty: no restrictions
        return bool(self._parser.can_fetch(url, AGENT))

    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(AGENT)
        return float(delay) if delay is not None else None


class RobotsCache:
    """robots.txt per origin for a pass; one fetch per origin even under concurrency."""

    def __init__(self, fetch: Fetch, store: RobotsStore | None = None) -> None:
        self._fetch = fetch
        self._store = store
        self._rules: dict[str, Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetched = 0

    async def rules(self, url: str) -> Rules:
        origin = origin_of(url)
        now = datetime.now(UTC)
        cached = self._rules.get(origin)
        if cached is not None and cached.entry.fresh(now):
            return cached
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is not None and cached.entry.fresh(now):
                return cached
            entry = await self._store.get(origin) if self._store is not None else None
            if entry is None or not entry.fresh(now):
                entry = await self._download(origin, now)
                if self._store is not None:
                    await self._store.put(entry)
            rules = Rules(entry)
            self._rules[origin] = rules
            return rules

    async def allowed(self, url: str) -> bool:
        return (await self.rules(url)).allowed(url)

    async def _download(self, origin: str, now: datetime) -> RobotsEntry:
        self.fetched += 1
        try:
            status, body, headers = await self._fetch(origin + "/robots.txt")
        except PermanentFetchError as exc:
            if exc.reason in _HOST_REFUSED:
                raise  # the page would be refused for the same reason: say that one
            return RobotsEntry(origin, None, "", now, now + FAILURE_AGE)
        except Exception:
            return RobotsEntry(origin, None, "", now, now + FAILURE_AGE)
        age = FAILURE_AGE if status >= 500 else min(_max_age(headers) or MAX_AGE, MAX_AGE)
        text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace").replace("\x00", "")
        return RobotsEntry(origin, status, text, now, now + age)


def _max_age(headers: dict[str, str]) -> timedelta | None:
    match = re.search(r"max-age\s*=\s*(\d+)", headers.get("cache-control", ""))
    return timedelta(seconds=int(match.group(1))) if match else None


class WarehouseStore:
    """robots.txt kept in ``news.robots`` between passes (a :class:`RobotsStore`)."""

    def __init__(self, warehouse: Any) -> None:
        self._warehouse = warehouse  # an ingest.db.Warehouse

    async def get(self, origin: str) -> RobotsEntry | None:
        result: RobotsEntry | None = await self._warehouse.call(
            lambda conn: stored(conn, origin))
        return result

    async def put(self, entry: RobotsEntry) -> None:
        await self._warehouse.call(lambda conn: store(conn, entry))


def stored(conn: psycopg.Connection[Any], origin: str) -> RobotsEntry | None:
    row = conn.execute(
        "SELECT origin, status, body, fetched_at, expires_at FROM news.robots WHERE origin = %s",
        (origin,),
    ).fetchone()
    return RobotsEntry(*row) if row else None


def store(conn: psycopg.Connection[Any], entry: RobotsEntry) -> None:
    with conn.transaction():
        conn.execute(
            """INSERT INTO news.robots (origin, status, body, fetched_at, expires_at)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (origin) DO UPDATE SET status = EXCLUDED.status,
                   body = EXCLUDED.body, fetched_at = EXCLUDED.fetched_at,
                   expires_at = EXCLUDED.expires_at""",
            (entry.origin, entry.status, entry.body, entry.fetched_at, entry.expires_at),
        )
