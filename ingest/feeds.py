"""The feeds stage: read a source's feed with what is remembered of it, and the one
rule that says when a failing feed is asked again.

A feed's memory is a :class:`~ingest.models.FeedState` (``news.feed_state`` for the
passes, kept in memory by the streaming watcher). Its transitions are pure:

* :func:`due`: may the feed be asked now? Not while it backs off after failures;
* :func:`succeeded`: a usable answer (a feed, or 304) ends the back-off;
* :func:`failed`: one failure is tried again at the next occasion; from the second
  in a row the feed waits ``failure_backoff``, doubling with each failure, at most a
  day.

:func:`read` asks the feed (conditionally, with its ETag and Last-Modified) and
parses it: ``None`` when it did not change, a :class:`~ingest.parse.ParsedFeed`
otherwise; a failure raises an :class:`~ingest.errors.ItemError`. New kinds of
source (sitemaps, list pages) sit beside it behind the same small interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from ingest import fetch, load, parse, rejections
from ingest.config import SourceConfig
from ingest.errors import ItemError
from ingest.models import FeedEntry, FeedState, ParsedFeed
from ingest.resolve import WrapperRule, canonicalize, entry_key, entry_urls, is_direct, unwrap

MAX_BACKOFF = timedelta(days=1)


def due(state: FeedState, now: datetime) -> bool:
    """Whether the feed may be asked now (it is not backing off after failures)."""
    return state.next_fetch_at is None or state.next_fetch_at <= now


def state_of(source: SourceConfig, states: dict[str, FeedState]) -> FeedState:
    """The source's remembered state; a fresh one for a new source, or one whose feed
    URL changed."""
    state = states.get(source.name)
    if state is None or state.feed_url != source.address:
        state = FeedState(source.name, source.address)
    return state


def succeeded(state: FeedState, now: datetime, status: str, entries: int | None = None) -> None:
    """A usable answer: ``ok`` (a feed of ``entries`` entries; its validators are kept
    apart until the pass has dealt with them, :func:`keep_validators`) or
    ``not_modified`` (304)."""
    state.last_status = status
    state.last_success_at = now
    state.consecutive_failures = 0
    state.next_fetch_at = None
    state.last_error = None
    if status == "ok":
        state.etag = state.last_modified = None
        state.entries_last = entries


def keep_validators(
    states: dict[str, FeedState], validators: dict[str, tuple[str | None, str | None]],
    but: set[str],
) -> None:
    """Give the feeds read this pass their ETag and Last-Modified back, so that the next
    pass asks conditionally: all ``but`` those to be read in full again."""
    for name, (etag, modified) in validators.items():
        if name not in but:
            states[name].etag, states[name].last_modified = etag, modified


def failed(state: FeedState, error: ItemError, now: datetime, backoff: float) -> None:
    """One more failure in a row; from the second, the feed waits ``backoff`` seconds,
    doubling with each failure, at most a day (``backoff`` 0: never waits)."""
    state.consecutive_failures += 1
    state.last_status = error.reason
    state.last_error = error.detail[:1000]
    n = state.consecutive_failures
    if n >= 2 and backoff > 0:
        state.next_fetch_at = now + min(timedelta(seconds=backoff * 2 ** min(n - 2, 30)),
                                        MAX_BACKOFF)


def backoff_note(state: FeedState) -> str:
    """Why a feed was not asked: for its ``backoff`` rejection."""
    until = f"{state.next_fetch_at:%Y-%m-%d %H:%M} UTC" if state.next_fetch_at else "later"
    return (f"feed {state.feed_url} skipped until {until} after {state.consecutive_failures} "
            f"failures in a row (last: {state.last_status})")


@dataclass(slots=True)
class Read:
    """A feed that answered with a body: its entries, and the validators to keep for
    the next conditional request."""

    feed: ParsedFeed
    etag: str | None
    last_modified: str | None


async def read(
    fetcher: fetch.Fetcher,
    source: SourceConfig,
    state: FeedState,
    *,
    conditional: bool = True,
    policy: fetch.HostPolicy | None = None,
) -> Read | None:
    """Ask the source's feed; None when it answers 304 (unchanged). Raises ItemError
    when it cannot be read or parsed (the caller calls :func:`failed`)."""
    fetched = await fetcher.get(
        source.address, accept=fetch.FEED_ACCEPT, policy=policy,
        etag=state.etag if conditional else None,
        last_modified=state.last_modified if conditional else None,
    )
    if fetched.status == 304:
        return None
    feed = await asyncio.to_thread(
        parse.parse_feed, fetched.body, source=source.name, url=fetched.url,
        content_type=fetched.headers.get("content-type"),
        max_items=None,  # all: which to take is the caller's (the stored ones do not count)
    )
    return Read(feed, fetched.headers.get("etag"), fetched.headers.get("last-modified"))


def date_kind(entry: FeedEntry, target: str, final_url: str) -> str:
    """What an entry's date is: ``published`` (a publisher's own feed says when the
    page appeared), ``updated`` (Atom's ``<updated>`` alone: when the entry last
    changed) or ``crawled`` (an aggregator's entry: when it listed the link). Only the
    first may stand for the page's date, and only when the page gives none."""
    if entry.updated_only:
        return "updated"
    try:
        canonical = canonicalize(final_url)
    except ValueError:
        canonical = final_url
    return "published" if is_direct(entry.link, target, canonical) else "crawled"


_FEED_COLUMNS = (
    "source", "feed_url", "etag", "last_modified", "last_status", "last_fetch_at",
    "last_success_at", "last_new_item_at", "consecutive_failures", "next_fetch_at",
    "last_error", "entries_last",
)


def load_states(conn: psycopg.Connection[Any], sources: Iterable[str]) -> dict[str, FeedState]:
    rows = conn.execute(
        f"SELECT {', '.join(_FEED_COLUMNS)} FROM news.feed_state WHERE source = ANY(%s)",
        (list(sources),),
    ).fetchall()
    return {row[0]: FeedState(*row) for row in rows}


def save_states(conn: psycopg.Connection[Any], states: Iterable[FeedState]) -> None:
    rows = [tuple(getattr(state, c) for c in _FEED_COLUMNS) for state in states]
    if not rows:
        return
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _FEED_COLUMNS[1:])
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO news.feed_state ({', '.join(_FEED_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_FEED_COLUMNS))}) "
            f"ON CONFLICT (source) DO UPDATE SET {updates}",
            rows,
        )


