"""Where fetched pages are kept as they came: the raw store.

Every page a pass fetched is kept, so that nothing fetched is lost and records can be
derived again (``news-ingest reextract``) without fetching again. ``news.raw_pages``
has one row per distinct body (keyed by its sha256); the setting ``raw_store`` says
where the body itself lives:

- ``database`` (the default): zlib-compressed in the row (``body_zlib``);
- ``warc``: appended, as a crawler writes it, to WARC files (ISO 28500, one gzip member
  per record): the page's ``response`` record (its HTTP status and headers, the body
  as received after content decoding) followed by the ``request`` that fetched it. The
  row keeps the file and the offset and length of the response record's member, and
  ``body_zlib`` is NULL. The files live under ``$NEWS_INGEST_HOME/warc/`` or
  ``settings.warc_store``: a folder, or an fsspec URL (``s3://bucket/prefix``, with
  credentials from the environment, as fsspec and Airflow's ObjectStoragePath take
  them).

A local folder gets one file per process at a time, closed and replaced past
``warc_file_bytes``: a process appends only to its own file, and flushes it to the
disk (fsync) before the rows that point into it are committed, so that a committed
row always points at a whole record. A killed pass may leave records no row points at
(and a truncated record at the end of its file); they cost space only, and a reader
by offset never meets them. An object store cannot append: each batch's pages there
are one object of their own, written whole before the rows are committed.

A body already in ``news.raw_pages`` is not written again, in either store.
Reading (:func:`bodies`) takes either kind of row, whatever the setting is now; a
record that does not hold the body its row names (a file edited, truncated or gone)
is an error naming the file and offset, not another page's text.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http
import io
import os
import secrets
import socket
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ingest import failpoints

if TYPE_CHECKING:
    import psycopg

#: HTTP headers that described the bytes on the wire, not the body as kept (decoded).
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


#: gzip level of the records: 3 is 2.3x faster than 6 on HTML and 12% larger (as the
#: database store's zlib bodies, ingest.extract).
GZIP_LEVEL = 3


@dataclass(frozen=True, slots=True)
class Capture:
    """What a page's WARC records hold beside its URL and body: the HTTP response's
    status and headers, its time, and the User-Agent that asked for it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    content_type: str | None
    fetched_at: datetime
    user_agent: str


@dataclass(slots=True)
class RawPage:
    """A fetched page as it came, compressed, content-addressed (``news.raw_pages``).
    ``status`` and ``headers`` are its HTTP response's (kept by a WARC raw store);
    ``warc`` is where such a store put it (file, offset, length), and then the row
    holds no body."""

    sha256: str
    body_zlib: bytes | None
    size: int
    content_type: str | None
    encoding: str | None
    url: str
    fetched_at: datetime
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    warc: tuple[str, int, int] | None = None
    record: tuple[bytes, int] | None = None  # its WARC records, made ready (and the
    # response's length) by the extraction worker, for a WARC raw store

    @classmethod
    def of(cls, body: bytes, content_type: str | None, encoding: str | None, url: str,
           fetched_at: datetime, status: int = 200,
           headers: Iterable[tuple[str, str]] = ()) -> RawPage:
        return cls(hashlib.sha256(body).hexdigest(), zlib.compress(body, 6), len(body),
                   content_type, encoding, url, fetched_at, status, tuple(headers))


class RawStoreError(Exception):
    """A stored raw page cannot be read back as it was stored."""


class RawStore(Protocol):
    def rows(self, conn: psycopg.Connection[Any], pages: Sequence[RawPage]) -> list[RawPage]:
        """The rows to insert into ``news.raw_pages`` for ``pages`` (their bodies put
        wherever this store keeps them, first)."""
        ...


class DatabaseStore:
    """Bodies in the rows themselves (``body_zlib``)."""

    def rows(self, conn: psycopg.Connection[Any], pages: Sequence[RawPage]) -> list[RawPage]:
        # A page made ready for WARC files (spooled under raw_store: warc, loaded after
        # the setting changed) has its body in its record.
        return [p if p.body_zlib is not None or p.record is None else dataclasses.replace(
            p, body_zlib=zlib.compress(payload(p.record[0][:p.record[1]], p.url, 0), 6))
            for p in pages]


def is_local(location: str) -> bool:
    scheme = urlsplit(location).scheme
    return len(scheme) <= 1 or scheme == "file"  # "C:" is a drive, not a scheme


def _local_path(location: str) -> Path:
    return Path(location[len("file://"):] if location.startswith("file://") else location)


