"""The feeds stage: one back-off rule for the passes and the watcher, feeds read with
their state, entries sorted out against the warehouse, and the sources planned into
batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml

from conftest import LoopbackServer, settings
from ingest import feeds, fetch, load
from ingest.config import SourceConfig
from ingest.dedup import content_hash, word_count
from ingest.errors import FetchError
from ingest.models import Article, FeedEntry, FeedState, Rejection
from ingest.rejections import record_url_failures
from ingest.resolve import wrappers_from_settings
from ingest.sources import plan_batches
from ingest.watch import FeedWatcher

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RSS = ("<rss version='2.0'><channel><title>t</title>{}</channel></rss>")


def test_one_failure_is_tried_again_at_once_then_the_feed_waits_longer_each_time() -> None:
    state = FeedState("s", "https://ex.org/feed")
    error = FetchError("timeout", "no answer")
    feeds.failed(state, error, NOW, backoff=600)
    assert feeds.due(state, NOW) and state.consecutive_failures == 1
    feeds.failed(state, error, NOW, backoff=600)
    assert not feeds.due(state, NOW) and state.next_fetch_at == NOW + timedelta(seconds=600)
    feeds.failed(state, error, NOW, backoff=600)
    assert state.next_fetch_at == NOW + timedelta(seconds=1200)
    for _ in range(20):
        feeds.failed(state, error, NOW, backoff=600)
    assert state.next_fetch_at == NOW + feeds.MAX_BACKOFF
    assert "after 23 failures in a row (last: timeout)" in feeds.backoff_note(state)
    feeds.succeeded(state, NOW, "ok")
    assert feeds.due(state, NOW) and state.consecutive_failures == 0
    assert (state.last_status, state.last_error) == ("ok", None)


def test_backoff_zero_never_waits() -> None:
    state = FeedState("s", "https://ex.org/feed")
    for _ in range(5):
        feeds.failed(state, FetchError("http_500", ""), NOW, backoff=0)
    assert feeds.due(state, NOW)


def test_read_asks_conditionally_and_says_when_nothing_changed(server: LoopbackServer) -> None:
    url = server.static("/feed.xml", RSS.format("<item><link>http://ex.org/a</link></item>"),
                        content_type="application/rss+xml", headers={"ETag": '"v1"'})
    source = SourceConfig(name="s", url=url)
    state = FeedState("s", url)

    async def go() -> tuple[Any, Any]:
        async with fetch.Fetcher(settings()) as fetcher:
            first = await feeds.read(fetcher, source, state)
            assert first is not None
            state.etag = first.etag
            server.static("/feed.xml", "", status=304, headers={"ETag": '"v1"'})
            return first, await feeds.read(fetcher, source, state)

    first, second = asyncio.run(go())
    assert [e.link for e in first.feed.entries] == ["http://ex.org/a"] and first.etag == '"v1"'
    assert second is None
    assert server.requests[-1][2].get("If-None-Match") == '"v1"'


def test_sort_entries_against_the_warehouse(conn: psycopg.Connection[Any]) -> None:
    text = "A stored story about the harbour and its ferries, told at length. " * 10
    stored = Article(source="s", url="https://ex.org/known", urls=[
        ("https://ex.org/known", "canonical")], title="Known", author=None, published_at=None,
        language="en", site_name=None, text=text, word_count=word_count(text),
        content_hash=content_hash(text), fetched_at=NOW)
    load.load_articles(conn, "r1", [stored])
    record_url_failures(conn, "r1", [
        ("https://ex.org/busy", Rejection("s", "fetch", "http_503", "", "https://ex.org/busy")),
        ("https://ex.org/gone", Rejection("s", "fetch", "http_404", "", "https://ex.org/gone")),
    ], NOW, 600)
    entries = [FeedEntry("s", f"https://ex.org/{name}")
               for name in ("new1", "known", "busy", "gone", "new2", "new3")]
    wrappers = wrappers_from_settings()
    found = feeds.sort_entries(conn, entries, wrappers, NOW, limit=2)
    assert [e.link for e in found.fresh] == ["https://ex.org/new1", "https://ex.org/new2"]
    assert found.cut == 1 and found.waiting == 2 and found.due_later
    assert len(found.sightings) == 1 and found.sightings[0][1]  # met in its own feed
    later = feeds.sort_entries(conn, entries, wrappers, NOW + timedelta(hours=1))
    assert "https://ex.org/busy" in [e.link for e in later.fresh] and later.waiting == 1
    refresh = feeds.sort_entries(conn, entries, wrappers, NOW, revisit_after=NOW - timedelta(1))
    assert {e.link for e in refresh.fresh} == {
        f"https://ex.org/{n}" for n in ("new1", "known", "busy", "new2", "new3")}


def test_the_watcher_reports_new_links_and_backs_off_a_failing_feed(
    server: LoopbackServer, tmp_path: Path
) -> None:
    good = server.static("/good.xml", RSS.format("<item><link>http://ex.org/1</link></item>"),
                         content_type="application/rss+xml")
    bad = server.static("/bad.xml", "nope", status=500)
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "poll_interval": 1,
                     "failure_backoff": 600, "read_timeout": 2, "total_timeout": 3},
        "sources": [{"name": "good", "url": good}, {"name": "bad", "url": bad}]}))
    watcher = FeedWatcher(path)

    async def polls(n: int) -> list[list[str]]:
        found = []
        for _ in range(n):
            for feed in watcher._feeds.values():  # every feed's interval is over
                feed.next_poll = None
            found.append(sorted(c.source for c in await watcher.poll()))
        return found

    assert asyncio.run(polls(1)) == [["good"]]
    server.static("/good.xml", RSS.format("<item><link>http://ex.org/1</link></item>"
                                          "<item><link>http://ex.org/2</link></item>"),
                  content_type="application/rss+xml")
    bad_before = sum(1 for _, p, _ in server.requests if p == "/bad.xml")
    assert asyncio.run(polls(3)) == [["good"], [], []]
    bad_after = sum(1 for _, p, _ in server.requests if p == "/bad.xml")
    # failed twice in a row (the first poll and the second): then it waits 600 s
    assert watcher._feeds["bad"].state.consecutive_failures == 2
    assert bad_after - bad_before == 1


def test_plan_batches_keeps_a_site_together() -> None:
    sources = [SourceConfig(name=n, url=u) for n, u in (
        ("ard-1", "https://feeds.ard.de/a"), ("ard-2", "https://www.ard.de/b"),
        ("nrk", "https://www.nrk.no/rss"), ("kt", "https://www.koreatimes.co.kr/rss"),
    )]
    assert plan_batches(sources, 32) == [["ard-1", "ard-2"], ["nrk"], ["kt"]]
    two = plan_batches(sources, 2)
    assert len(two) == 2 and any({"ard-1", "ard-2"} <= set(b) for b in two)
    assert sorted(n for b in two for n in b) == ["ard-1", "ard-2", "kt", "nrk"]
