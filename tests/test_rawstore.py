"""Raw pages off the database: ``raw_store: warc`` appends every fetched page to WARC
files and ``news.raw_pages`` keeps where; reextract and export-warc read either store.
Real passes over the demo site on loopback, a real PostgreSQL, files read back with
warcio; the object store is fsspec's in-memory filesystem (no S3 can run here: the
same code path, ``fsspec.open``, with another protocol)."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from conftest import ROOT
from ingest import rawstore
from ingest.config import parse_config
from ingest.demo.site import DemoSite, sources_yaml
from ingest.load import load_articles
from ingest.pipeline import run_pass
from ingest.rawstore import RawPage
from ingest.reextract import reextract

COLUMNS = f"SELECT {rawstore.BODY_COLUMNS}, first_url FROM news.raw_pages ORDER BY sha256"


def _raw(base: str, **settings: Any) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(sources_yaml(base))
    raw["settings"].update(settings)
    return raw


def _config(base: str, **settings: Any) -> Any:
    return parse_config(_raw(base, **settings))


def _records(path: Path) -> list[tuple[str, str | None, int]]:
    """(type, target URI, offset) of every record of a WARC file, in order."""
    with path.open("rb") as source:
        iterator = ArchiveIterator(source)
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), iterator.offset)
                for r in iterator]


def _articles(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT url, title, text, published_at, raw_sha256 FROM news.articles "
                        "ORDER BY url").fetchall()


@pytest.fixture(scope="module")
def site() -> Any:
    with DemoSite() as demo:
        yield demo


def test_a_pass_keeps_its_raw_pages_in_warc_files(
    site: Any, dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    store = tmp_path / "warc"
    config = _config(site.base, raw_store="warc", warc_store=str(store))
    run_pass(config, dsn)
    rows = conn.execute(COLUMNS).fetchall()
    assert len(rows) >= 5
    assert all(body is None and file for _, body, file, *_ in rows)
    files = sorted(store.glob("*.warc.gz"))
    assert len(files) == 1  # one process, one file (far below warc_file_bytes)
    records = _records(files[0])
    assert records[0][0] == "warcinfo"
    responses = {(uri, offset) for kind, uri, offset in records if kind == "response"}
    requests = [uri for kind, uri, _ in records if kind == "request"]
    assert sorted(requests) == sorted(uri for uri, _ in responses)  # each with its request
    for sha, _, file, offset, length, url in rows:
        assert Path(file) == files[0] and (url, offset) in responses
        body = rawstore.body_of(sha, None, file, offset, length)
        assert hashlib.sha256(body).hexdigest() == sha
    # The HTTP response as fetched: its status and Content-Type, Content-Length of the body.
    with files[0].open("rb") as source:
        response = next(r for r in ArchiveIterator(source) if r.rec_type == "response")
        assert response.http_headers.get_statuscode() == "200"
        assert response.http_headers.get_header("Content-Type").startswith("text/html")
        assert int(response.http_headers.get_header("Content-Length")) == len(
            response.content_stream().read())
    stored = _articles(conn)

    size = files[0].stat().st_size
    run_pass(config, dsn)  # nothing new: nothing written
    assert sorted(store.glob("*.warc.gz")) == files and files[0].stat().st_size == size

    # Records derived again from the WARC files alone, exactly as the pass derived them.
    result = reextract(config, dsn)
    assert result.pages == len(rows) and result.unreadable == 0
    assert result.unchanged == result.records and not result.rejected
    assert _articles(conn) == stored


def test_the_same_pages_load_alike_from_either_store(
    site: Any, new_warehouse: Any, tmp_path: Path
) -> None:
    in_db, in_warc = new_warehouse(), new_warehouse()
    run_pass(_config(site.base), in_db)
    run_pass(_config(site.base, raw_store="warc", warc_store=str(tmp_path / "w")), in_warc)
    with psycopg.connect(in_db) as a, psycopg.connect(in_warc) as b:
        assert [r[:4] for r in _articles(a)] == [r[:4] for r in _articles(b)]
        shas_a = {r[0] for r in a.execute("SELECT sha256 FROM news.raw_pages")}
        assert shas_a == {r[0] for r in b.execute("SELECT sha256 FROM news.raw_pages")}
        sizes = b.execute("SELECT sum(size), count(*) FROM news.raw_pages").fetchone()
        assert sizes is not None and sizes[1] == len(shas_a)


def _page(n: int, size: int = 40_000) -> RawPage:
    body = (f"<html><title>page {n}</title><body>".encode()
            + os.urandom(size // 2).hex().encode()[:size] + b"</body></html>")
    return RawPage.of(body, "text/html", "utf-8", f"http://127.0.0.1/p/{n}.html",
                      datetime(2026, 12, 1, tzinfo=UTC), 200,
                      [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                       ("Content-Length", "17")])


def test_local_files_rotate_and_a_stored_body_is_not_written_again(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    store = rawstore.WarcStore(str(tmp_path), file_bytes=64 * 1024, user_agent="test")
    pages = [_page(n) for n in range(6)]
    for batch in (pages[:2], pages[2:4], pages[4:]):
        load_articles(conn, "r1", [], batch, store)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2  # 40 kB of random hex a page: past 64 kB after two pages
    rows = conn.execute(COLUMNS).fetchall()
    assert len(rows) == 6
    for sha, _, file, offset, length, _url in rows:
        rawstore.body_of(sha, None, file, offset, length)
    # The body as kept (decoded): no Content-Encoding, its own Content-Length.
    with files[0].open("rb") as source:
        response = next(r for r in ArchiveIterator(source) if r.rec_type == "response")
        headers = dict(response.http_headers.headers)
        assert "Content-Encoding" not in headers
        assert int(headers["Content-Length"]) == len(response.content_stream().read())

    sizes = [f.stat().st_size for f in files]
    load_articles(conn, "r2", [], pages, store)  # all stored already
    again = rawstore.WarcStore(str(tmp_path), file_bytes=64 * 1024)  # another process
    load_articles(conn, "r3", [], pages, again)
    assert [f.stat().st_size for f in sorted(tmp_path.glob("*.warc.gz"))] == sizes


def test_an_object_store_gets_one_object_per_batch(conn: psycopg.Connection[Any]) -> None:
    import fsspec

    store = rawstore.WarcStore("memory://raw-test/warc")
    load_articles(conn, "r1", [], [_page(1), _page(2)], store)
    load_articles(conn, "r2", [], [_page(3)], store)
    memory = fsspec.filesystem("memory")
    objects = memory.ls("/raw-test/warc", detail=False)
    assert len(objects) == 2
    rows = conn.execute(COLUMNS).fetchall()
    assert {file for _, _, file, *_ in rows} == {f"memory://{o.lstrip('/')}" for o in objects}
    for sha, _, file, offset, length, _url in rows:
        rawstore.body_of(sha, None, file, offset, length)


def test_a_damaged_or_missing_file_is_an_error_naming_it_not_another_page(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    store = rawstore.WarcStore(str(tmp_path))
    load_articles(conn, "r1", [], [_page(1), _page(2)], store)
    (sha1, _, file, offset1, length1, _), (sha2, _, _, offset2, length2, _) = sorted(
        conn.execute(COLUMNS).fetchall(), key=lambda r: r[3])
    # The second page's row pointed at the first page's record: refused, not misread.
    with pytest.raises(rawstore.RawStoreError, match="does not hold raw page"):
        rawstore.body_of(sha2, None, file, offset1, length1)
    data = bytearray(Path(file).read_bytes())
    data[offset2 + length2 // 2] ^= 0xFF
    Path(file).write_bytes(bytes(data))
    with pytest.raises(rawstore.RawStoreError, match=f"{file} at {offset2}"):
        rawstore.body_of(sha2, None, file, offset2, length2)
    Path(file).write_bytes(bytes(data[:offset2 + 10]))  # truncated
    with pytest.raises(rawstore.RawStoreError, match="the file ends after 10 of"):
        rawstore.body_of(sha2, None, file, offset2, length2)
    rawstore.body_of(sha1, None, file, offset1, length1)  # the record before is whole
    Path(file).unlink()
    found = rawstore.bodies(conn, [sha1, sha2])
    assert all(isinstance(body, rawstore.RawStoreError) for body, _, _ in found.values())


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingest.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300, env=env)


@pytest.mark.slow
def test_export_warc_gives_pages_that_import_to_the_same_articles(
    site: Any, new_warehouse: Any, tmp_path: Path
) -> None:
    source, target, from_warc_store = new_warehouse(), new_warehouse(), new_warehouse()
    run_pass(_config(site.base), source)
    run_pass(_config(site.base, raw_store="warc", warc_store=str(tmp_path / "store")),
             from_warc_store)
    out = tmp_path / "export.warc.gz"
    done = _cli("export-warc", "--dsn", source, "--output", str(out))
    assert done.returncode == 0, done.stderr
    with psycopg.connect(source) as conn:
        pages = conn.execute("SELECT count(*) FROM news.raw_pages").fetchone()
        stored = [r[:4] for r in _articles(conn)]
    assert pages is not None and f"{pages[0]} raw page(s)" in done.stdout
    kinds = [kind for kind, _, _ in _records(out)]
    assert kinds[0] == "warcinfo" and kinds.count("response") == pages[0]
    with gzip.open(out) as whole:  # gzip per record, and the members make one stream
        assert whole.read(9) == b"WARC/1.0\r"

    done = _cli("import-warc", "--dsn", target, "--source", "demo", str(out), "--config",
                str(_write(tmp_path, site.base)))
    assert done.returncode == 0, done.stderr
    with psycopg.connect(target) as conn:
        imported = [r[:4] for r in _articles(conn)]
    assert [r[0] for r in imported] == [r[0] for r in stored]
    assert [r[:3] for r in imported] == [r[:3] for r in stored]  # same texts and titles
    # and the same dates, but for a page that gives only a day: the archive's source has
    # no timezone, so the day starts at midnight UTC, not at the publisher's midnight
    assert all(a[3] == b[3] or (a[3].time() == datetime.min.time() and
                                abs((a[3] - b[3]).total_seconds()) < 86400)
               for a, b in zip(imported, stored, strict=True))

    # From the WARC store, the records are copied as written (headers and all).
    copy = tmp_path / "copy.warc.gz"
    done = _cli("export-warc", "--dsn", from_warc_store, "--output", str(copy),
                "--source", "korea-daily-post")
    assert done.returncode == 0, done.stderr
    with psycopg.connect(from_warc_store) as conn:
        korea = conn.execute(
            "SELECT count(DISTINCT raw_sha256) FROM news.articles "
            "WHERE source = 'korea-daily-post'").fetchone()
    assert korea is not None and korea[0] > 0
    assert f"{korea[0]} raw page(s)" in done.stdout and f"({korea[0]} copied" in done.stdout


def _write(tmp_path: Path, base: str) -> Path:
    raw = yaml.safe_load(sources_yaml(base))
    raw["sources"].append({"name": "demo", "warc": [str(tmp_path / "export.warc.gz")]})
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.slow
def test_a_pass_killed_after_writing_records_leaves_rows_that_all_read(
    site: Any, new_warehouse: Any, tmp_path: Path
) -> None:
    dsn = new_warehouse()
    raw = _raw(site.base, raw_store="warc", warc_store=str(tmp_path / "store"), batch_size=3)
    config = parse_config(raw)
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(raw))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_INGEST_")}
    env["NEWS_INGEST_HOME"] = str(tmp_path / "home")
    killed = _cli("run", "--config", str(path), "--dsn", dsn,
                  env={**env, "NEWS_INGEST_FAILPOINT": "rawstore.written@2"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    done = _cli("run", "--config", str(path), "--dsn", dsn, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    clean = new_warehouse()
    run_pass(config, clean)
    with psycopg.connect(dsn) as conn, psycopg.connect(clean) as other:
        # The same articles and texts. (Not always the same dates: a page that the demo's
        # aggregator also lists is extracted under whichever source reaches it first,
        # and a date-only page date is read in that source's timezone; see the notes.)
        assert [r[:3] for r in _articles(conn)] == [r[:3] for r in _articles(other)]
        rows = conn.execute(COLUMNS).fetchall()
        for sha, _, file, offset, length, _url in rows:
            rawstore.body_of(sha, None, file, offset, length)
        referenced = {file for _, _, file, *_ in rows}
    # the killed pass's records no row points at cost space only
    assert len(list((tmp_path / "store").glob("*.warc.gz"))) >= len(referenced)
