"""A synthetic newsroom on 127.0.0.1, as big as a test or a benchmark needs.

``Newsroom(feeds=4, items=40)`` serves ``feeds`` RSS feeds (``/feed/<f>.xml``) of
``items`` articles each (``/a/<f>/<i>.html``), every article a different story of
about 250 words in plain English, with a headline, a byline and a date. Some
articles of feeds other than the first re-post a story of the first feed with one
sentence rewritten (near-duplicates: one story, several documents). ``faults``
names the ways some links fail, as real ones do: ``missing`` (a 404), ``busy`` (a
503 that never recovers), ``pdf`` (a PDF where HTML was expected), ``slow`` (an
answer after ``slow_seconds``), one article of each kind in every 40 of a feed.
:meth:`advance` moves every feed on by ``n`` items, as a day of news would.
Everything is derived from the seed: two newsrooms built alike serve the same
bytes, so a killed run and a clean run can be compared row by row.
"""

from __future__ import annotations

import html
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_WORDS = [
    "the", "council", "said", "new", "plan", "would", "help", "families", "across", "region",
    "after", "months", "of", "talks", "with", "local", "leaders", "who", "asked", "for",
    "more", "money", "to", "repair", "roads", "schools", "and", "bridges", "before", "winter",
    "storms", "arrive", "officials", "expect", "work", "begin", "next", "spring", "while",
    "some", "residents", "remain", "worried", "about", "rising", "costs", "and", "delays",
    "that", "followed", "earlier", "projects", "in", "city", "centre", "market", "traders",
    "welcomed", "decision", "but", "warned", "prices", "could", "climb", "again", "if",
    "supply", "problems", "continue", "minister", "told", "reporters", "government", "would",
    "publish", "details", "this", "week", "opposition", "members", "called", "proposal", "too",
    "late", "and", "demanded", "independent", "review", "of", "spending", "hospital", "staff",
    "union", "meeting", "agreed", "to", "keep", "negotiating", "over", "pay", "hours", "and",
    "training", "farmers", "harvest", "weather", "rain", "river", "flooding", "police",
    "investigation", "court", "judge", "ruled", "company", "shares", "fell", "percent",
    "investors", "election", "campaign", "voters", "poll", "survey", "results", "showed",
    "support", "energy", "prices", "households", "heating", "bills", "summer", "festival",
    "museum", "opened", "exhibition", "visitors", "railway", "station", "trains", "service",
    "passengers", "airport", "flights", "delayed"
]
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}">
<link rel="canonical" href="{url}">
</head><body>
<header><a href="/">{site}</a>
<nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By <span class="author">{author}</span>, {day}</p>
{body}
</article></main>
<footer>&copy; {site}. All rights reserved.</footer>
</body></html>
"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (a killed pass) is not news


class Newsroom:
    """The feeds and pages, served from a background thread; ``requests`` counts
    the requests per path."""

    def __init__(self, feeds: int = 4, items: int = 40, *, seed: int = 1,
                 faults: Iterable[str] = (), slow_seconds: float = 3.0,
                 repost_every: int = 7) -> None:
        self.feeds = feeds
        self.items = items
        self.seed = seed
        self.faults = frozenset(faults)
        self.slow_seconds = slow_seconds
        self.repost_every = repost_every
        self.offset = 0
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        room = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with room._lock:
                    room.requests[path] += 1
                status, ctype, body = room.respond(path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Newsroom:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def advance(self, n: int) -> None:
        """Every feed lists its next ``n`` articles first and drops its oldest ``n``."""
        self.offset += n

    def sources(self) -> list[dict[str, str]]:
        return [{"name": f"paper-{f}", "url": f"{self.base}/feed/{f}.xml"}
                for f in range(self.feeds)]

    def fault(self, feed: int, item: int) -> str | None:
        """The fault of an article, if it has one: one of each kind per feed."""
        kind = {3: "missing", 5: "busy", 8: "pdf", 11: "slow"}.get(item % 40)
        return kind if kind in self.faults else None

    def article_paths(self) -> list[str]:
        """The paths of the articles the feeds list now, faulty ones included."""
        return [f"/a/{f}/{i}.html" for f in range(self.feeds)
                for i in range(self.offset, self.offset + self.items)]

    def respond(self, path: str) -> tuple[int, str, bytes]:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "feed" and parts[1].endswith(".xml"):
            feed = int(parts[1][:-4])
            if 0 <= feed < self.feeds:
                return 200, "application/rss+xml; charset=utf-8", self.feed(feed)
        if len(parts) == 3 and parts[0] == "a" and parts[2].endswith(".html"):
            feed, item = int(parts[1]), int(parts[2][:-5])
            fault = self.fault(feed, item)
            if fault == "missing":
                return 404, "text/html", b"<h1>Not found</h1>"
            if fault == "busy":
                return 503, "text/html", b"<h1>Busy</h1>"
            if fault == "pdf":
                return 200, "application/pdf", b"%PDF-1.4 not an article"
            if fault == "slow":
                time.sleep(self.slow_seconds)
            return 200, "text/html; charset=utf-8", self.page(feed, item).encode("utf-8")
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /private/\n"
        return 404, "text/html", b""

    def feed(self, feed: int) -> bytes:
        items = []
        for item in range(self.offset + self.items - 1, self.offset - 1, -1):  # newest first
            title, _, published, _ = self.story(feed, item)
            url = f"{self.base}/a/{feed}/{item}.html"
            items.append(
                f"<item><title>{html.escape(title)}</title><link>{url}</link>"
                f"<guid>{url}</guid><pubDate>{format_datetime(published)}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Paper {feed}</title><link>{self.base}/</link>"
            f"<description>news</description>{''.join(items)}</channel></rss>"
        ).encode()

    def page(self, feed: int, item: int) -> str:
        title, author, published, paragraphs = self.story(feed, item)
        url = f"{self.base}/a/{feed}/{item}.html"
        return _PAGE.format(
            title=html.escape(title), site=f"Paper {feed}", url=url, author=author,
            published=published.isoformat(), day=f"{published:%d %B %Y}",
            body="\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs),
        )

    def story(self, feed: int, item: int) -> tuple[str, str, datetime, list[str]]:
        """Title, author, publication time and paragraphs of an article; a re-post
        tells the first feed's story of the same item, one sentence rewritten."""
        published = datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(minutes=37 * item + feed)
        author = f"{_name(self.seed, feed, item)}"
        if feed and self.repost_every and item % self.repost_every == 0:
            title, paragraphs = _story(self.seed, 0, item)
            edited = list(paragraphs)
            edited[2] = f"Paper {feed} adds that the story was confirmed by its own sources."
            return title, author, published, edited
        title, paragraphs = _story(self.seed, feed, item)
        return title, author, published, list(paragraphs)


@cache
def _story(seed: int, feed: int, item: int) -> tuple[str, tuple[str, ...]]:
    rng = random.Random(f"{seed}/{feed}/{item}")
    title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 10))).capitalize()
    paragraphs = []
    for _ in range(rng.randint(8, 12)):
        sentences = []
        for _ in range(rng.randint(2, 3)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 16))]
            sentences.append(" ".join(words).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return f"{title} ({feed}-{item})", tuple(paragraphs)


def _name(seed: int, feed: int, item: int) -> str:
    rng = random.Random(f"{seed}/name/{feed}/{item}")
    first = rng.choice(["Anna", "Jonas", "Mira", "Peter", "Sofia", "Tomas", "Lea", "Karim"])
    last = rng.choice(["Berg", "Novak", "Lindqvist", "Okafor", "Moreau", "Tanaka", "Silva"])
    return f"{first} {last}"
