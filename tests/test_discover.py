"""Site discovery: feeds linked by a home page, sitemaps from robots.txt or the
conventional places, verified over real loopback HTTP."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from conftest import LoopbackServer, settings
from ingest.discover import (
    CONVENTIONAL_SITEMAPS,
    Discovery,
    discover,
    feeds_in_page,
    looks_like_sitemap,
    sitemaps_in_robots,
)
from ingest.errors import FetchError, ItemError, TransientFetchError
from ingest.fetch import Fetcher, HostPolicy

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>
<item><title>One</title><link>http://127.0.0.1/one</link></item></channel></rss>"""
EMPTY_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title>
</channel></rss>"""
JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J",
                        "items": [{"id": "1", "url": "http://127.0.0.1/j1", "title": "J1"}]})
SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://127.0.0.1/one</loc></url></urlset>"""
POLICY = HostPolicy(concurrency=2, delay=0)


def page(head: str) -> bytes:
    return f"<!doctype html><html><head><title>Home</title>{head}</head><body>Hi</body></html>".encode()


# --- the pure parts -----------------------------------------------------------------


def test_feeds_in_page_types_order_and_dedup() -> None:
    body = page("""
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/rss+xml" title="All" href="/feed.xml">
      <link rel="alternate" type="application/rss+xml" title="Comments" href="/c.xml">
      <link rel="alternate" type="application/atom+xml" href="https://other.example/atom#x">
      <LINK REL="Alternate Feed" TYPE="application/feed+json; charset=utf-8" HREF="feed.json">
      <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">
      <link rel="alternate" type="application/json" href="/feeds/main.json">
      <link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
      <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
      <link rel="alternate" type="application/rss+xml" href="/comments/feed/">
      <link rel="alternate" type="application/rss+xml" href="/feed.xml">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      <link rel="alternate" type="application/rss+xml" href="ftp://x.example/feed">
      <link rel="alternate" type="application/rss+xml" href="http://[::1/feed">
      <link rel="alternate" type="application/rss+xml">
      <link rel="feed" type="application/rss+xml" href="/not-alternate.xml">
    """)
    assert feeds_in_page(body, "https://site.example/news/") == [
        "https://site.example/feed.xml",
        "https://other.example/atom",
        "https://site.example/news/feed.json",
        "https://site.example/feeds/main.json",
    ]


def test_feeds_in_page_uses_base_href_and_charset() -> None:
    body = page('<base href="https://cdn.example/root/">'
                '<link rel="alternate" type="application/rss+xml" href="rss&amp;x=1"'
                ' title="Caf\xe9">'.replace("\xe9", "&#233;"))
    assert feeds_in_page(body, "https://site.example/") == ["https://cdn.example/root/rss&x=1"]
    latin = page('<link rel="alternate" type="application/atom+xml" href="/\xe9t\xe9.xml">'
                 ).decode().encode("latin-1")
    assert feeds_in_page(latin, "https://s.example/", "iso-8859-1") == [
        "https://s.example/\xe9t\xe9.xml"]


@pytest.mark.parametrize("body", [b"", b"<", b"<link", b"\x00\xff" * 100, b"<![if x]><link",
                                  b"<base href='http://[x'>" + page(
                                      '<link rel=alternate type=application/rss+xml href=/f>')])
def test_feeds_in_page_garbage(body: bytes) -> None:
    found = feeds_in_page(body, "https://s.example/")
    assert found in ([], ["https://s.example/f"])


def test_sitemaps_in_robots() -> None:
    text = """User-agent: *
Disallow: /private
Sitemap: https://site.example/sitemap.xml
sitemap: /news-sitemap.xml  # relative
SITEMAP:https://site.example/sitemap.xml
Sitemap: ftp://site.example/s.xml
Sitemap:
\x00Sitemap: /late.xml
"""
    assert sitemaps_in_robots(text, "https://site.example/robots.txt") == [
        "https://site.example/sitemap.xml",
        "https://site.example/news-sitemap.xml",
        "https://site.example/late.xml",
    ]
    assert sitemaps_in_robots("", "https://s.example/robots.txt") == []
    assert sitemaps_in_robots("User-agent: *\nDisallow: /", "https://s.example/") == []


def test_looks_like_sitemap() -> None:
    assert looks_like_sitemap(SITEMAP.encode())
    assert looks_like_sitemap(b"\xef\xbb\xbf\n  <urlset>")
    assert looks_like_sitemap(b"<sitemapindex>")
    assert looks_like_sitemap(gzip.compress(b"<urlset/>"))
    assert not looks_like_sitemap(b"<!doctype html><html>")
    assert not looks_like_sitemap(b"")


def test_discovery_json_round_trip() -> None:
    found = Discovery(feeds=["https://s.example/f\u00e9"], sitemaps=["https://s.example/s"],
                      problems=["x"])
    assert Discovery.from_json(found.to_json()) == found
    assert Discovery.from_json(found.to_json().encode()) == found
    assert Discovery.from_json(json.loads(found.to_json())) == found
    assert Discovery.from_json("{}") == Discovery([], [], [])
    for bad in ("[]", '{"feeds": "x"}', '{"feeds": [1]}', "not json"):
        with pytest.raises(ValueError):
            Discovery.from_json(bad)


# --- discover() over loopback HTTP ----------------------------------------------------


