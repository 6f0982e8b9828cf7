"""Serve a folder of real pages behind feeds on 127.0.0.1, for trial runs and benchmarks.

``CorpusSite(pages, per_feed=20)`` serves each page's bytes unchanged at
``/page/<id>.html`` (with the content type, and charset when known) and RSS
feeds at ``/feed/<n>.xml`` listing ``per_feed`` pages each. Nothing here reads
the network; the pages come from disk (e.g. ``../shared/corpus``).
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CorpusPage:
    id: str
    path: Path
    charset: str | None = None
    truth: dict[str, Any] | None = None


def load_corpus(folder: Path, limit: int | None = None) -> list[CorpusPage]:
    """Pages of a corpus folder with a ``ground_truth.jsonl`` (see ../shared/corpus)."""
    pages = []
    with (folder / "ground_truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            path = folder / row["html_path"]
            if path.is_file():
                charset = row.get("html_encoding") or row.get("declared_charset")
                pages.append(CorpusPage(row["id"], path, charset, row))
            if limit is not None and len(pages) >= limit:
                break
    return pages


class CorpusSite:
    """The pages and their feeds, served from a background thread."""

    def __init__(self, pages: Iterable[CorpusPage], per_feed: int = 20,
                 send_charset: bool = False) -> None:
        self.pages = list(pages)
        self.per_feed = per_feed
        self.requests = 0
        self.bytes_sent = 0
        by_id = {p.id: p for p in self.pages}
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.requests += 1
                path = self.path.split("?", 1)[0]
                body: bytes | None = None
                ctype = "text/html"
                if path.startswith("/page/") and path.endswith(".html"):
                    page = by_id.get(path[len("/page/"):-len(".html")])
                    if page is not None:
                        body = page.path.read_bytes()
                        if send_charset and page.charset:
                            ctype = f"text/html; charset={page.charset}"
                elif path.startswith("/feed/") and path.endswith(".xml"):
                    body = site.feed(int(path[len("/feed/"):-len(".xml")]))
                    ctype = "application/rss+xml; charset=utf-8"
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                site.bytes_sent += len(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def feed_count(self) -> int:
        return (len(self.pages) + self.per_feed - 1) // self.per_feed

    def feed_urls(self) -> list[str]:
        return [f"{self.base}/feed/{n}.xml" for n in range(self.feed_count)]

    def page_url(self, page: CorpusPage) -> str:
        return f"{self.base}/page/{page.id}.html"

    def feed(self, n: int) -> bytes | None:
        chunk = self.pages[n * self.per_feed : (n + 1) * self.per_feed]
        if not chunk:
            return None
        items = "\n".join(
            f"<item><title>Page {html.escape(p.id)}</title>"
            f"<link>{html.escape(self.page_url(p))}</link></item>"
            for p in chunk
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>corpus feed {n}</title><link>{self.base}/</link>{items}</channel></rss>"
        ).encode()

    def sources_config(self, **settings: Any) -> dict[str, Any]:
        """A config (as data) with one source per feed."""
        return {
            "settings": {
                "allow_private_hosts": ["127.0.0.1"],
                "only_hosts": ["127.0.0.1"],
                "per_host_concurrency": 16,  # one local server plays every site
                "per_host_delay": 0,
                **settings,
            },
            "sources": [{"name": f"corpus-{n}", "url": url}
                        for n, url in enumerate(self.feed_urls())],
        }

    def __enter__(self) -> CorpusSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
