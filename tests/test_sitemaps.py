"""Sitemap sources: parsing (ingest.sitemaps), passes over real loopback HTTP and a
real PostgreSQL (ingest.origins through ingest.pipeline), and backfill."""

from __future__ import annotations

import gzip
import hashlib
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import psycopg
import pytest

from conftest import LoopbackServer
from ingest.backfill import backfill
from ingest.config import parse_config
from ingest.errors import ConfigError, ParseError
from ingest.pipeline import run_pass
from ingest.sitemaps import parse_sitemap

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

ARTICLE = ("<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
           "<p class='byline'>By Ann Writer</p>"
           + "".join(f"<p>{{t}} is the subject of paragraph {n}, which has enough words to count "
                     "as an article body for the validation rules of the pipeline.</p>"
                     for n in range(8))
           + "</article></body></html>")


def urlset(urls: list[tuple[str, datetime | None]]) -> str:
    items = "".join(
        f"<url><loc>{u}</loc>" + (f"<lastmod>{d:%Y-%m-%dT%H:%M:%SZ}</lastmod>" if d else "")
        + "</url>" for u, d in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{items}</urlset>'


def news_sitemap(items: list[tuple[str, str, datetime]]) -> str:
    body = "".join(
        f"<url><loc>{u}</loc><news:news><news:publication><news:name>Herald</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{d:%Y-%m-%dT%H:%M:%SZ}</news:publication_date>"
        f"<news:title>{t}</news:title></news:news></url>" for u, t, d in items)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS} {NEWS_NS}>{body}</urlset>'


def index(children: list[tuple[str, datetime | None]]) -> str:
    items = "".join(
        f"<sitemap><loc>{u}</loc>" + (f"<lastmod>{d:%Y-%m-%dT%H:%M:%SZ}</lastmod>" if d else "")
        + "</sitemap>" for u, d in children)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{items}</sitemapindex>'