def run(home: str, **kwargs: object) -> Discovery:
    async def go() -> Discovery:
        async with Fetcher(settings(allow_private_hosts=["127.0.0.1"]), backoff=0.01) as fetcher:
            return await discover(fetcher, home, policy=POLICY, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_discover_feeds_and_robots_sitemaps(server: LoopbackServer) -> None:
    server.static("/feed.xml", RSS, "application/rss+xml")
    server.static("/feed.json", JSON_FEED, "application/feed+json")
    server.static("/comments/feed", RSS, "application/rss+xml")
    server.static("/empty.xml", EMPTY_RSS, "application/rss+xml")
    server.static("/page.xml", "<html><body>not a feed</body></html>", "application/rss+xml")
    server.static("/robots.txt", "User-agent: *\nDisallow:\nSitemap: /sitemaps/news.xml\n",
                  "text/plain")
    home = server.static("/", page("""
      <link rel="alternate" type="application/rss+xml" title="News" href="/feed.xml">
      <link rel="alternate" type="application/feed+json" title="JSON" href="/feed.json">
      <link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed">
      <link rel="alternate" type="application/rss+xml" href="/empty.xml">
      <link rel="alternate" type="application/rss+xml" href="/page.xml">
      <link rel="alternate" type="application/atom+xml" href="/missing.xml">
    """))
    found = run(home)
    assert found.feeds == [server.base + "/feed.xml", server.base + "/feed.json"]
    assert found.sitemaps == [server.base + "/sitemaps/news.xml"]
    problems = "\n".join(found.problems)
    assert len(found.problems) == 3, problems
    assert f"{server.base}/empty.xml: no entries" in problems
    assert f"{server.base}/page.xml: not_a_feed" in problems
    assert f"{server.base}/missing.xml: http_404" in problems
    paths = [path for _, path, _ in server.requests]
    assert "/comments/feed" not in paths
    assert not set(CONVENTIONAL_SITEMAPS) & set(paths)  # robots named one: no probing
    assert Discovery.from_json(found.to_json()) == found


def test_discover_limits_to_max_each(server: LoopbackServer) -> None:
    links = ""
    for n in range(4):
        server.static(f"/f{n}.xml", RSS, "application/rss+xml")
        links += f'<link rel="alternate" type="application/rss+xml" href="/f{n}.xml">'
    server.static("/robots.txt", "".join(f"Sitemap: /s{n}.xml\n" for n in range(4)), "text/plain")
    found = run(server.static("/", page(links)), max_each=2)
    assert found.feeds == [server.base + "/f0.xml", server.base + "/f1.xml"]
    assert found.sitemaps == [server.base + "/s0.xml", server.base + "/s1.xml"]
    assert "/f2.xml" not in [path for _, path, _ in server.requests]


def test_discover_probes_conventional_sitemaps(server: LoopbackServer) -> None:
    server.static("/robots.txt", "User-agent: *\nDisallow: /private\n", "text/plain")
    server.static("/sitemap.xml", "\n  " + SITEMAP, "application/xml")
    server.static("/sitemap_index.xml", gzip.compress(SITEMAP.encode()), "application/gzip")
    server.static("/sitemap_news.xml", page(""), "text/html")  # a soft 404
    home = server.static("/", page(""))
    found = run(home)
    assert found.feeds == []
    assert found.sitemaps == [server.base + "/sitemap.xml", server.base + "/sitemap_index.xml"]
    assert found.problems == [
        f"home page {home} links no feed",
        f"sitemap {server.base}/sitemap_news.xml: not a sitemap (text/html)",
    ]


def test_discover_without_robots_txt(server: LoopbackServer) -> None:
    server.static("/news-sitemap.xml", SITEMAP, "text/xml")
    found = run(server.static("/", page("")))
    assert found.sitemaps == [server.base + "/news-sitemap.xml"]
    assert not any("robots" in line for line in found.problems)  # a 404 means none


def test_discover_home_page_that_is_a_feed(server: LoopbackServer) -> None:
    url = server.static("/rss", RSS, "application/rss+xml")
    found = run(url)
    assert found.feeds == [url]


def test_discover_fails_when_the_home_page_fails_and_nothing_is_found(
        server: LoopbackServer) -> None:
    home = server.static("/", "oops", status=500)
    with pytest.raises(FetchError) as err:
        run(home)
    assert isinstance(err.value, ItemError) and isinstance(err.value, TransientFetchError)
    assert err.value.reason == "discovery_failed"
    assert "http_500" in err.value.detail


def test_discover_with_a_failed_home_page_keeps_what_it_found(server: LoopbackServer) -> None:
    server.static("/robots.txt", "Sitemap: /s.xml\n", "text/plain")
    home = server.static("/", "gone", status=404)
    found = run(home)
    assert found.feeds == [] and found.sitemaps == [server.base + "/s.xml"]
    assert found.problems and "http_404" in found.problems[0]


def test_discover_refused_host_raises() -> None:
    async def go() -> Discovery:
        async with Fetcher(settings(allow_private_hosts=[])) as fetcher:
            return await discover(fetcher, "http://127.0.0.1:9/")

    with pytest.raises(FetchError) as err:
        asyncio.run(go())
    assert err.value.reason == "discovery_failed" and not err.value.retryable
    assert "private_address" in err.value.detail
    assert err.value.detail.count("private_address") == 1  # nothing more asked of the host