class WarcStore:
    """Bodies appended to WARC files at ``location`` (a folder or an fsspec URL)."""

    def __init__(self, location: str, file_bytes: int = 1 << 30, user_agent: str = "") -> None:
        self.location = location.rstrip("/")
        self.file_bytes = file_bytes
        self.user_agent = user_agent
        self._lock = threading.Lock()
        self._file: Path | None = None
        # What this store wrote and may not be committed yet: a batch loaded again
        # after a lost connection points at the records it wrote the first time.
        self._written: dict[str, tuple[str, int, int]] = {}

    def rows(self, conn: psycopg.Connection[Any], pages: Sequence[RawPage]) -> list[RawPage]:
        unique = list({p.sha256: p for p in pages}.values())
        if not unique:
            return []
        stored = {sha for (sha,) in conn.execute(
            "SELECT sha256 FROM news.raw_pages WHERE sha256 = ANY(%s)",
            ([p.sha256 for p in unique],))}
        fresh = [p for p in unique if p.sha256 not in stored]
        with self._lock:
            todo = [p for p in fresh if p.sha256 not in self._written]
            if todo:
                self._written.update(self._append(todo))
            where = {p.sha256: self._written[p.sha256] for p in fresh}
        failpoints.reach("rawstore.written")
        return [dataclasses.replace(p, body_zlib=None, warc=where[p.sha256]) for p in fresh]

    def _append(self, pages: Sequence[RawPage]) -> dict[str, tuple[str, int, int]]:
        if not is_local(self.location):
            return self._put_object(pages)
        folder = _local_path(self.location)
        folder.mkdir(parents=True, exist_ok=True)
        if self._file is None or not self._file.exists() or (
                self._file.stat().st_size >= self.file_bytes):
            self._file = folder / _file_name()
            with self._file.open("xb") as out:
                write_warcinfo(out, self._file.name)
        written: dict[str, tuple[str, int, int]] = {}
        with self._file.open("ab") as out:
            for page in pages:
                data, response = records_of(page, self.user_agent)
                written[page.sha256] = (str(self._file), out.tell(), response)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())  # before any row that points here is committed
        return written

    def _put_object(self, pages: Sequence[RawPage]) -> dict[str, tuple[str, int, int]]:
        import fsspec

        url = f"{self.location}/{_file_name()}"
        buffer = io.BytesIO()
        write_warcinfo(buffer, url.rsplit("/", 1)[-1])
        written: dict[str, tuple[str, int, int]] = {}
        for page in pages:
            data, response = records_of(page, self.user_agent)
            written[page.sha256] = (url, buffer.tell(), response)
            buffer.write(data)
        with fsspec.open(url, "wb") as out:  # one object, whole or not at all
            out.write(buffer.getvalue())
        return written


def open_store(settings: Any, home: Path) -> RawStore:
    """The store ``settings`` name (``raw_store``, ``warc_store``, ``warc_file_bytes``)."""
    if settings.raw_store != "warc":
        return DatabaseStore()
    from ingest.fetch import user_agent

    return WarcStore(settings.warc_store or str(home / "warc"), settings.warc_file_bytes,
                     user_agent(settings.contact_url))


def _file_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    host = "".join(c if c.isalnum() or c in "-." else "-" for c in socket.gethostname())
    return f"news-ingest-{stamp}-{host}-{os.getpid()}-{secrets.token_hex(3)}.warc.gz"


def write_warcinfo(out: Any, name: str) -> None:
    from warcio.warcwriter import WARCWriter

    from ingest import __version__

    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record(name, {
        "software": f"news-ingest/{__version__} (warcio)",
        "format": "WARC File Format 1.0",
        "description": "raw pages of a news-ingest warehouse (news.raw_pages)",
    }))


