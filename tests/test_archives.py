"""Web archives: WARC/ARC records read as fetched pages (ingest.archives), imported
through the pass (import-warc, warc: sources), resumably; and the DAG that runs it.

The archives are written here with warcio, from the synthetic newsroom's pages
(and, when ../shared/corpus is there, some of its real pages)."""

from __future__ import annotations

import gzip
import io
import itertools
import os
import shutil
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import brotli
import psycopg
import pytest
import yaml

from conftest import CORPUS, ROOT, LoopbackServer
from ingest import archives
from ingest.config import Config, SourceConfig, load_config, parse_config
from ingest.demo.newsroom import Newsroom
from ingest.errors import ConfigError
from ingest.import_warc import default_name, import_warc
from ingest.pipeline import run_pass

HOST = "https://paper.example"
WHEN = "2026-11-01T10:00:00Z"


def newsroom_pages(n: int, start: int = 0, base: str = HOST) -> list[tuple[str, bytes]]:
    """(url, html) of ``n`` different articles of about 250 words."""
    room = Newsroom(feeds=1, items=start + n, repost_every=0)
    pages = [(f"{base}/a/0/{i}.html", room.page(0, i).replace(room.base, base).encode())
             for i in range(start, start + n)]
    room._server.server_close()  # never served
    return pages


class Warc:
    """A WARC file written record by record with warcio (gzip per record or not)."""

    def __init__(self, gz: bool = True) -> None:
        from warcio.warcwriter import WARCWriter

        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=gz)
        self.offsets: list[int] = []

    def _write(self, record: Any) -> int:
        self.offsets.append(self.buffer.tell())
        self.writer.write_record(record)
        return self.offsets[-1]

    def response(self, url: str, body: bytes, *, status: str = "200 OK",
                 headers: Iterable[tuple[str, str]] = (("Content-Type", "text/html; charset=utf-8"),),
                 when: str = WHEN) -> int:
        from warcio.statusandheaders import StatusAndHeaders

        http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
        return self._write(self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": when}))

    def record(self, kind: str, url: str, body: bytes = b"x") -> int:
        from warcio.statusandheaders import StatusAndHeaders

        if kind == "revisit":
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            return self._write(self.writer.create_revisit_record(
                url, "sha1:AAAA", url, WHEN, http_headers=http))
        if kind == "request":
            http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "paper.example")],
                                    is_http_request=True)
            return self._write(self.writer.create_warc_record(url, "request", http_headers=http))
        if kind == "warcinfo":
            return self._write(self.writer.create_warcinfo_record("t.warc.gz", {"software": "t"}))
        return self._write(self.writer.create_warc_record(
            url, kind, payload=io.BytesIO(body), warc_content_type="text/plain"))

    def bytes(self) -> bytes:
        return self.buffer.getvalue()

    def save(self, path: Path) -> Path:
        path.write_bytes(self.bytes())
        return path


def read(path: Path, **kwargs: Any) -> list[archives.Record]:
    return list(archives.Reader(path, **kwargs))


def chunked(data: bytes, size: int = 700) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


# --- reading records -------------------------------------------------------------------


