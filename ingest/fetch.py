"""Fetch feeds and pages over HTTP, bounded and safe.

Every request goes through :class:`Fetcher`, which owns one ``httpx.AsyncClient``:

- a real User-Agent naming the product (and the operator's contact URL);
- connect, read and total timeouts; a body-size cap enforced while streaming,
  on decoded bytes, so compressed bombs stop early too;
- redirects followed by hand, at most ``max_redirects``, loops detected, every
  hop recorded and re-checked;
- server-side request forgery refused at connect time: the host is resolved and
  loopback, private, link-local, multicast and reserved addresses are refused
  unless the host is listed in ``settings.allow_private_hosts``. The check is in
  the network backend, so it also covers every redirect and cannot be raced by
  DNS rebinding (the connection goes to the address that was checked);
- transient failures (timeouts, connect errors, 429, 5xx) retried with
  exponential back-off and jitter, ``Retry-After`` honoured, within a budget.

Failures raise :class:`~ingest.errors.FetchError` subclasses with a stable reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import random
import socket
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from ingest import __version__
from ingest.config import Settings, SourceConfig
from ingest.errors import FetchError, PermanentFetchError, TransientFetchError
from ingest.resolve import MAX_URL_BYTES
from ingest.robots import ROBOTS_MAX_BYTES, RobotsCache, RobotsStore

PRODUCT = f"news-ingest/{__version__}"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_REDIRECTS = {301, 302, 303, 307, 308}
MAX_CRAWL_DELAY = 30.0  # seconds; a larger Crawl-delay is capped



def user_agent(contact_url: str | None) -> str:
    contact = f"; +{contact_url}" if contact_url else ""
    return f"Mozilla/5.0 (compatible; {PRODUCT}{contact})"


# --- address policy -------------------------------------------------------------


def _is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Which hosts may resolve to non-public addresses."""

    allow_private_hosts: frozenset[str] = frozenset()

    def check(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The addresses we may connect to; raises when none is allowed."""
        host = host.lower().strip("[]")
        # The host as written in the URL must be listed: a name that merely resolves
        # to a listed address is not (that is how DNS rebinding gets in).
        allowed_host = host in self.allow_private_hosts
        permitted = [
            raw for raw in addresses
            if allowed_host or _is_public(ipaddress.ip_address(raw.split("%", 1)[0]))
        ]
        if not permitted:
            raise PermanentFetchError(
                "private_address",
                f"{host} resolves to {', '.join(addresses)}: not a public address "
                "(list it in settings.allow_private_hosts to allow it)",
            )
        return permitted


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks the address policy, then connects to the checked address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
            addresses = [str(literal)]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await asyncio.wait_for(
                    loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
                )
            except (socket.gaierror, UnicodeError) as exc:
                raise PermanentFetchError("dns_error", f"{host}: {exc}") from None
            except TimeoutError:
                raise TransientFetchError("timeout", f"resolving {host}") from None
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        permitted = self._policy.check(host, addresses)
        last: Exception | None = None
        for addr in permitted:
            try:
                return await self._inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise PermanentFetchError("bad_scheme", "unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections go through :class:`GuardedBackend`."""

    def __init__(self, policy: AddressPolicy, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


# --- responses --------------------------------------------------------------------


@dataclass(slots=True)
class Fetched:
    """A successful (2xx) response, read in full within the limits."""

    url: str  # final URL, after redirects
    hops: list[str]  # every URL requested, in order; hops[-1] == url
    status: int
    headers: httpx.Headers
    body: bytes
    fetched_at: datetime
    elapsed: float

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        header: str = self.headers.get("content-type", "")
        for part in header.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


@dataclass
class FetchStats:
    requests: int = 0
    bytes: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - now)
    return None


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Politeness towards one host: requests at once, and seconds between starts."""

    concurrency: int = 2
    delay: float = 0.5

    @classmethod
    def of(cls, source: SourceConfig, settings: Settings) -> HostPolicy:
        """A source's own limits, else the settings'."""
        return cls(source.per_host_concurrency or settings.per_host_concurrency,
                   settings.per_host_delay if source.per_host_delay is None
                   else source.per_host_delay)


class _Host:
    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.next_start = 0.0


class _Exchange(NamedTuple):
    status: int
    headers: httpx.Headers
    body: bytes
    location: str | None


class Fetcher:
    """The one way news-ingest talks HTTP. Use as an async context manager.

    ``robots`` (a :class:`~ingest.robots.RobotsStore`) persists robots.txt
    between passes; without it they are cached for the pass only.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        robots: RobotsStore | None = None,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
    ) -> None:
        self.settings = settings
        self.stats = FetchStats()
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        limits = httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        )
        policy = AddressPolicy(frozenset(h.lower() for h in settings.allow_private_hosts))
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(policy, limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            headers={"User-Agent": user_agent(settings.contact_url)},
            follow_redirects=False,
            trust_env=False,
        )
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._only = {h.lower() for h in settings.only_hosts} if settings.only_hosts else None
        self.robots = RobotsCache(self._fetch_robots, robots)
        self.default_policy = HostPolicy(settings.per_host_concurrency, settings.per_host_delay)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        accept: str,
        headers: dict[str, str] | None = None,
        policy: HostPolicy | None = None,
        obey_robots: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET with retries on transient failures; raises FetchError otherwise.

        With ``etag``/``last_modified`` the request is conditional and a 304 comes
        back as a :class:`Fetched` with ``status == 304`` and no body.
        """
        request_headers = {"Accept": accept, **(headers or {})}
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.settings.total_timeout * self.max_attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._get_once(
                    url, request_headers, policy or self.default_policy, obey_robots
                )
            except TransientFetchError as exc:
                if exc.reason == "robots_unavailable":
                    raise  # its answer is cached for the hour: asking again changes nothing
                wait = exc.retry_after if isinstance(exc, _RetryLater) else None
                if wait is None:
                    wait = self.backoff * 2 ** (attempt - 1) * (1 + random.random())
                if (
                    attempt >= self.max_attempts
                    or wait > self.max_retry_wait
                    or time.monotonic() + wait > deadline
                ):
                    raise
                self.stats.retries += 1
                await asyncio.sleep(wait)

    async def _get_once(
        self,
        url: str,
        headers: dict[str, str],
        policy: HostPolicy,
        obey_robots: bool,
        raise_status: bool = True,
        max_bytes: int | None = None,
    ) -> Fetched:
        hops: list[str] = []
        started = time.monotonic()
        current = url
        while True:
            self._check_target(current)
            if current in hops:
                raise PermanentFetchError("redirect_loop", " -> ".join([*hops, current]))
            hops.append(current)
            if len(hops) > self.settings.max_redirects + 1:
                raise PermanentFetchError(
                    "too_many_redirects", f"more than {self.settings.max_redirects}"
                )
            delay = policy.delay
            if obey_robots:
                rules = await self.robots.rules(current)
                if rules.unreachable:
                    raise TransientFetchError(
                        "robots_unavailable",
                        f"robots.txt of {current} could not be read: nothing of this site is "
                        "fetched until it can (tried again within the hour)",
                    )
                if not rules.allowed(current):
                    raise PermanentFetchError("robots", f"robots.txt disallows {current}")
                crawl_delay = rules.crawl_delay()
                if crawl_delay:
                    delay = max(delay, min(crawl_delay, MAX_CRAWL_DELAY))
            async with self._host_turn(current, policy.concurrency, delay), self._slots:
                exchange = await self._exchange(current, headers, raise_status, max_bytes)
            if exchange.location is not None:
                current = urljoin(current, exchange.location)
                continue
            return Fetched(
                url=current,
                hops=hops,
                status=exchange.status,
                headers=exchange.headers,
                body=exchange.body,
                fetched_at=datetime.now(UTC),
                elapsed=time.monotonic() - started,
            )

    def _check_target(self, url: str) -> None:
        _check_scheme(url)
        size = len(url.encode("utf-8", "surrogatepass"))
        if size > MAX_URL_BYTES:
            raise PermanentFetchError(
                "bad_url", f"a URL of {size:,} bytes (at most {MAX_URL_BYTES:,}): {url[:200]}...")
        if self._only is not None:
            host = (urlsplit(url).hostname or "").lower()
            if host not in self._only:
                raise PermanentFetchError("host_not_allowed", f"{host} is not in only_hosts")

    @contextlib.asynccontextmanager
    async def _host_turn(self, url: str, concurrency: int, delay: float) -> AsyncIterator[None]:
        """Wait for a free slot of this host and for its minimum delay between requests."""
        name = (urlsplit(url).hostname or "").lower()
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = _Host(concurrency)
        async with host.slots:
            if delay > 0:
                async with host.lock:
                    wait = host.next_start - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    host.next_start = time.monotonic() + delay
            yield

    async def _exchange(
        self, url: str, headers: dict[str, str], raise_status: bool, max_bytes: int | None
    ) -> _Exchange:
        """One request and its response, under the total timeout; errors mapped."""
        try:
            async with asyncio.timeout(self.settings.total_timeout):
                async with self._client.stream("GET", url, headers=headers) as response:
                    self.stats.requests += 1
                    status = response.status_code
                    self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                    location = response.headers.get("location")
                    if status in _REDIRECTS and location:
                        return _Exchange(status, response.headers, b"", location.strip())
                    if status == 304 and _is_conditional(headers):
                        return _Exchange(status, response.headers, b"", None)
                    if raise_status:
                        _raise_for_status(response)
                    body = await self._read_limited(response, max_bytes)
                    return _Exchange(status, response.headers, body, None)
        except TimeoutError:
            raise TransientFetchError(
                "timeout", f"no complete response within {self.settings.total_timeout:g} s"
            ) from None
        except httpx.TimeoutException as exc:
            raise TransientFetchError("timeout", f"{type(exc).__name__} {url}") from None
        except httpx.ConnectError as exc:
            raise TransientFetchError("connect_error", f"{url}: {exc}") from None
        except httpx.DecodingError as exc:
            raise PermanentFetchError("bad_content_encoding", str(exc)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise TransientFetchError("protocol_error", f"{url}: {exc}") from None
        except httpx.InvalidURL as exc:
            raise PermanentFetchError("bad_url", f"{url}: {exc}") from None

    async def _fetch_robots(self, url: str) -> tuple[int, bytes, dict[str, str]]:
        fetched = await self._get_once(
            url, {"Accept": "text/plain, */*;q=0.5"}, self.default_policy, obey_robots=False,
            raise_status=False, max_bytes=ROBOTS_MAX_BYTES,
        )
        return fetched.status, fetched.body, dict(fetched.headers)

    async def _read_limited(self, response: httpx.Response, max_bytes: int | None) -> bytes:
        limit = max_bytes or self.settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if max_bytes is None and declared.isdigit() and int(declared) > limit:
            raise PermanentFetchError("too_large", f"Content-Length {declared} > {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                if max_bytes is not None:  # a prefix is all we want (robots.txt)
                    chunks.append(chunk)
                    break
                raise PermanentFetchError("too_large", f"body exceeds {limit} bytes")
            chunks.append(chunk)
        self.stats.bytes += response.num_bytes_downloaded
        return b"".join(chunks)


def _is_conditional(headers: dict[str, str]) -> bool:
    return "If-None-Match" in headers or "If-Modified-Since" in headers


class _RetryLater(TransientFetchError):
    def __init__(self, reason: str, detail: str, retry_after: float | None) -> None:
        super().__init__(reason, detail)
        self.retry_after = retry_after


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentFetchError("bad_scheme", f"refusing {scheme or 'relative'} URL {url[:200]}")


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"HTTP {status} for {response.url}"
    if status in (429, 503):
        wait = _retry_after(response.headers.get("retry-after"), time.time())
        raise _RetryLater(f"http_{status}", detail, wait)
    if status >= 500 or status == 408:
        raise TransientFetchError(f"http_{status}", detail)
    raise PermanentFetchError(f"http_{status}", detail)


def require_html(fetched: Fetched) -> None:
    """Article responses must be HTML; anything else is a rejection."""
    ctype = fetched.content_type
    if ctype in HTML_TYPES:
        return
    head = fetched.body[:1024].lstrip().lower()
    looks_html = head.startswith((b"<!doctype html", b"<html")) or b"<html" in head
    if (not ctype or ctype in ("text/plain", "application/octet-stream")) and looks_html:
        return  # a server that does not say, or says it wrong, but sends HTML
    raise PermanentFetchError("not_html", f"content type {ctype or 'missing'!r} from {fetched.url}")


__all__ = [
    "AddressPolicy",
    "FetchError",
    "Fetched",
    "Fetcher",
    "HostPolicy",
    "require_html",
    "user_agent",
]
