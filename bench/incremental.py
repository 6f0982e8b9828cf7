"""Incremental passes: the second pass over unchanged sources must cost next to nothing.

    .venv/bin/python bench/incremental.py [--feeds 200] [--items 20]
    .venv/bin/python bench/incremental.py --kind sitemap [--feeds 200] [--items 50]

Serves F feeds (or sitemaps) of I items each on 127.0.0.1 (they answer conditional
requests with 304, as real servers do; every item is a distinct generated
article), runs two passes into a fresh embedded PostgreSQL and prints, for each
pass, its time, requests and bytes. Targets: the second pass takes at most 10% of
the first over feeds, 5% over sitemaps, and downloads no article.

One local server plays all the sites, so the politeness limits per host are
lifted for the run (per_host_concurrency 16, per_host_delay 0).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import db
from ingest.config import parse_config
from ingest.pipeline import run_pass

WORDS = (
    "market", "trade", "export", "battery", "chip", "supply", "minister", "summit", "agreement",
    "investment", "energy", "company", "growth", "policy", "factory", "region", "partner",
    "technology", "research", "forum", "cooperation", "price", "demand", "council", "industry",
    "plan", "report", "bank", "rate", "share", "quarter", "profit",
)


def article_html(feed: int, item: int) -> bytes:
    rng = random.Random(feed * 10_000 + item)
    title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize()
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(45)).capitalize() + ".</p>"
        for _ in range(6)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='og:title' content='{title}'></head><body><nav>Home | World</nav>"
        f"<article><h1>{title}</h1><time datetime='2026-11-2{item % 3}'>Nov</time>"
        f"{paragraphs}</article><footer>Contact us</footer></body></html>"
    ).encode()


class Site:
    def __init__(self, feeds: int, items: int) -> None:
        self.feeds, self.items = feeds, items
        self.requests = 0
        self.bytes = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.requests += 1
                parts = self.path.strip("/").split("/")
                body, ctype = b"", "text/html; charset=utf-8"
                if parts[0] == "feed":
                    body, ctype = site.feed(int(parts[1])), "application/rss+xml"
                elif parts[0] == "sitemap":
                    body, ctype = site.sitemap(int(parts[1])), "application/xml"
                elif parts[0] == "a":
                    body = article_html(int(parts[1]), int(parts[2]))
                status = 200 if body else 404
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                if body and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status in (200, 304):
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)
                site.bytes += len(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed(self, n: int) -> bytes:
        items = "".join(
            f"<item><title>Item {n}-{i}</title><link>{self.base}/a/{n}/{i}</link>"
            f"<pubDate>Mon, 23 Nov 2026 0{i % 10}:00:00 GMT</pubDate></item>"
            for i in range(self.items)
        )
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {n}</title>"
                f"<link>{self.base}/</link>{items}</channel></rss>").encode()


    def sitemap(self, n: int) -> bytes:
        urls = "".join(
            f"<url><loc>{self.base}/a/{n}/{i}</loc><lastmod>{self.lastmod}</lastmod></url>"
            for i in range(self.items)
        )
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()

    @property
    def lastmod(self) -> str:  # an hour ago: recent enough for a pass to take
        return time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(self.started - 3600))

    started = time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("feed", "sitemap"), default="feed")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=None, help="default 20 (feeds), 50 (sitemaps)")
    args = parser.parse_args()
    args.items = args.items or (20 if args.kind == "feed" else 50)
    key, path = ("url", "feed") if args.kind == "feed" else ("sitemap", "sitemap")
    site = Site(args.feeds, args.items)
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "only_hosts": ["127.0.0.1"],
                     "per_host_concurrency": 16, "per_host_delay": 0, "min_words": 50},
        "sources": [{"name": f"{path}-{n}", key: f"{site.base}/{path}/{n}"}
                    for n in range(args.feeds)],
    })
    print(f"{args.feeds} {path}s x {args.items} items on {site.base}")
    with tempfile.TemporaryDirectory(prefix="news-bench-") as home:
        dsn = db.embedded_dsn(Path(home))
        times = []
        for n in (1, 2):
            requests, sent = site.requests, site.bytes
            started = time.perf_counter()
            result = run_pass(config, dsn, run_id=f"pass-{n}")
            elapsed = time.perf_counter() - started
            times.append(elapsed)
            fetched = sum(c.articles_fetched for c in result.counts)
            print(f"pass {n}: {elapsed:7.2f} s  requests {site.requests - requests:5d}  "
                  f"bytes {site.bytes - sent:>11,d}  articles downloaded {fetched:5d}  "
                  f"new {result.summary['articles_new']:5d}  {path}s 304 "
                  f"{sum(c.feed_status == 'not_modified' for c in result.counts)}")
    target = "10%" if args.kind == "feed" else "5%"
    print(f"second pass / first pass: {times[1] / times[0]:.1%} (target <= {target}, and no "
          "article)")


if __name__ == "__main__":
    main()
