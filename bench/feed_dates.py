"""Dates through feeds: the stored ``published_at`` against the extractor alone.

    .venv/bin/python bench/feed_dates.py [--limit N]

Real pages with a known publication day (``../shared/corpus``: trafilatura_eval,
wcxb_dev, mozilla_readability's real pages) are served on 127.0.0.1 at their own
paths, behind three kinds of feed, each ingested by a real pass into a fresh
warehouse:

* **publisher**: the publisher's own RSS, its ``pubDate`` the true day (noon UTC);
* **aggregator**: a Bing-style feed of wrapped links, its ``pubDate`` the crawl time;
* **atom-updated**: an Atom feed whose entries carry only ``<updated>`` (today).

For each, the share of stored articles whose ``published_at`` falls on the true day,
beside the extractor alone (``extract_page`` with no feed, on the same pages and URLs)
measured in the same run. Target (issue 16): every case at most 1 point below the
extractor alone; an aggregator's crawl time and an Atom ``<updated>`` are never
taken for a publication date, and a page's own date beats the publisher feed's.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from ingest import db
from ingest.config import parse_config
from ingest.errors import ExtractError
from ingest.evaluate import TruthPage, corpus_pages, default_corpus_dir, truth_day
from ingest.extract import ExtractJob, extract_page
from ingest.pipeline import run_pass

KINDS = ("publisher", "aggregator", "atom-updated")


class Site:
    """The pages at /p/<n>/<their own path>, and the three feeds over them."""

    def __init__(self, pages: list[TruthPage], now: datetime) -> None:
        self.pages = pages
        self.now = now
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, ctype, body = site.respond(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, n: int) -> str:
        path = urlsplit(self.pages[n].url).path or "/"
        return f"{self.base}/p/{n}{quote(path, safe='/%')}"

    def respond(self, path: str) -> tuple[int, str, bytes]:
        path = path.split("?", 1)[0]
        if path.startswith("/p/"):
            n = int(path.split("/")[2])
            page = self.pages[n]
            ctype = f"text/html; charset={page.charset}" if page.charset else "text/html"
            return 200, ctype, page.path.read_bytes()
        if path.startswith("/feed/"):
            kind = path.split("/")[2].removesuffix(".xml")
            return 200, "application/xml; charset=utf-8", self.feed(kind).encode()
        return 404, "text/plain", b""

    def feed(self, kind: str) -> str:
        if kind == "atom-updated":
            entries = "".join(
                f"<entry><title>Item {n}</title><link href=\"{html.escape(self.url(n))}\"/>"
                f"<id>{html.escape(self.url(n))}</id><updated>{self.now.isoformat()}</updated>"
                "</entry>" for n in range(len(self.pages)))
            return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/'
                    f'Atom"><title>t</title><updated>{self.now.isoformat()}</updated>'
                    f"{entries}</feed>")
        items = []
        for n, page in enumerate(self.pages):
            if kind == "publisher":
                day = truth_day(page.truth["date"])
                assert day is not None
                when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
                link = self.url(n)
            else:  # an aggregator: its crawl time, and a wrapper around the page's URL
                when = self.now
                target = quote(self.url(n), safe="")
                link = f"{self.base}/news/apiclick.aspx?ref=FexRss&url={target}"
            items.append(f"<item><title>Item {n}</title><link>{html.escape(link)}</link>"
                         f"<pubDate>{format_datetime(when)}</pubDate></item>")
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>t</title>{''.join(items)}</channel></rss>")


def alone(site: Site) -> dict[int, datetime | None]:
    """The extractor alone: each page at the URL the passes fetch, no feed."""
    found: dict[int, datetime | None] = {}
    for n, page in enumerate(site.pages):
        try:
            got = extract_page(ExtractJob(source="bench", url=site.url(n),
                                          body=page.path.read_bytes(),
                                          declared_charset=page.charset))
        except ExtractError:
            continue
        found[n] = got.published_at
    return found


def stored(site: Site, kind: str, dsn: str, home: Path) -> dict[int, datetime | None]:
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "per_host_concurrency": 16,
                     "per_host_delay": 0, "concurrency": 32, "max_items_per_feed": 100_000,
                     "obey_robots": False, "min_words": 0,
                     "redirect_wrappers": [{"hosts": ["127.0.0.1"],
                                            "path": "/news/apiclick.aspx", "param": "url"}]},
        "sources": [{"name": kind, "url": f"{site.base}/feed/{kind}.xml"}],
    })
    run_pass(config, dsn, quality_dir=home / "quality")
    by_url = {site.url(n): n for n in range(len(site.pages))}
    found: dict[int, datetime | None] = {}
    with psycopg.connect(dsn) as conn:
        for url, when in conn.execute(
            "SELECT u.url, a.published_at FROM news.article_urls u JOIN news.articles a "
            "USING (article_id) WHERE u.kind IN ('final', 'redirect', 'feed_link')"
        ):
            if url in by_url:
                found[by_url[url]] = when
    return found


def on_day(page: TruthPage, got: datetime | None, zone: Any) -> bool:
    day = truth_day(page.truth["date"])
    return got is not None and day is not None and got.astimezone(zone).date() == day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="pages per corpus")
    args = parser.parse_args()
    corpus = default_corpus_dir()
    pages = [p for name in ("trafilatura_eval", "wcxb_dev", "mozilla_readability")
             if (corpus / name).is_dir()
             for p in corpus_pages(corpus / name, args.limit, real_only=True)
             if p.has("date") and truth_day(p.truth["date"])]
    if not pages:
        sys.exit(f"no corpus with dates in {corpus}")
    home = Path(tempfile.mkdtemp(prefix="news-feed-dates-"))
    os.environ["NEWS_INGEST_HOME"] = str(home)
    site = Site(pages, datetime.now(UTC).replace(microsecond=0))
    base = alone(site)
    print(f"{len(pages)} pages with a known day; the extractor alone read "
          f"{len(base)} of them")
    server = db.embedded_dsn(home)
    with psycopg.connect(server, autocommit=True) as admin:
        for kind in KINDS:
            admin.execute(f"DROP DATABASE IF EXISTS feed_dates_{kind.replace('-', '_')}")
            admin.execute(f"CREATE DATABASE feed_dates_{kind.replace('-', '_')}")
    print(f"{'feed':<14} {'pages':>6} {'stored':>7} {'extractor alone':>16} {'difference':>11}")
    for kind in KINDS:
        dsn = db.embedded_dsn(home, f"feed_dates_{kind.replace('-', '_')}")
        got = stored(site, kind, dsn, home)
        common = [n for n in got if n in base]

        def zone(n: int) -> Any:
            when = base[n]
            return when.tzinfo if when is not None else ZoneInfo("UTC")

        ours = sum(on_day(pages[n], got[n], zone(n)) for n in common) / max(len(common), 1)
        theirs = sum(on_day(pages[n], base[n], zone(n)) for n in common) / max(len(common), 1)
        print(f"{kind:<14} {len(common):>6} {100 * ours:>6.1f}% {100 * theirs:>15.1f}% "
              f"{100 * (ours - theirs):>+10.1f}")


if __name__ == "__main__":
    main()
