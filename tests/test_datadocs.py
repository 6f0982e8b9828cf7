"""Data Docs that work offline (issue 19.1): the CDN assets of the GX pages are
vendored (ingest/datadocs_assets) and the pages point at local copies."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ingest import datadocs
from ingest.dedup import content_hash, word_count
from ingest.models import Article
from ingest.validate import SourceRules, build_docs, validate_records

ASSETS = Path(datadocs.__file__).parent / "datadocs_assets"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = " ".join(f"Korea and Lithuania agreed on cooperation number {i}." for i in range(30))
RULES = {"news": SourceRules(min_words=80, languages=("en",))}
LOADING = {"src", "href", "srcset", "poster", "data", "background", "xlink:href"}
CSS_REMOTE = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"']?)\s*((?:[a-z]+:)?//[^\"')\s;]+)", re.I)


class Refs(HTMLParser):
    """What a page makes the browser load: (tag, URL) of resources, CSS included;
    links (<a>, <area>) are not loads."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.loads += [("style", u) for u in CSS_REMOTE.findall(value)]
            elif name in LOADING and tag not in ("a", "area"):
                self.loads.append((tag, value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.loads += [("style", u) for u in CSS_REMOTE.findall(data)]


def loads(html: str) -> list[tuple[str, str]]:
    parser = Refs()
    parser.feed(html)
    return parser.loads


def remote(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) and parts.hostname != "127.0.0.1"


def assert_offline(docs: Path) -> int:
    """No page (nor GX stylesheet) loads anything from another host, and every
    local resource a page loads exists. Returns how many pages were checked."""
    pages = sorted(docs.rglob("*.html"))
    for page in pages:
        found = loads(page.read_text(encoding="utf-8"))
        assert not [u for _, u in found if remote(u)], page
        for tag, url in found:
            if url.startswith(("data:", "#")) or tag == "style":
                continue
            if url.endswith("/static/images/favicon.ico") and "validations" in page.parts:
                continue  # GX's own slip: one "../" short on validation pages (not a load)
            target = (page.parent / url.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), (page, url)
            assert target.is_relative_to(docs.resolve()), (page, url)
    for css in (docs / "static").rglob("*.css"):
        assert not CSS_REMOTE.findall(css.read_text(encoding="utf-8")), css
    return len(pages)


def article(n: int, **changes: Any) -> Article:
    text = changes.pop("text", f"{BODY} Article {n}.")
    values: dict[str, Any] = dict(
        source="news", url=f"https://ex.org/{n}", urls=[], title=f"Title {n}", author=None,
        published_at=NOW - timedelta(days=1), language="en", site_name=None, text=text,
        word_count=word_count(text), content_hash=content_hash(text),
    )
    values.update(changes)
    return Article(**values)


# -- the vendored files ---------------------------------------------------------------

def test_the_vendored_files_are_the_ones_the_manifest_pins() -> None:
    manifest = json.loads((ASSETS / "assets.json").read_text())
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == entry["sha256"], name
    for url, entry in manifest["urls"].items():
        assert entry["path"] in manifest["files"], url
        assert manifest["files"][entry["path"]]["sha256"] == entry["sha256"]
    for folder, lib in manifest["libraries"].items():
        assert (ASSETS / lib["license_file"]).is_file(), folder
    # what the vendored stylesheets load (Font Awesome's webfonts) is vendored too
    for name in manifest["files"]:
        if name.endswith(".css"):
            text = (ASSETS / name).read_text(encoding="utf-8")
            for ref in re.findall(r"url\(\s*[\"']?([^\"')]+)", text):
                if not ref.startswith("data:"):
                    assert (ASSETS / name).parent.joinpath(ref).resolve().is_file(), (name, ref)
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    assert total < 5_000_000


# -- (a) a fake GX page -----------------------------------------------------------------

UNKNOWN = ("https://cdn.example.com/lib.js", "https://cdn.example.com/lib.css",
           "//unpkg.com/other@1.0.0/x.png", "https://fonts.example.com/font.css")


def fake_page(manifest: dict[str, Any]) -> str:
    tags = []
    for url in manifest["urls"]:
        if url.endswith(".css"):
            tags.append(f'<link rel="stylesheet" href="{url}"/>')
        else:
            tags.append(f'<script src="{url}" integrity="sha384-x" crossorigin="anonymous">'
                        "</script>")
    return (
        "<!DOCTYPE html><html><head>" + "\n".join(tags)
        + f'<script src="{UNKNOWN[0]}"></script>'
        + f'<link rel="stylesheet" type="text/css" href="{UNKNOWN[1]}">'
        + "<style>@import url('" + UNKNOWN[3] + "');\n.navbar-brand a {\n  background: url("
        "'https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png')"
        " 0 0 no-repeat;\n}\n.x { background: url(\"data:image/svg+xml,%3csvg xmlns="
        "'http://www.w3.org/2000/svg'%3e%3c/svg%3e\") }</style>"
        "<script>var s = '//not-a-load'; // a comment with http://example.com</script>"
        "</head><body>"
        '<img class="NO-CACHE" src="https://great-expectations-web-assets.s3.us-east-2.amazonaws'
        '.com/logo-long.png?d=20261205T225846.024661Z&amp;dataContextId=1" alt="GX"/>'
        f'<img src="{UNKNOWN[2]}">'
        '<div style="background-image: url(https://cdn.example.com/bg.png)">x</div>'
        '<a href="https://greatexpectations.io">Great Expectations</a>'
        "</body></html>"
    )


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    manifest = datadocs.manifest()
    page = fake_page(manifest)
    deep = docs / "validations" / "suite" / "run-1" / "20261123T120000Z" / "batch.html"
    deep.parent.mkdir(parents=True)
    deep.write_text(page)
    (docs / "index.html").write_text(page)
    (docs / "static" / "styles").mkdir(parents=True)
    (docs / "static" / "styles" / "gx.css").write_text(
        ".a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com"
        "/logo-long.png') }")
    (docs / "static" / "images").mkdir()
    (docs / "static" / "images" / "logo-long.png").write_bytes(b"png")
    return docs


def test_a_fake_page_loads_nothing_remote(fake_site: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    docs = fake_site
    with caplog.at_level(logging.WARNING, logger="ingest.datadocs"):
        assert datadocs.make_offline(docs) == 3
    assert assert_offline(docs) == 2
    deep = next((docs / "validations").rglob("*.html"))
    for page, up in ((docs / "index.html", ""), (deep, "../../../../")):
        html = page.read_text()
        for entry in datadocs.manifest()["urls"].values():
            assert f'"{up}static/vendor/{entry["path"]}"' in html
        assert f'src="{up}static/images/logo-long.png"' in html
        assert "integrity" not in html and "crossorigin" not in html
        assert "cdn.example.com" not in html and "unpkg.com" not in html
        assert "fonts.example.com" not in html
        assert "background: none 0 0 no-repeat" in html  # GX's dark-mode logo: no copy
        assert '<a href="https://greatexpectations.io">' in html  # a link, not a load
        assert "var s = '//not-a-load'; // a comment with http://example.com" in html
        assert "http://www.w3.org/2000/svg" in html  # inside a data: URL
    css = (docs / "static" / "styles" / "gx.css").read_text()
    assert "url('../images/logo-long.png')" in css
    warned = caplog.text
    for url in (*UNKNOWN[:2], UNKNOWN[3], "https://cdn.example.com/bg.png"):
        assert url in warned
    assert "unpkg.com/other@1.0.0/x.png" in warned
    assert "full_logo_dark" not in warned  # known to have no copy
    # idempotent: nothing left to change, nothing written, nothing copied again
    before = {p: p.stat().st_mtime_ns for p in docs.rglob("*") if p.is_file()}
    assert datadocs.make_offline(docs) == 0
    assert {p: p.stat().st_mtime_ns for p in docs.rglob("*") if p.is_file()} == before
    assert not datadocs.install_assets(docs)


def test_a_missing_vendored_file_is_copied_again(fake_site: Path) -> None:
    datadocs.make_offline(fake_site)
    jquery = fake_site / "static" / "vendor" / "jquery-3.7.1" / "jquery.min.js"
    jquery.unlink()
    assert datadocs.install_assets(fake_site) and jquery.is_file()


def test_needs_rewrite_agrees_with_rewrite(fake_site: Path) -> None:
    page = (fake_site / "index.html").read_text()
    assert datadocs.needs_rewrite(page)
    done = datadocs.rewrite_html(page, "")
    assert not datadocs.needs_rewrite(done) and datadocs.rewrite_html(done, "") == done
    for snippet in ('<script src="//cdn.x.org/a.js"></script>', "<style>@import 'https://x.org/a.css';</style>",
                    '<svg><use xlink:href="https://x.org/s.svg#i"/></svg>',
                    '<p style="background:url( https://x.org/a.png )">',
                    '<img alt="a > b" srcset="https://x.org/a.png 2x">'):
        assert datadocs.needs_rewrite(snippet), snippet
        assert datadocs.rewrite_html(snippet, "") != snippet, snippet
    for snippet in ('<a href="https://x.org/">x</a>', "<script>// http://x.org</script>",
                    '<link rel="icon" href="./static/images/favicon.ico">'):
        assert not datadocs.needs_rewrite(snippet), snippet
        assert datadocs.rewrite_html(snippet, "") == snippet, snippet


# -- (b) a real build -----------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two validation runs through the project's path (validate_records + build_docs),
    the site under <root>/news/docs like the Airflow plugin's /news/docs/ mount."""
    quality = tmp_path_factory.mktemp("datadocs") / "news"
    batch = [article(1), article(2, title=None), article(3, language="de")]
    validate_records(batch, RULES, now=NOW, run_id="run-1", quality_dir=quality)
    build_docs(quality, "run-1")
    validate_records([article(4)], RULES, now=NOW, run_id="run-2", quality_dir=quality)
    build_docs(quality, "run-2")
    return quality / "docs"


def test_a_real_build_loads_nothing_remote(site: Path) -> None:
    assert assert_offline(site) >= 4  # index, latest, a page per run
    index = (site / "index.html").read_text()
    assert "static/vendor/jquery-3.7.1/jquery.min.js" in index
    assert "run-1" in index and "run-2" in index
    manifest = json.loads((site / "static" / "vendor" / "assets.json").read_text())
    assert manifest == datadocs.manifest()
    # nothing left to do; the next run's build leaves the pages already rewritten alone
    assert datadocs.make_offline(site) == 0
    pages = {p: p.stat().st_mtime_ns for p in (site / "validations").rglob("*.html")}
    validate_records([article(5)], RULES, now=NOW, run_id="run-3", quality_dir=site.parent)
    build_docs(site.parent, "run-3")
    after = {p: p.stat().st_mtime_ns for p in (site / "validations").rglob("*.html")}
    assert len(after) == len(pages) + 1 and all(after[p] == t for p, t in pages.items())
    assert_offline(site)


# -- (c) in a browser, with every request to another host aborted ---------------------

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    root = site.parent.parent
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news/docs/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_docs_work_offline_in_a_browser(site: Path, served: str) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when it may)")
    from playwright.sync_api import Page, Route, sync_playwright

    outside: list[str] = []
    problems: list[str] = []
    loaded: dict[str, int] = {}

    def route(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme == "file" or (parts.scheme in ("http", "https")
                                      and parts.hostname == "127.0.0.1"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def watch(page: Page) -> None:
        page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text} "
                                                     f"({m.location})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: loaded.__setitem__(r.url, r.status))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", route)
            page = context.new_page()
            watch(page)
            page.goto(served + "index.html", wait_until="networkidle")
            assert page.evaluate("typeof $") == "function"
            assert page.evaluate("typeof $.fn.bootstrapTable") == "function"
            assert page.evaluate("typeof vegaEmbed") == "function"
            assert page.locator(".bootstrap-table").count() >= 1  # bootstrap-table rendered
            rows = page.locator(".bootstrap-table table tbody tr[data-href]")
            assert rows.count() >= 2  # (run-3 too, after the test above)
            listed = page.locator(".bootstrap-table").inner_text()
            assert "run-1" in listed and "run-2" in listed
            # Bootstrap's CSS and Font Awesome's font are in use
            assert page.evaluate(
                "getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
            page.evaluate("document.fonts.ready")
            assert any(u.endswith("fa-solid-900.woff2") and s == 200 for u, s in loaded.items())
            # a row opens its validation page (jQuery's click handler)
            rows.filter(has_text="run-1").first.click()
            page.wait_for_url("**/validations/**/run-1/**.html")
            page.wait_for_load_state("networkidle")
            assert page.evaluate("typeof $") == "function"
            assert page.locator(".bootstrap-table").count() >= 1
            body = page.inner_text("body")
            assert "Failed" in body and "unexpected values found" in body  # run-1's bad rows
            assert page.locator("i.fas").count() >= 1
            assert page.locator("img[alt='Great Expectations']").evaluate(
                "img => img.complete && img.naturalWidth > 0")
            page.emulate_media(color_scheme="dark")  # GX's dark CSS named a remote logo
            page.reload(wait_until="networkidle")
            assert page.evaluate("typeof $") == "function"
            # and from file://, without a server
            file_page = context.new_page()
            watch(file_page)
            file_page.goto((site / "index.html").as_uri(), wait_until="load")
            assert file_page.evaluate("typeof $") == "function"
            assert file_page.locator(".bootstrap-table").count() >= 1
        finally:
            browser.close()
    assert not outside, f"requests to other hosts: {outside}"
    assert not problems, problems
    assert all(status < 400 for status in loaded.values()), loaded
