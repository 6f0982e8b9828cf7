"""``news-ingest export-warc``: the warehouse's raw pages as one WARC file, for other
tools (pywb, a search engine's indexer, another warehouse's ``import-warc``).

Each stored page becomes a ``response`` record at its first fetch's time and URL:

- a page the WARC raw store holds is copied as it was written there (its record, gzip
  member and all: the HTTP status and headers it was fetched with), after its body is
  checked against the sha256 it is stored under;
- a page kept in the database becomes a new record with the status 200 and the
  ``Content-Type`` it was stored with (the database keeps no other header), followed
  by the request that fetched it.

The file is gzipped per record (as CC-NEWS ships them), starts with a ``warcinfo``
record, and is written whole or not at all (a temporary file, renamed at the end).
Pages are read a few at a time (a server-side cursor): memory does not grow with the
export. A page that cannot be read back is left out, logged and counted.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg

from ingest import rawstore
from ingest.rawstore import RawPage

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ExportResult:
    path: Path
    pages: int = 0
    copied: int = 0  # of those, records copied from the WARC raw store
    unreadable: int = 0
    bytes: int = 0


def export_warc(
    conn: psycopg.Connection[Any], path: Path, *, source: str | None = None,
    since: date | None = None, until: date | None = None, user_agent: str = "",
) -> ExportResult:
    """Write the raw pages first fetched from ``since`` to ``until`` (whole UTC days)
    whose records belong to ``source`` (its articles' pages and its rejected pages),
    or all of them, to the WARC file ``path``."""
    where: list[str] = []
    params: list[Any] = []
    if source is not None:
        where.append("(r.sha256 IN (SELECT raw_sha256 FROM news.articles WHERE source = %s) "
                     "OR r.first_url IN (SELECT url FROM news.rejections WHERE source = %s))")
        params += [source, source]
    if since is not None:
        where.append("r.first_fetched_at >= %s")
        params.append(datetime.combine(since, time(), UTC))
    if until is not None:
        where.append("r.first_fetched_at < %s")
        params.append(datetime.combine(until + timedelta(days=1), time(), UTC))
    query = (f"SELECT {', '.join('r.' + c for c in rawstore.BODY_COLUMNS.split(', '))}, "
             "r.content_type, r.encoding, r.first_url, r.first_fetched_at "
             "FROM news.raw_pages r" + (f" WHERE {' AND '.join(where)}" if where else "")
             + " ORDER BY r.first_fetched_at, r.sha256")
    result = ExportResult(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with conn.transaction(), partial.open("wb") as out:
        rawstore.write_warcinfo(out, path.name)
        with conn.cursor(name="export_warc") as cursor:
            cursor.itersize = 64
            cursor.execute(query, params)
            for row in cursor:
                _page(out, row, result, user_agent)
        out.flush()
        os.fsync(out.fileno())
        result.bytes = out.tell()
    partial.rename(path)
    return result


def _page(out: Any, row: tuple[Any, ...], result: ExportResult, user_agent: str) -> None:
    (sha, body_zlib, warc_file, offset, length, content_type, encoding, url,
     fetched_at) = row
    try:
        if body_zlib is None and warc_file is not None:
            member = rawstore.member(warc_file, offset, length)
            rawstore.check(sha, rawstore.payload(member, warc_file, offset), warc_file, offset)
            out.write(member)
            result.copied += 1
        else:
            body = rawstore.body_of(sha, body_zlib, warc_file, offset, length)
            page = RawPage.of(body, content_type, encoding, url, fetched_at)
            out.write(rawstore.records_of(page, user_agent)[0])
    except rawstore.RawStoreError as exc:
        log.error("raw page %s of %s left out: %s", sha[:12], url, exc)
        result.unreadable += 1
        return
    result.pages += 1