@dataclass(slots=True)
class Sorted:
    """A feed's entries, sorted out against the warehouse."""

    fresh: list[FeedEntry]  # to fetch
    sightings: list[tuple[int, bool, list[tuple[str, str]]]]  # (article, met directly, new URLs)
    waiting: int  # entries whose URL failed before and waits for its next try
    due_later: bool  # one of those will be tried again (not given up)
    cut: int = 0  # new entries past the limit, left for the next passes


def sort_entries(
    conn: psycopg.Connection[Any],
    entries: Sequence[FeedEntry],
    wrappers: Sequence[WrapperRule],
    now: datetime,
    *,
    revisit_after: datetime | None = None,
    limit: int | None = None,
) -> Sorted:
    """Which entries to fetch. Not those whose link, target or canonical URL is stored
    already (their articles are only sighted again), unless ``revisit_after`` (a full
    refresh) and first seen since: edits then become new versions. Not those whose
    URL failed before, before its next try (all but the given-up ones on a refresh). A
    stored one whose entry says it changed since it was extracted (``modified_at``, a
    sitemap's ``lastmod``) is fetched again: an edit becomes a new version. At most
    ``limit``, the newest first (a feed lists them so): the others stay unknown, and
    the next pass takes them."""
    candidates = {e.link: entry_urls(e.link, wrappers) for e in entries}
    keys = {e.link: entry_key(e.link, wrappers) for e in entries}
    known = load.known_urls(conn, [u for pairs in candidates.values() for u, _ in pairs])
    waiting = rejections.waiting_urls(conn, keys.values(), now,
                                      given_up_only=revisit_after is not None)
    result = Sorted([], [], 0, False)
    for entry in entries:
        pairs = candidates[entry.link]
        match = next((known[u] for u, _ in pairs if u in known), None)
        if match is None and keys[entry.link] in waiting:
            result.waiting += 1
            result.due_later |= waiting[keys[entry.link]][1] is not None
        elif match is None or (revisit_after is not None and match[1] >= revisit_after) or (
                entry.modified_at is not None and entry.modified_at > match[2]):
            result.fresh.append(entry)  # new, revisited, or changed since (a sitemap's lastmod)
        else:
            direct = is_direct(entry.link, unwrap(entry.link, wrappers), pairs[-1][0])
            result.sightings.append((match[0], direct, [p for p in pairs if p[0] not in known]))
    if limit is not None and len(result.fresh) > limit:
        result.cut = len(result.fresh) - limit
        result.fresh = result.fresh[:limit]
    return result