def conditional(server: LoopbackServer, path: str, body: Callable[[], bytes | str],
                content_type: str = "application/xml") -> str:
    """A route that answers 304 to a request naming its current ETag."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        value = body()
        data = value.encode() if isinstance(value, str) else value
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("ETag", etag)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return server.route(path, handler)


def config_for(**source: Any) -> Any:
    return parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20,
                                      "per_host_delay": 0},
                         "sources": [{"name": "herald", **source}]})


def article_requests(server: LoopbackServer) -> list[str]:
    return [p for _, p, _ in server.requests if p.startswith("/news/")]


# --- parsing ------------------------------------------------------------------------


def test_a_news_sitemap_gives_titles_and_publication_dates() -> None:
    when = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    parsed = parse_sitemap(news_sitemap([("https://h.example/news/1", "First", when)]).encode(),
                           "https://h.example/news.xml", source="h")
    [entry] = parsed.entries
    assert (entry.link, entry.title, entry.published_at, entry.updated_only, entry.via) == (
        "https://h.example/news/1", "First", when, False, "news_sitemap")
    assert entry.found_in == "https://h.example/news.xml"


def test_a_lastmod_is_an_update_time_not_a_publication_date() -> None:
    when = datetime(2026, 12, 3, tzinfo=UTC)
    [entry] = parse_sitemap(urlset([("https://h.example/a", when)]).encode(), "https://h.example/s",
                            source="h").entries
    assert (entry.published_at, entry.updated_only, entry.modified_at, entry.via) == (
        when, True, when, "sitemap")


def test_an_index_gives_its_children_with_their_lastmod_gzip_or_not() -> None:
    when = datetime(2026, 11, 30, 10, tzinfo=UTC)
    body = index([("https://h.example/a.xml", when), ("https://h.example/b.xml.gz", None)])
    for data in (body.encode(), gzip.compress(body.encode())):
        parsed = parse_sitemap(data, "https://h.example/index.xml", source="h")
        assert parsed.children == [("https://h.example/a.xml", when),
                                   ("https://h.example/b.xml.gz", None)]
        assert parsed.entries == []


@pytest.mark.parametrize("body", [b"<html><body>Not found</body></html>", b"", b"\x1f\x8bjunk",
                                  urlset([("https://h.example/a", None)]).encode()[:60]])
def test_what_is_not_a_sitemap_is_sitemap_malformed(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_sitemap(body, "https://h.example/s.xml", source="h")
    assert caught.value.reason == "sitemap_malformed"


def test_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<" + b" " * (80 * 1024 * 1024))
    with pytest.raises(ParseError) as caught:
        parse_sitemap(bomb, "https://h.example/s.xml.gz", source="h")
    assert caught.value.reason == "sitemap_too_large"


def test_a_sitemap_cut_off_midway_keeps_what_came_before() -> None:
    body = urlset([(f"https://h.example/a/{n}", None) for n in range(20)]).encode()
    parsed = parse_sitemap(body[: len(body) // 2], "https://h.example/s.xml", source="h")
    assert 5 < len(parsed.entries) < 20
    assert parsed.problems


def test_entity_declarations_are_never_expanded() -> None:
    body = ('<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            f'<urlset {NS}><url><loc>https://h.example/&b;</loc></url>'
            '<url><loc>https://h.example/ok</loc></url></urlset>').encode()
    try:
        parsed = parse_sitemap(body, "https://h.example/s.xml", source="h")
    except ParseError:
        return  # refused outright: fine too
    assert all("aaaaaaaaaa" not in e.link for e in parsed.entries)


def test_fifty_thousand_urls_are_read_in_bounded_memory() -> None:
    when = datetime(2026, 12, 1, tzinfo=UTC)
    body = urlset([(f"https://h.example/news/2026/12/01/story-number-{n}", when)
                   for n in range(50_000)]).encode()
    assert len(body) > 4_000_000
    tracemalloc.start()
    try:
        parsed = parse_sitemap(body, "https://h.example/s.xml", source="h")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.entries) == 50_000
    # the document (4.6 MB) and 50,000 entries: a few times the document, not more
    assert peak < 120 * 1024 * 1024, peak


# --- the sources file ---------------------------------------------------------------


@pytest.mark.parametrize(("source", "message"), [
    ({"url": "https://h.example/f", "sitemap": "https://h.example/s"}, "exactly one of"),
    ({}, "exactly one of"),
    ({"sitemap": "https://h.example/s", "pages": 3}, "pages is for listing"),
    ({"listing": "https://h.example/l", "links": "("}, "not a regular expression"),
])
def test_a_source_names_exactly_one_address(source: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"sources": [{"name": "x", **source}]})


def test_each_kind_of_source_says_what_it_is() -> None:
    config = parse_config({"sources": [
        {"name": "a", "url": "https://h.example/f"},
        {"name": "b", "sitemap": "https://h.example/s.xml"},
        {"name": "c", "site": "https://h.example/"},
        {"name": "d", "listing": "https://h.example/l", "links": "/view", "pages": 3},
    ]})
    assert [(s.kind, s.address) for s in config.sources] == [
        ("feed", "https://h.example/f"), ("sitemap", "https://h.example/s.xml"),
        ("site", "https://h.example/"), ("listing", "https://h.example/l")]


# --- passes -------------------------------------------------------------------------


def test_a_news_sitemap_source_loads_its_articles_and_the_second_pass_fetches_none(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    items = [(f"{server.base}/news/{n}", f"Story {n}", now - timedelta(hours=n)) for n in range(3)]
    for n in range(3):
        server.static(f"/news/{n}", ARTICLE.format(t=f"Story {n} of the herald"))
    url = conditional(server, "/news-sitemap.xml", lambda: news_sitemap(items))
    config = config_for(sitemap=url)
    first = run_pass(config, dsn)
    assert first.counts[0].articles_new == 3, first.counts[0]
    rows = conn.execute("SELECT via, found_in, feed_title, feed_date_kind FROM news.articles "
                        "ORDER BY url").fetchall()
    assert rows == [("news_sitemap", url, f"Story {n}", "published") for n in range(3)]
    fetched = len(article_requests(server))
    second = run_pass(config, dsn)
    assert len(article_requests(server)) == fetched  # no article downloaded again
    assert second.counts[0].feed_status == "not_modified"
    assert second.fetch.by_status == {304: 1}


def test_an_index_reads_gzipped_children_records_a_broken_one_and_skips_unchanged_ones(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(4):
        server.static(f"/news/{n}", ARTICLE.format(t=f"Indexed story {n}"))
    conditional(server, "/a.xml", lambda: urlset([(f"{server.base}/news/0", now),
                                                  (f"{server.base}/news/1", None)]))
    conditional(server, "/b.xml.gz", lambda: gzip.compress(urlset(
        [(f"{server.base}/news/2", now), (f"{server.base}/news/3", now)]).encode()),
        content_type="application/gzip")
    conditional(server, "/broken.xml", lambda: "<urlset><url><loc>oops")
    children = [(f"{server.base}/a.xml", now), (f"{server.base}/b.xml.gz", now),
                (f"{server.base}/broken.xml", None),
                (f"{server.base}/old.xml", now - timedelta(days=400))]
    url = conditional(server, "/index.xml", lambda: index(children))
    config = config_for(sitemap=url)
    first = run_pass(config, dsn)
    assert first.counts[0].articles_new == 4
    assert first.counts[0].reasons.get("sitemap_malformed") == 1
    assert "/old.xml" not in [p for _, p, _ in server.requests]  # older than a pass reads
    documents = dict(conn.execute(
        "SELECT url, status FROM news.source_documents WHERE source = 'herald'").fetchall())
    assert documents[f"{server.base}/broken.xml"] == "sitemap_malformed"
    assert documents[f"{server.base}/a.xml"] == "ok"
    before = len(server.requests)
    run_pass(config, dsn)
    asked = [p for _, p, _ in server.requests[before:]]
    # the index is asked (304); children whose lastmod did not move are not
    assert "/index.xml" in asked and "/a.xml" not in asked and "/b.xml.gz" not in asked
    assert not [p for p in asked if p.startswith("/news/")]


def test_a_moved_lastmod_fetches_the_page_again_and_keeps_a_version(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    state = {"title": "Edited story", "lastmod": now - timedelta(hours=2)}

    def page(h: BaseHTTPRequestHandler) -> None:
        data = ARTICLE.format(t=state["title"]).encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    server.route("/news/edited", page)
    url = conditional(server, "/s.xml", lambda: urlset(
        [(f"{server.base}/news/edited", state["lastmod"])]))  # type: ignore[list-item]
    config = config_for(sitemap=url)
    run_pass(config, dsn)
    run_pass(config, dsn)
    assert len(article_requests(server)) == 1  # unchanged lastmod: not fetched again
    state["title"], state["lastmod"] = "Edited story, now longer", datetime.now(UTC) + timedelta(
        minutes=1)
    run_pass(config, dsn)
    assert len(article_requests(server)) == 2
    assert conn.execute("SELECT title FROM news.articles").fetchall() == [
        ("Edited story, now longer",)]
    assert conn.execute("SELECT count(*) FROM news.article_versions").fetchone()[0] >= 1


# --- backfill -----------------------------------------------------------------------


def test_backfill_reads_older_sitemaps_within_its_dates_and_goes_on_where_it_stopped(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    months = [(2024, m) for m in range(1, 7)]
    children = []
    for year, month in months:
        day = datetime(year, month, 15, tzinfo=UTC)
        urls = [(f"{server.base}/news/{year}-{month}-{n}", day) for n in range(2)]
        for u, _ in urls:
            server.static(u.removeprefix(server.base), ARTICLE.format(
                t=f"Archive story {u.rsplit('/', 1)[1]}"))
        conditional(server, f"/sitemap-{year}-{month:02d}.xml", lambda urls=urls: urlset(urls))
        children.append((f"{server.base}/sitemap-{year}-{month:02d}.xml", day))
    url = conditional(server, "/index.xml", lambda: index(children))
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20, "per_host_delay": 0,
                     "sitemap_max_documents": 3},
        "sources": [{"name": "herald", "sitemap": url}]})
    assert run_pass(config, dsn).counts[0].articles_new == 0  # all older than a pass reads
    # February to May: four sitemaps of two articles. 3 documents a step, the index
    # too; newest first: June (changed after the range: it may hold older URLs), May.
    first = backfill(config, dsn, "herald", date(2024, 2, 1), date(2024, 5, 31), max_steps=1)
    assert not first.finished and first.counts.articles_new == 2
    rest = backfill(config, dsn, "herald", date(2024, 2, 1), date(2024, 5, 31))
    assert rest.finished
    assert first.counts.articles_new + rest.counts.articles_new == 8
    days = {d.month for (d,) in conn.execute("SELECT feed_published_at FROM news.articles")}
    assert days == {2, 3, 4, 5}
    asked = [p for _, p, _ in server.requests]
    assert "/sitemap-2024-01.xml" not in asked  # lastmod before since: never read
    assert len(article_requests(server)) == 8  # no article fetched twice
    again = backfill(config, dsn, "herald", date(2024, 2, 1), date(2024, 5, 31))
    assert again.finished and again.counts.articles_fetched == 0
    row = conn.execute("SELECT steps, articles, finished_at IS NOT NULL FROM news.backfills"
                       ).fetchone()
    assert row[1] == 8 and row[2]


def test_a_feed_has_nothing_to_backfill(dsn: str) -> None:
    config = config_for(url="https://h.example/feed.xml")
    with pytest.raises(ConfigError, match="is a feed"):
        backfill(config, dsn, "herald", date(2024, 1, 1))


def test_the_watcher_reports_a_sitemap_with_new_urls_and_asks_conditionally(
    server: LoopbackServer, tmp_path: Any
) -> None:
    import asyncio

    import yaml

    from ingest.watch import FeedWatcher

    now = datetime.now(UTC).replace(microsecond=0)
    items = [(f"{server.base}/news/1", "One", now)]
    url = conditional(server, "/news-sitemap.xml", lambda: news_sitemap(items))
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "poll_interval": 1},
        "sources": [{"name": "herald", "sitemap": url}]}))
    watcher = FeedWatcher(path)

    async def polls(n: int) -> list[list[str]]:
        found = []
        for _ in range(n):
            for feed in watcher._feeds.values():
                feed.next_poll = None
            found.append(sorted(c.source for c in await watcher.poll()))
        return found

    assert asyncio.run(polls(2)) == [["herald"], []]
    assert server.requests[-1][2].get("If-None-Match")  # the second poll was conditional
    items.append((f"{server.base}/news/2", "Two", now))
    assert asyncio.run(polls(1)) == [["herald"]]


def test_a_sitemap_longer_than_a_pass_takes_is_read_again_until_its_urls_are_taken(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(5):
        server.static(f"/news/{n}", ARTICLE.format(t=f"Long sitemap story {n}"))
    conditional(server, "/child.xml", lambda: urlset(
        [(f"{server.base}/news/{n}", now - timedelta(minutes=n)) for n in range(5)]))
    url = conditional(server, "/index.xml", lambda: index([(f"{server.base}/child.xml", now)]))
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20, "per_host_delay": 0,
                     "max_items_per_feed": 2},
        "sources": [{"name": "herald", "sitemap": url}]})
    new = [run_pass(config, dsn).counts[0].articles_new for _ in range(4)]
    assert new == [2, 2, 1, 0]
    assert len(article_requests(server)) == 5