def test_response_records_become_fetched_pages_and_the_rest_is_counted(tmp_path: Path) -> None:
    (u0, p0), (u1, p1), (u2, p2), (u3, p3), (u4, p4) = newsroom_pages(5)
    warc = Warc()
    warc.record("warcinfo", "")
    warc.record("request", u0)
    warc.response(u0, p0)
    warc.response(u1, chunked(gzip.compress(p1)), headers=[
        ("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"),
        ("Content-Encoding", "gzip")])
    warc.response(u2, brotli.compress(p2), headers=[
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "br")])
    warc.response(u3, zlib.compress(p3), headers=[("Content-Encoding", "deflate")])  # no type
    warc.record("revisit", u0)
    warc.response(f"{HOST}/logo.png", b"\x89PNG....", headers=[("Content-Type", "image/png")])
    warc.response(f"{HOST}/gone.html", b"<html>gone</html>", status="404 Not Found")
    warc.response(f"{HOST}/moved.html", b"", status="301 Moved Permanently",
                  headers=[("Location", u0)])
    warc.response(u4, p4, when="2020-01-01T00:00:00Z")
    warc.response("https://other.example/a.html", p4)
    warc.record("metadata", u0)
    path = warc.save(tmp_path / "mixed.warc.gz")

    records = read(path, since=datetime(2026, 1, 1, tzinfo=UTC), hosts=["paper.example"])
    assert [r.kind for r in records] == [
        "warcinfo", "request", "page", "page", "page", "page", "revisit", "not_html", "status",
        "redirect", "dated_out", "filtered", "metadata"]
    pages = [r.page for r in records if r.page is not None]
    assert [p.body for p in pages] == [p0, p1, p2, p3]  # chunked, gzip, br, deflate undone
    first = pages[0]
    assert (first.url, first.hops, first.status) == (u0, [u0], 200)
    assert first.fetched_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert first.content_type == "text/html" and first.charset == "utf-8"
    # Offsets: each record starts where the one before ended, the last ends the file.
    assert [r.start for r in records] == warc.offsets
    assert all(a.end == b.start for a, b in itertools.pairwise(records))
    assert records[-1].end == path.stat().st_size
    # Read again from a record's offset: the records from there on.
    again = list(archives.Reader(path, records[5].start))
    assert [r.url for r in again] == [r.url for r in records[5:]]


def test_links_and_hosts_filter_and_an_oversized_page_is_its_rejection(tmp_path: Path) -> None:
    warc = Warc(gz=False)
    (u0, p0), (u1, p1) = newsroom_pages(2)
    warc.response(u0, p0)
    warc.response(u1.replace("paper.example", "www.paper.example"), p1)
    warc.response(f"{HOST}/tag/x.html", p1)
    bomb = gzip.compress(b"<html>" + b" " * 5_000_000)
    warc.response(f"{HOST}/bomb.html", bomb, headers=[("Content-Type", "text/html"),
                                                      ("Content-Encoding", "gzip")])
    path = warc.save(tmp_path / "plain.warc")
    kinds = [r.kind for r in read(path, links=__import__("re").compile(r"/a/|bomb"),
                                  hosts=["*.paper.example"], max_bytes=1_000_000)]
    assert kinds == ["page", "page", "filtered", "too_large"]
    assert [r.kind for r in read(path, hosts=["www.paper.example"])][:2] == ["filtered", "page"]
    bombed = read(path, max_bytes=1_000_000)[-1]
    assert bombed.error is not None and bombed.error.reason == "too_large"


def _records_of(warc: Warc) -> list[bytes]:
    data, ends = warc.bytes(), [*warc.offsets[1:], len(warc.bytes())]
    return [data[a:b] for a, b in zip(warc.offsets, ends, strict=True)]


