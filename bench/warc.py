"""Importing a web archive: pages/s end to end, beside trafilatura alone.

    .venv/bin/python bench/warc.py [--pages N] [--workers W]
    .venv/bin/python bench/warc.py --readers      # warcio against FastWARC, reading only

Writes the pages of ../shared/corpus (scrapinghub_aeb, trafilatura_eval,
mozilla_readability, wcxb_dev: about 2,300) into a WARC, one gzip member per
response record, each under a URL of its own, and imports it with
``news-ingest import-warc``'s code into a fresh embedded PostgreSQL. It prints
the pages imported per second end to end (reading, extraction in the process
pool, page types, validation, de-duplication, load) and, in the same run,
trafilatura alone in one process on the same page bytes with the same settings
(timed before and after the import and averaged, as bench/e2e.py does), the
ratio of the two, and the bytes ``news.raw_pages`` takes per 1,000 pages (the
compressed bodies, and the table with its TOAST and index). Then the same import
with ``raw_store: warc`` into another database: its time, and the bytes of its WARC
files and of its (pointer-only) table per 1,000 pages.

``--readers`` times reading the same WARC with warcio (the reader chosen, see
ingest/archives.py) and FastWARC (if installed: ``pip install fastwarc==2.0.1``):
each record's WARC headers, HTTP headers and body, best of three.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from ingest import db
from ingest.config import Config
from ingest.demo.corpus import CorpusPage, load_corpus

CORPUS = ROOT.parent / "shared" / "corpus"
NAMES = ("scrapinghub_aeb", "trafilatura_eval", "mozilla_readability", "wcxb_dev")


def pages(n: int) -> list[tuple[str, CorpusPage]]:
    found: list[tuple[str, CorpusPage]] = []
    for name in NAMES:
        folder = CORPUS / name
        if folder.is_dir():
            found += [(name, page) for page in load_corpus(folder)]
    if not found:
        sys.exit(f"no corpus under {CORPUS}")
    return found[:n] if n else found


def write_warc(chosen: list[tuple[str, CorpusPage]], path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for name, page in chosen:
            body = page.path.read_bytes()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                               ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url_of(name, page), "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2026-11-01T10:00:00Z"}))


def url_of(name: str, page: CorpusPage) -> str:
    return f"https://{name.replace('_', '-')}.example/page/{page.id}.html"


def trafilatura_alone(chosen: list[tuple[str, CorpusPage]]) -> tuple[float, int]:
    """One process, the same extraction call the pipeline makes, on the same bytes."""
    import trafilatura

    bodies = [(page.path.read_bytes(), url_of(name, page)) for name, page in chosen]
    trafilatura.bare_extraction(bodies[0][0], with_metadata=True)  # imports warmed, not timed
    started = time.perf_counter()
    ok = 0
    for body, url in bodies:
        doc = trafilatura.bare_extraction(
            body, url=url, with_metadata=True, include_comments=False, include_tables=True,
            deduplicate=False,
        )
        ok += bool(doc is not None and doc.text)
    return time.perf_counter() - started, ok


def readers(path: Path) -> None:
    """Each reader in a process of its own (for its resident memory), best of three."""
    for reader in ("warcio", "fastwarc"):
        out = subprocess.run([sys.executable, __file__, "--read-with", reader, str(path)],
                             capture_output=True, text=True)
        print(out.stdout.strip() or f"{reader}: {out.stderr.strip().splitlines()[-1]}")


def read_with(reader: str, path: Path) -> None:
    def warcio() -> tuple[int, int]:
        from warcio.archiveiterator import ArchiveIterator

        n = size = 0
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                record.rec_headers.get_header("WARC-Target-URI")
                record.rec_headers.get_header("WARC-Date")
                record.http_headers.get_statuscode()
                size += len(record.raw_stream.read())
                n += 1
        return n, size

    def fastwarc() -> tuple[int, int]:
        from fastwarc.warc import ArchiveIterator, WarcRecordType

        n = size = 0
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, parse_http=True, fsspec_args=False):
                if record.record_type != WarcRecordType.response:
                    continue
                record.headers.get("WARC-Target-URI")
                record.headers.get("WARC-Date")
                record.http_headers.status_code  # noqa: B018
                size += len(record.reader.read())
                n += 1
        return n, size

    read = {"warcio": warcio, "fastwarc": fastwarc}[reader]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        n, size = read()
        times.append(time.perf_counter() - started)
    best = min(times)
    print(f"{reader:9} {n} records, {size / 1e6:.0f} MB of HTML in {best:.2f} s = "
          f"{n / best:,.0f} records/s, {size / best / 1e6:.0f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=0, help="how many pages (default: all)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--readers", action="store_true", help="time the WARC readers only")
    parser.add_argument("--read-with", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_with:
        read_with(args.read_with[0], Path(args.read_with[1]))
        return
    chosen = pages(args.pages)
    with tempfile.TemporaryDirectory(prefix="news-bench-warc-") as home:
        archive = Path(home) / "corpus.warc.gz"
        write_warc(chosen, archive)
        print(f"pages: {len(chosen)} from {CORPUS}; WARC {archive.stat().st_size / 1e6:.1f} MB "
              f"(gzip per record); cores: {os.cpu_count()}")
        if args.readers:
            readers(archive)
            return
        from ingest.import_warc import import_warc

        before, alone_ok = trafilatura_alone(chosen)
        dsn = db.embedded_dsn(Path(home))
        config = Config.model_validate({
            "settings": {"min_words": 0, "extract_workers": args.workers},
            "sources": [{"name": "corpus", "warc": str(archive), "expect": "any",
                         "gate_max_rejected_share": 1}]})
        started = time.perf_counter()
        result = import_warc(config, dsn, source="corpus")
        e2e = time.perf_counter() - started
        with db.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(octet_length(body_zlib)), 0), "
                "coalesce(sum(size), 0), pg_total_relation_size('news.raw_pages') "
                "FROM news.raw_pages").fetchone()
            conn.execute("CREATE DATABASE bench_warc_store")
        # The same import with the raw pages in WARC files (raw_store: warc)
        store = Path(home) / "store"
        in_warc = psycopg.conninfo.make_conninfo(dsn, dbname="bench_warc_store")
        warc_config = config.model_copy(update={"settings": config.settings.model_copy(
            update={"raw_store": "warc", "warc_store": str(store)})})
        started = time.perf_counter()
        import_warc(warc_config, in_warc, source="corpus")
        e2e_warc = time.perf_counter() - started
        with db.connect(in_warc, autocommit=True) as conn:
            warc_row = conn.execute(
                "SELECT count(*), pg_total_relation_size('news.raw_pages') "
                "FROM news.raw_pages").fetchone()
        store_bytes = sum(f.stat().st_size for f in store.glob("*.warc.gz"))
        after, _ = trafilatura_alone(chosen)
    assert row is not None and warc_row is not None
    raws, payload, html, table = row
    state = result.files[0]
    counts = result.counts
    alone = (before + after) / 2
    rate, alone_rate = state.pages / e2e, alone_ok / alone
    print(f"import end to end: {state.pages} pages in {e2e:.2f} s = {rate:.1f} pages/s "
          f"({counts.articles_extracted} extracted, {counts.articles_new} new articles; "
          f"rejections {dict(sorted(counts.reasons.items()))})")
    print(f"trafilatura alone: {alone_ok} texts in {alone:.2f} s = {alone_rate:.1f} pages/s "
          f"(one process; {before:.2f} s before the import, {after:.2f} s after)")
    print(f"ratio import / trafilatura-alone: {rate / alone_rate:.2f}x")
    print(f"news.raw_pages: {raws} pages, {html / 1e6:.1f} MB of HTML stored as "
          f"{payload / 1e6:.1f} MB zlib; per 1,000 pages: {payload / raws * 1000 / 1e6:.1f} MB "
          f"compressed bodies, {table / raws * 1000 / 1e6:.1f} MB with the table, TOAST "
          f"and index")
    warc_raws, warc_table = warc_row
    print(f"raw_store: warc: the same import in {e2e_warc:.2f} s = "
          f"{state.pages / e2e_warc:.1f} pages/s ({state.pages / e2e_warc / alone_rate:.2f}x "
          f"trafilatura alone, {e2e_warc / e2e:.2f} of the database store's time); "
          f"per 1,000 pages: {store_bytes / warc_raws * 1000 / 1e6:.1f} MB of WARC files "
          f"(response and request records, gzip per record), "
          f"{warc_table / warc_raws * 1000 / 1e6:.2f} MB of table and index")


if __name__ == "__main__":
    main()