def page_records(url: str, body: bytes, capture: Capture) -> tuple[bytes, int]:
    """A page's ``response`` record and its ``request``, each a gzip member: the bytes
    and the length of the first. Pure, so that an extraction worker can make them."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    date = capture.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = [(k, v) for k, v in capture.headers if k.lower() not in _WIRE_HEADERS]
    if not any(k.lower() == "content-type" for k, _ in headers) and capture.content_type:
        headers.append(("Content-Type", capture.content_type))
    headers.append(("Content-Length", str(len(body))))
    try:
        reason = http.HTTPStatus(capture.status).phrase
    except ValueError:
        reason = "Unknown"
    plain = io.BytesIO()
    writer = WARCWriter(plain, gzip=False)
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body),
        warc_headers_dict={"WARC-Date": date},
        http_headers=StatusAndHeaders(f"{capture.status} {reason}", headers,
                                      protocol="HTTP/1.1"))
    writer.write_record(response)
    first = gzip.compress(plain.getvalue(), GZIP_LEVEL)
    plain = io.BytesIO()
    writer = WARCWriter(plain, gzip=False)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    writer.write_record(writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), length=0,
        warc_headers_dict={"WARC-Date": date,
                           "WARC-Concurrent-To": response.rec_headers["WARC-Record-ID"]},
        http_headers=StatusAndHeaders(f"GET {target} HTTP/1.1", [
            ("Host", parts.netloc), ("User-Agent", capture.user_agent), ("Accept", "*/*"),
        ], is_http_request=True)))
    return first + gzip.compress(plain.getvalue(), GZIP_LEVEL), len(first)


def records_of(page: RawPage, user_agent: str) -> tuple[bytes, int]:
    """``page``'s records (see :func:`page_records`): those its extraction worker made,
    else made now from its body."""
    if page.record is not None:
        return page.record
    return page_records(page.url, page_body(page), Capture(
        page.status, page.headers, page.content_type, page.fetched_at, user_agent))


def page_body(page: RawPage) -> bytes:
    """The body of a page in hand (not yet stored)."""
    if page.body_zlib is None:
        raise RawStoreError(f"the raw page of {page.url} has no body in hand")
    return zlib.decompress(page.body_zlib)


def member(location: str, offset: int, length: int) -> bytes:
    """The ``length`` bytes at ``offset`` of the file or object ``location``."""
    try:
        if is_local(location):
            with _local_path(location).open("rb") as source:
                source.seek(offset)
                data = source.read(length)
        else:
            import fsspec

            with fsspec.open(location, "rb") as source:
                source.seek(offset)
                data = source.read(length)
    except Exception as exc:  # OSError, fsspec's own, a credential refused
        raise RawStoreError(f"{location} at {offset}: {type(exc).__name__}: {exc}") from exc
    if len(data) != length:
        raise RawStoreError(f"{location} at {offset}: the file ends after {len(data)} of "
                            f"{length} bytes")
    return data


def payload(data: bytes, location: str, offset: int) -> bytes:
    """The HTTP body of the WARC record in the gzip member ``data``."""
    from warcio.archiveiterator import ArchiveIterator

    try:
        for record in ArchiveIterator(io.BytesIO(gzip.decompress(data))):
            body: bytes = record.content_stream().read()
            return body
    except Exception as exc:  # a bad gzip member, headers that do not parse
        raise RawStoreError(f"{location} at {offset}: {type(exc).__name__}: {exc}") from exc
    raise RawStoreError(f"{location} at {offset}: no WARC record there")


def check(sha256: str, body: bytes, location: str, offset: int | None) -> None:
    if hashlib.sha256(body).hexdigest() != sha256:
        where = f"{location} at {offset}" if offset is not None else location
        raise RawStoreError(f"{where}: the record does not hold raw page {sha256[:12]} "
                            "(the file changed after it was written?)")


def body_of(sha256: str, body_zlib: bytes | None, warc_file: str | None,
            warc_offset: int | None, warc_length: int | None) -> bytes:
    """A stored page's body, from its row of ``news.raw_pages`` (either kind), checked
    against the sha256 it is stored under."""
    if body_zlib is not None:
        body = zlib.decompress(body_zlib)
        check(sha256, body, "news.raw_pages", None)
    elif warc_file is not None and warc_offset is not None and warc_length is not None:
        body = payload(member(warc_file, warc_offset, warc_length), warc_file, warc_offset)
        check(sha256, body, warc_file, warc_offset)
    else:
        raise RawStoreError(f"raw page {sha256[:12]} has neither a body nor a WARC record")
    return body


#: The columns of news.raw_pages that :func:`body_of` takes, in its order.
BODY_COLUMNS = "sha256, body_zlib, warc_file, warc_offset, warc_length"


def bodies(conn: psycopg.Connection[Any], shas: Iterable[str]
           ) -> dict[str, tuple[bytes | RawStoreError, str | None, str]]:
    """sha256 -> (body, or why it cannot be read; encoding; first URL) of the stored
    pages among ``shas``."""
    found: dict[str, tuple[bytes | RawStoreError, str | None, str]] = {}
    rows = conn.execute(
        f"SELECT {BODY_COLUMNS}, encoding, first_url FROM news.raw_pages "
        "WHERE sha256 = ANY(%s)", (list(shas),))
    for sha, body_zlib, warc_file, offset, length, encoding, url in rows:
        try:
            found[sha] = (body_of(sha, body_zlib, warc_file, offset, length), encoding, url)
        except RawStoreError as exc:
            found[sha] = (exc, encoding, url)
    return found