def _damage(kind: str, gz: bool) -> tuple[bytes, list[int]]:
    """Ten pages with record 4 damaged as ``kind``; the damaged file and its offsets."""
    warc = Warc(gz=gz)
    for url, body in newsroom_pages(10):
        warc.response(url, body)
    parts = _records_of(warc)
    bad = parts[4]
    plain = gzip.decompress(bad) if gz else bad
    if kind == "corrupt":  # inside the gzip member; uncompressed, its header
        at = len(bad) // 2 if gz else 0
        bad = bad[:at] + bytes(b ^ 0x55 for b in bad[at:at + 40]) + bad[at + 40:]
    elif kind in ("long", "short"):
        import re

        found = re.search(rb"Content-Length: (\d+)", plain)
        assert found is not None
        length = int(found.group(1)) + (3000 if kind == "long" else -200)
        plain = plain.replace(found.group(0), b"Content-Length: %d" % length, 1)
        bad = gzip.compress(plain) if gz else plain
    parts[4] = bad
    if kind == "truncated":
        parts = [*parts[:9], parts[9][: len(parts[9]) // 2]]
    offsets, at = [], 0
    for part in parts:
        offsets.append(at)
        at += len(part)
    return b"".join(parts), offsets


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize(("kind", "reason", "at", "pages"), [
    ("corrupt", "warc_corrupt", 4, 9),
    ("long", "warc_corrupt", 4, 9),
    ("short", "warc_corrupt", 4, 9),
    ("truncated", "warc_truncated", 9, 9),
])
def test_a_damaged_record_is_a_rejection_and_the_rest_is_read(
    tmp_path: Path, gz: bool, kind: str, reason: str, at: int, pages: int
) -> None:
    data, offsets = _damage(kind, gz)
    path = tmp_path / ("damaged.warc.gz" if gz else "damaged.warc")
    path.write_bytes(data)
    records = read(path)
    problems = [r for r in records if r.kind == "problem"]
    assert len(problems) == 1, [(r.kind, r.error) for r in problems]
    problem = problems[0]
    assert problem.error is not None and problem.error.reason == reason
    assert problem.error.stage == "parse"
    assert problem.start == offsets[at]
    assert f"{path} offset {offsets[at]}" in problem.error.detail
    got = [r.url for r in records if r.kind == "page"]
    assert len(got) == pages and f"{HOST}/a/0/{at}.html" not in got
    assert records[-1].end == len(data)  # read to the end: the file is done


def test_not_an_archive_and_an_empty_file(tmp_path: Path) -> None:
    html = tmp_path / "page.warc.gz"
    html.write_bytes(gzip.compress(b"<html><body>not an archive</body></html>"))
    records = read(html)
    assert [(r.kind, r.error.reason if r.error else None, r.start) for r in records] == [
        ("problem", "not_warc", 0)]
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    reader = archives.Reader(empty)
    assert list(reader) == [] and reader.finished


def _arc(url: str, payload: bytes) -> bytes:
    return f"{url} 127.0.0.1 20261101100000 text/html {len(payload)}\n".encode() + payload + b"\n"


@pytest.mark.parametrize("gz", [False, True])
def test_arc_files_are_read_too(tmp_path: Path, gz: bool) -> None:
    (u0, p0), (u1, p1) = newsroom_pages(2)
    desc = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [
        f"filedesc://x.arc 0.0.0.0 20261101100000 text/plain {len(desc)}\n".encode() + desc + b"\n",
        *(_arc(u, b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + p)
          for u, p in ((u0, p0), (u1, p1)))]
    path = tmp_path / ("x.arc.gz" if gz else "x.arc")
    path.write_bytes(b"".join(gzip.compress(r) if gz else r for r in records))
    got = read(path)
    assert [r.kind for r in got] == ["warcinfo", "page", "page"]
    assert [r.page.body for r in got if r.page] == [p0, p1]
    assert got[1].page is not None and got[1].page.fetched_at == datetime(2026, 11, 1, 10,
                                                                          tzinfo=UTC)


def test_decoding_falls_back_to_bytes_that_are_html_already() -> None:
    page = b"<!DOCTYPE html><html><body>decoded by the crawler</body></html>"
    assert archives.decode_body(page, "chunked", "gzip", 1 << 20) == page
    with pytest.raises(Exception, match="bad_content_encoding"):
        archives.decode_body(b"\x00\x01garbage", "", "gzip", 1 << 20)


# --- the source kind, the paths -----------------------------------------------------------


def test_a_warc_source_is_local_files_only(tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump({"sources": [
        {"name": "crawl", "warc": "crawl/*.warc.gz", "hosts": ["*.paper.example"],
         "links": "/a/"}]}))
    source = load_config(config).sources[0]
    assert source.kind == "warc" and source.warc == [str(tmp_path / "crawl/*.warc.gz")]
    assert source.hosts == ["*.paper.example"]
    with pytest.raises(ConfigError, match="local paths or globs"):
        parse_config({"sources": [{"name": "x", "warc": "https://example.org/a.warc.gz"}]})
    with pytest.raises(ConfigError, match="hosts is for warc sources"):
        parse_config({"sources": [{"name": "x", "url": "https://e.org/f", "hosts": ["e.org"]}]})
    with pytest.raises(ConfigError, match="exactly one of"):
        parse_config({"sources": [{"name": "x", "url": "https://e.org/f", "warc": "a.warc"}]})
    with pytest.raises(ConfigError, match="download the file first"):
        archives.expand(["http://example.org/crawl.warc.gz"])
    (tmp_path / "crawl").mkdir()
    (tmp_path / "crawl" / "b.warc.gz").write_bytes(b"")
    (tmp_path / "crawl" / "a.warc.gz").write_bytes(b"")
    found = archives.expand([f"file://{tmp_path}/crawl/*.warc.gz", str(tmp_path / "**/a.*")])
    assert [p.name for p in found] == ["a.warc.gz", "b.warc.gz"]


def test_the_default_source_is_named_after_the_first_file() -> None:
    assert default_name(["/data/CC-NEWS-20240101123456-00001.warc.gz"]) == (
        "warc-cc-news-20240101123456-00001")
    assert default_name(["crawl/*.arc.gz"]) == "warc-crawl"  # the glob's own name: '*' goes
    assert default_name(["x/crawl-*.warc"]) == "warc-crawl"


# --- importing ----------------------------------------------------------------------------


def _counts(conn: psycopg.Connection[Any], sql: str, *args: Any) -> Any:
    return conn.execute(sql, args).fetchall()


def _mixed_archive(path: Path, n: int = 8) -> list[str]:
    """``n`` pages, a revisit, a request, an image, a corrupt member after the third
    page, and a truncated last record: the pages that can be imported."""
    pages = newsroom_pages(n + 2)
    warc = Warc()
    for url, body in pages[:3]:
        warc.response(url, body)
    warc.record("revisit", pages[0][0])
    warc.response(pages[n][0], pages[n][1])  # to be corrupted
    warc.record("request", pages[1][0])
    warc.response(f"{HOST}/a.png", b"\x89PNG", headers=[("Content-Type", "image/png")])
    for url, body in pages[3:n]:
        warc.response(url, body)
    warc.response(*pages[n + 1])  # to be cut short
    parts = _records_of(warc)
    bad = parts[4]
    parts[4] = bad[:30] + bytes(b ^ 0x5A for b in bad[30:80]) + bad[80:]
    parts[-1] = parts[-1][:200]
    path.write_bytes(b"".join(parts))
    return [url for url, _ in pages[:n]]


def test_importing_an_archive_twice_loads_nothing_the_second_time(
    dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "crawl-2026.warc.gz"
    urls = _mixed_archive(path)
    first = import_warc(None, dsn, [str(path)])
    assert first.source == "warc-crawl-2026"
    assert first.counts.articles_new == len(urls)
    (state,) = first.files
    assert (state.done, state.records, state.pages, state.loaded, state.errors) == (
        True, 13, len(urls), len(urls), 2)
    assert state.skipped == {"revisit": 1, "request": 1, "not_html": 1}
    # The truncated last record (200 bytes) is read again should the file grow.
    assert state.next_offset == path.stat().st_size - 200
    rows = _counts(conn, "SELECT url, source, via, found_in, first_seen_at FROM news.articles "
                   "ORDER BY article_id")
    assert sorted(r[0] for r in rows) == sorted(urls)
    assert {(r[1], r[2], r[3]) for r in rows} == {("warc-crawl-2026", "warc", str(path))}
    assert {r[4] for r in rows} == {datetime(2026, 11, 1, 10, tzinfo=UTC)}  # the WARC-Date
    rejected = _counts(conn, "SELECT stage, reason, url, detail FROM news.rejections ORDER BY reason")
    assert [(s, r) for s, r, *_ in rejected] == [("parse", "warc_corrupt"),
                                                  ("parse", "warc_truncated")]
    assert all(u.startswith(path.as_uri() + "#offset=") for _, _, u, _ in rejected)
    assert all(f"{path} offset " in d for *_, d in rejected)
    raw = _counts(conn, "SELECT count(*) FROM news.raw_pages")
    assert raw == [(len(urls),)]

    # The same file again: not read at all. A copy elsewhere: read, every page known.
    again = import_warc(None, dsn, [str(path)])
    assert again.counts.articles_new == 0 and again.counts.articles_fetched == 0
    copy = shutil.copy(path, tmp_path / "copy.warc.gz")
    third = import_warc(None, dsn, [str(copy)], source=None)
    assert third.counts.articles_new == third.counts.articles_fetched == 0
    assert third.files[0].skipped["known"] == len(urls)
    assert _counts(conn, "SELECT count(*) FROM news.articles") == [(len(urls),)]
    runs = _counts(conn, "SELECT trigger, status FROM news.runs ORDER BY started_at")
    assert runs == [("import-warc", "success")] * 3


def test_dates_bound_what_is_imported_and_other_dates_read_the_file_again(
    dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    warc = Warc()
    for i, (url, body) in enumerate(newsroom_pages(4)):
        warc.response(url, body, when=f"2026-11-0{i + 1}T12:00:00Z")
    path = warc.save(tmp_path / "days.warc.gz")
    first = import_warc(None, dsn, [str(path)], since=date(2026, 11, 2), until=date(2026, 11, 3))
    assert first.counts.articles_new == 2
    assert first.files[0].skipped == {"dated_out": 2}
    whole = import_warc(None, dsn, [str(path)])  # other dates: the file is read again
    assert whole.counts.articles_new == 2 and whole.files[0].skipped == {"known": 2}
    with pytest.raises(ConfigError, match="before"):
        import_warc(None, dsn, [str(path)], since=date(2026, 11, 3), until=date(2026, 11, 2))


def test_a_page_fetched_live_and_found_in_an_archive_is_one_article(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    (_, live), (_, archived) = newsroom_pages(2, base=server.base)
    live_url = server.static("/a/0/0.html", live)
    archived_url = server.static("/a/0/1.html", archived)
    feed = "".join(f"<item><title>t{i}</title><link>{u}</link></item>"
                   for i, u in enumerate((live_url, archived_url)))
    server.static("/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>p'
                  f"</title>{feed}</channel></rss>", "application/rss+xml")
    config = Config(settings={"allow_private_hosts": ["127.0.0.1"], "per_host_delay": 0,
                              "obey_robots": False},
                    sources=[SourceConfig(name="paper", url=f"{server.base}/feed.xml")])
    # The second page is in an archive first, under the feed's source.
    first = Warc()
    first.response(archived_url, archived)
    imported = import_warc(config, dsn, [str(first.save(tmp_path / "first.warc.gz"))],
                           source="paper")
    assert imported.source == "paper" and imported.counts.articles_new == 1
    # The pass fetches only the other one: the archived page is known.
    result = run_pass(config, dsn)
    assert result.summary["articles_new"] == 1
    fetched = [path for method, path, _ in server.requests if path.startswith("/a/")]
    assert fetched == ["/a/0/0.html"]
    # An archive holding both: nothing new.
    both = Warc()
    both.response(live_url, live)
    both.response(archived_url, archived)
    again = import_warc(config, dsn, [str(both.save(tmp_path / "both.warc.gz"))],
                        source="paper")
    assert again.counts.articles_new == 0 and again.files[0].skipped == {"known": 2}
    rows = _counts(conn, "SELECT url, via FROM news.articles ORDER BY url")
    assert rows == [(live_url, "feed"), (archived_url, "warc")]


def test_a_file_read_in_part_goes_on_where_it_stopped(
    dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """A file still being written (a truncated copy), then the whole of it."""
    warc = Warc()
    for url, body in newsroom_pages(12):
        warc.response(url, body)
    data = warc.bytes()
    path = tmp_path / "growing.warc.gz"
    path.write_bytes(data[: warc.offsets[7] + 100])  # the 8th record cut short
    part = import_warc(None, dsn, [str(path)])
    assert part.counts.articles_new == 7
    (state,) = part.files
    assert state.done and state.errors == 1 and state.next_offset == warc.offsets[7]
    path.write_bytes(data)  # the crawler finished the file
    rest = import_warc(None, dsn, [str(path)])
    assert rest.counts.articles_new == 5
    assert rest.counts.articles_fetched == 5  # the first seven were not read again
    (state,) = rest.files
    assert (state.done, state.records, state.pages, state.loaded, state.next_offset) == (
        True, 13, 12, 12, len(data))  # the truncated record's rejection counts once
    assert _counts(conn, "SELECT count(*) FROM news.articles") == [(12,)]


def test_a_killed_import_goes_on_from_its_last_stored_batch(
    dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """The CLI killed (SIGKILL) right after it saved a file's progress the second
    time, then run again: it reads the file from that offset on, and ends as one
    uninterrupted import would."""
    n = 40
    warc = Warc()
    for url, body in newsroom_pages(n):
        warc.response(url, body)
    path = warc.save(tmp_path / "big.warc.gz")
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump({"settings": {"batch_size": 5, "extract_workers": 1},
                                      "sources": [{"name": "crawl", "warc": str(path)}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_INGEST_")}
    env.update(NEWS_INGEST_HOME=str(tmp_path / "home"), NEWS_INGEST_FAILPOINT="warc.checkpoint@2")
    command = [sys.executable, "-m", "ingest.cli", "import-warc", "--source", "crawl",
               "--config", str(config), "--dsn", dsn]
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    (before,) = _counts(conn, "SELECT next_offset, done, records, loaded FROM news.warc_files")
    stored = _counts(conn, "SELECT count(*) FROM news.articles")[0][0]
    offset, done, records, loaded = before
    assert not done and records < n and offset == warc.offsets[records], before
    # Every page the offset passed is stored (others may be: a batch stored after it).
    assert stored >= loaded >= records, (stored, before)
    del env["NEWS_INGEST_FAILPOINT"]
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    (row,) = _counts(conn, "SELECT next_offset, done, records, pages FROM news.warc_files")
    assert row == (path.stat().st_size, True, n, n)
    assert _counts(conn, "SELECT count(*) FROM news.articles") == [(n,)]
    runs = _counts(conn, "SELECT status, entries_seen FROM news.runs ORDER BY started_at")
    assert [s for s, _ in runs] == ["aborted", "success"], runs
    assert runs[1][1] == n - records, (runs, before)  # the records before it: not read again


def test_a_configured_warc_source_is_read_by_every_pass(
    dsn: str, conn: psycopg.Connection[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    config = parse_config({"sources": [{"name": "crawl", "warc": f"{drop}/*.warc.gz"}]})
    assert run_pass(config, dsn).counts[0].feed_status == "no_files"
    pages = newsroom_pages(4)
    for n, chunk in enumerate((pages[:2], pages[2:])):
        warc = Warc()
        for url, body in chunk:
            warc.response(url, body)
        warc.save(drop / f"{n}.warc.gz")
        result = run_pass(config, dsn)
        assert result.summary["articles_new"] == 2  # the new file; the old one is not read
        assert result.summary["status"] == "success"
    assert _counts(conn, "SELECT count(*), count(DISTINCT found_in) FROM news.articles") == [(4, 2)]
    feed_state = _counts(conn, "SELECT count(*) FROM news.feed_state")
    assert feed_state == [(0,)]  # an archive source has no feed to remember

    from ingest.console import print_source

    print_source(config.source("crawl"), dsn)  # news-ingest sources show crawl
    shown = capsys.readouterr().out
    assert "not read yet" not in shown
    assert f"{drop}/0.warc.gz" in shown and shown.count("imported") == 2


@pytest.mark.skipif(not (CORPUS / "scrapinghub_aeb").is_dir(), reason="needs ../shared/corpus")
def test_real_pages_from_the_corpus(dsn: str, conn: psycopg.Connection[Any],
                                    tmp_path: Path) -> None:
    from ingest.demo.corpus import load_corpus

    warc = Warc()
    chosen = load_corpus(CORPUS / "scrapinghub_aeb", limit=12)
    for page in chosen:
        warc.response((page.truth or {})["url"], page.path.read_bytes(),
                      headers=[("Content-Type", "text/html")])
    path = warc.save(tmp_path / "aeb.warc.gz")
    config = Config(settings={"min_words": 0}, sources=[SourceConfig(
        name="aeb", warc=[str(path)], expect="any", gate_max_rejected_share=1)])
    result = import_warc(config, dsn, source="aeb")
    state = result.files[0]
    assert state.pages == len(chosen) and state.done
    loaded = _counts(conn, "SELECT count(*) FROM news.articles")[0][0]
    assert loaded == result.counts.articles_new == state.loaded >= len(chosen) - 2


def test_the_command(dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.cli import main

    warc = Warc()
    for url, body in newsroom_pages(3):
        warc.response(url, body)
    path = warc.save(tmp_path / "cli.warc.gz")
    monkeypatch.chdir(tmp_path)  # no sources.yml here: built-in settings
    assert main(["import-warc", "https://example.org/x.warc.gz", "--dsn", dsn]) == 2
    assert "local files only" in capsys.readouterr().err
    assert main(["import-warc", str(tmp_path / "none-*.warc.gz"), "--dsn", dsn]) == 2
    assert "no file matches" in capsys.readouterr().err
    assert main(["import-warc", str(tmp_path / "*.warc.gz"), "--dsn", dsn]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 3 record(s), 3 page(s), 3 loaded; skipped: none; 0 damaged part(s); done" in out
    assert main(["import-warc", str(path), "--dsn", dsn]) == 0
    assert "imported before" in capsys.readouterr().out


# --- the DAG ------------------------------------------------------------------------------


def test_the_import_dag_parses_light_and_maps_a_task_per_file() -> None:
    code = f"""
import sys, time
import airflow.sdk
before = set(sys.modules)
import runpy
runpy.run_path({str(ROOT / "dags" / "news_import_warc.py")!r})
heavy = sorted(m for m in set(sys.modules) - before
               if m.split('.')[0] in ("trafilatura", "warcio", "psycopg", "pandas", "httpx"))
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()
    assert out[-1:] in ([], [""]), f"heavy imports at parse time: {out[-1]}"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "news_import_warc.py"), safe_mode=False)
    assert bag.import_errors == {}
    dag = bag.dags["news_import_warc"]
    assert set(dag.params) >= {"files", "source", "since", "until", "config"}
    assert set(dag.task_dict) == {"files", "import_file"}
    task = dag.task_dict["import_file"]
    assert task.map_index_template and "file" in task.map_index_template
    assert task.pool == os.environ.get("NEWS_INGEST_IMPORT_POOL", "default_pool")
    assert task.on_failure_callback
    assert dag.schedule is None and dag.catchup is False


def test_counts_by_kind_add_up(tmp_path: Path) -> None:
    path = tmp_path / "m.warc.gz"
    _mixed_archive(path)
    kinds = Counter(r.kind for r in read(path))
    assert kinds == {"page": 8, "revisit": 1, "request": 1, "not_html": 1, "problem": 2}


@pytest.mark.slow
def test_the_import_dag_runs_a_task_per_file(airflow_db: None, dsn: str, conn: psycopg.Connection[Any],
                                             tmp_path: Path) -> None:
    import json

    from airflow.dag_processing.dagbag import DagBag

    pages = newsroom_pages(4)
    for n in range(2):
        warc = Warc()
        for url, body in pages[2 * n: 2 * n + 2]:
            warc.response(url, body)
        warc.save(tmp_path / f"part-{n}.warc.gz")
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"] = json.dumps(
        {"conn_type": "postgres", "host": info["host"], "login": info.get("user", "postgres"),
         "schema": info["dbname"]})
    try:
        bag = DagBag(dag_folder=str(ROOT / "dags" / "news_import_warc.py"), safe_mode=False)
        dag = bag.dags["news_import_warc"]
        for task in dag.tasks:
            task.retries = 0
        run = dag.test(run_conf={"files": str(tmp_path / "part-*.warc.gz")})
    finally:
        del os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"]
    assert run.state == "success"
    rows = _counts(conn, "SELECT source, count(*) FROM news.articles GROUP BY 1 ORDER BY 1")
    assert rows == [("warc-part-0", 2), ("warc-part-1", 2)]
    runs = _counts(conn, "SELECT trigger, status FROM news.runs")
    assert runs == [("airflow", "success")] * 2
    assert _counts(conn, "SELECT count(*) FROM news.warc_files WHERE done") == [(2,)]
