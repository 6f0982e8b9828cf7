"""Every kind of source through a whole pass (real loopback HTTP, real PostgreSQL):
a paginated EUC-KR list page, a site found by discovery, a JSON Feed; and
``news-ingest sources show``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import yaml
from test_sitemaps import ARTICLE, conditional, news_sitemap

from conftest import LoopbackServer
from ingest.backfill import backfill
from ingest.cli import main
from ingest.config import parse_config
from ingest.pipeline import run_pass

MINISTRY = Path(__file__).parent / "data" / "sites" / "ministry"


def serve_ministry(server: LoopbackServer) -> str:
    """The fixture's three list pages (EUC-KR, 10 releases each, "next" links) under
    /press/list.do, and a release page for every seq."""
    pages = {n: (MINISTRY / f"list{n}.html").read_bytes() for n in (1, 2, 3)}

    def listing(h: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(h.path).query)
        n = int(query.get("pageIndex", ["1"])[0])
        data = pages.get(n, b"")
        h.send_response(200 if data else 404)
        h.send_header("Content-Type", "text/html; charset=euc-kr")
        h.send_header("ETag", f'"list-{n}"')
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def release(h: BaseHTTPRequestHandler) -> None:
        seq = parse_qs(urlsplit(h.path).query).get("seq", ["0"])[0]
        data = ARTICLE.format(t=f"Press release number {seq} of the ministry").encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    server.route("/press/view.do", release)
    return server.route("/press/list.do", listing)


def releases(server: LoopbackServer) -> list[str]:
    return [p for _, p, _ in server.requests if p.startswith("/press/view.do")]


def settings() -> dict[str, Any]:
    return {"allow_private_hosts": ["127.0.0.1"], "min_words": 20, "per_host_delay": 0}


def test_a_paginated_list_page_source_reads_its_pages_and_the_second_pass_fetches_nothing(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    url = serve_ministry(server)
    config = parse_config({"settings": settings(), "sources": [{
        "name": "trade-ministry", "listing": url, "links": r"/press/view\.do\?seq=\d+",
        "pages": 2, "timezone": "Asia/Seoul"}]})
    first = run_pass(config, dsn)
    assert first.counts[0].articles_new == 20, first.counts[0]  # two pages of ten
    rows = conn.execute("SELECT DISTINCT via, found_in FROM news.articles").fetchall()
    assert {via for via, _ in rows} == {"listing"}
    assert {found.split("?")[0] for _, found in rows} == {url}
    dated = conn.execute("SELECT count(*) FROM news.articles WHERE feed_published_at IS NOT NULL"
                         ).fetchone()
    assert dated == (20,)  # each release's date beside its link
    assert len(releases(server)) == 20
    second = run_pass(config, dsn)
    assert len(releases(server)) == 20  # nothing downloaded again
    assert second.counts[0].articles_new == 0


def test_backfill_follows_a_list_further_back(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    url = serve_ministry(server)
    config = parse_config({"settings": settings(), "sources": [{
        "name": "trade-ministry", "listing": url, "links": r"/press/view\.do\?seq=\d+",
        "timezone": "Asia/Seoul"}]})
    assert run_pass(config, dsn).counts[0].articles_new == 10  # one page a pass
    done = backfill(config, dsn, "trade-ministry", date(2000, 1, 1))
    assert done.finished
    assert done.counts.articles_new == 20  # pages 2 and 3
    assert len(releases(server)) == 30  # none twice


def test_a_site_source_is_discovered_once_and_reads_what_was_found(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any], capsys: Any,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(2):
        server.static(f"/news/{n}", ARTICLE.format(t=f"Discovered story {n}"))
    server.static("/", """<html><head><title>Herald</title>
        <link rel="alternate" type="application/rss+xml" href="/rss.xml" title="News">
        </head><body><a href="/news/0">Discovered story 0</a></body></html>""")
    server.static("/rss.xml", "<rss version='2.0'><channel><title>t</title>"
                  f"<item><title>Discovered story 0</title><link>{server.base}/news/0</link>"
                  "</item></channel></rss>", content_type="application/rss+xml")
    server.static("/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {server.base}/news-map.xml\n",
                  content_type="text/plain")
    conditional(server, "/news-map.xml", lambda: news_sitemap(
        [(f"{server.base}/news/{n}", f"Discovered story {n}", now - timedelta(hours=1))
         for n in range(2)]))
    config_data = {"settings": settings(), "sources": [{"name": "herald", "site": server.base + "/"}]}
    config = parse_config(config_data)
    first = run_pass(config, dsn)
    assert first.counts[0].articles_new == 2, first.counts[0]
    found = conn.execute("SELECT found FROM news.site_discovery").fetchone()[0]
    assert found["feeds"] == [f"{server.base}/rss.xml"]
    assert found["sitemaps"] == [f"{server.base}/news-map.xml"]
    homes = sum(1 for _, p, _ in server.requests if p == "/")
    run_pass(config, dsn)
    assert sum(1 for _, p, _ in server.requests if p == "/") == homes  # cached discovery
    assert len([p for _, p, _ in server.requests if p.startswith("/news/")]) == 2

    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(config_data))
    assert main(["sources", "show", "herald", "--config", str(path), "--dsn", dsn]) == 0
    shown = capsys.readouterr().out
    assert f"herald: site {server.base}/" in shown
    assert f"feed: {server.base}/rss.xml" in shown and f"sitemap: {server.base}/news-map.xml" in shown


def test_a_site_where_nothing_is_found_is_a_discovery_failed_rejection(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    server.static("/", "<html><body>Nothing to see</body></html>")
    config = parse_config({"settings": settings(),
                           "sources": [{"name": "bare", "site": server.base + "/"}]})
    result = run_pass(config, dsn)
    assert result.counts[0].feed_status == "discovery_failed"
    assert conn.execute("SELECT reason FROM news.rejections").fetchall() == [("discovery_failed",)]


def test_a_json_feed_source_loads_like_rss(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    server.static("/news/j", ARTICLE.format(t="A story from a JSON Feed"))
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Wire",
            "items": [{"id": "1", "url": f"{server.base}/news/j", "title": "A story",
                       "date_published": "2026-12-01T10:00:00Z",
                       "authors": [{"name": "Jo Wire"}]}]}
    url = server.static("/feed.json", json.dumps(feed), content_type="application/feed+json")
    config = parse_config({"settings": settings(), "sources": [{"name": "wire", "url": url}]})
    assert run_pass(config, dsn).counts[0].articles_new == 1
    assert conn.execute("SELECT via, found_in, feed_author FROM news.articles").fetchall() == [
        ("feed", url, "Jo Wire")]
