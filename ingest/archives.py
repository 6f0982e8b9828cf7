"""Web archives (WARC and ARC files, gzipped per record or not) as fetched pages.

A ``warc:`` source, or ``news-ingest import-warc``, reads local archive files; each
``response`` record of an HTML page with status 200 becomes a
:class:`~ingest.fetch.Fetched` (its URL the record's ``WARC-Target-URI``, its time
the ``WARC-Date``, its HTTP headers and body, chunked transfer and gzip, deflate or
brotli content encoding undone, at most ``settings.max_body_bytes`` decoded) that the
pass treats as a page it fetched (:meth:`ingest.pipeline._Ingestion.page`). Every
other record is skipped and counted by kind: ``revisit``, ``request``, ``warcinfo``,
``metadata``, ``resource``, ... (the record's type), ``not_html``, ``redirect`` (a
3xx), ``status`` (another status), ``dated_out`` (a ``WARC-Date`` outside
``--since``/``--until``), ``filtered`` (the source's ``links`` or ``hosts``).

A damaged archive is a rejection naming the file and the offset (stage ``parse``):
``not_warc`` (the file is no WARC or ARC), ``warc_corrupt`` (a gzip member that does
not inflate, a record whose ``Content-Length`` does not end where the record does,
headers that do not parse) and ``warc_truncated`` (the file ends inside a record).
Reading goes on at the next gzip member (or, uncompressed, at the next ``WARC/1.x``
line after a blank line) that starts a record, so the rest of the file is imported.

The reader runs in a thread and hands records over in small chunks
(:meth:`Reader.take`); it never holds more than a chunk's pages. Which records of a
file are dealt with is kept, in file order, by a :class:`Ledger`: its
``next_offset`` moves past a record only once it and every record before it are
loaded or rejected, and is saved in ``news.warc_files`` with the file's counts, so
that a killed import goes on from there and a file imported in full is not read
again (unless it grew: archives are appended to).

Only local files are read: an ``http(s)://`` address is refused
(:func:`expand`), and nothing here makes a request.

**The reader is warcio** (1.8.1), not FastWARC (2.0.1). Measured by
``python bench/warc.py --readers`` on a WARC of the 2,305 pages of
``../shared/corpus`` (one gzip member per record, 62 MB, 324 MB of HTML), each
record's WARC headers, HTTP headers and body read, best of three, one core:
FastWARC 0.50 s (4,626 records/s), warcio 1.03 s (2,238 records/s). In the same
file's import (``bench/warc.py``: 29.2 pages/s end to end, 34 ms a page on two
cores), warcio's reading is 0.45 ms a page, 1.3% of it: FastWARC would save 0.7%.
On damaged files the two differ where it matters here: with a ``Content-Length``
too large in one record of a gzip-per-record file, FastWARC read on through the
next five gzip members and returned them as that record's body (five pages lost,
silently), and with one too small it stopped the file ("Invalid WARC header");
warcio reads each member apart (the bad record is noticed, the others come), and
exposes each record's offset and its stream's remaining length, which are what
resuming and telling truncation from corruption need. FastWARC 2.0 does not read
ARC files ("Invalid WARC header"), warcio does. Both stop at a corrupt gzip member
and say nothing of a truncated last record: the resynchronisation and the
truncation check here are ours. warcio is pure Python and needs only ``six``.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import io
import logging
import re
import zlib
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg.types.json import Jsonb

from ingest.errors import ConfigError, ItemError, ParseError, PermanentFetchError
from ingest.fetch import HTML_TYPES, Fetched, require_html

log = logging.getLogger(__name__)

REASONS = ("not_warc", "warc_corrupt", "warc_truncated")
#: Content types read to see whether they are HTML after all (servers that do not say).
_MAYBE_HTML = ("", "text/plain", "application/octet-stream")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GZIP = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"WARC/1\.[01]\r?\n")
_ARC_LINE = re.compile(rb"(filedesc://|[a-z][a-z0-9+.-]*:\S* \S+ \d{14} \S* \d+\r?\n)", re.I)
_GZIP_START = re.compile(b"(\x1f\x8b\x08)")
_WARC_START = re.compile(rb"\n\r?\n(WARC/1\.[01]\r?\n)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_SCAN = 1 << 20  # bytes read at a time when looking for the next record


def expand(patterns: Sequence[str]) -> list[Path]:
    """The files that paths or globs (``**`` too) name, sorted, each once. An
    ``http(s)://`` address is refused: archives are read from local files only."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        local = local_pattern(pattern)
        matches = (glob.glob(local, recursive=True) if glob.has_magic(local)
                   else [local] if Path(local).exists() else [])
        for match in sorted(matches):
            path = Path(match).resolve()
            if path.is_file():
                found.setdefault(str(path), path)
    return sorted(found.values())


def local_pattern(pattern: str) -> str:
    """A path or glob as given (``file://`` stripped, ``~`` expanded); raises
    :class:`ConfigError` for any other address."""
    if pattern.lower().startswith("file://"):
        pattern = pattern[len("file://"):]
    elif _SCHEME.match(pattern):
        raise ConfigError(
            f"{pattern}: archives are read from local files only (nothing is downloaded "
            "to import them): download the file first and give its path")
    return str(Path(pattern).expanduser())


def location(path: Path | str, offset: int) -> str:
    """Where a record is, for its rejection's ``url``: ``file:///...#offset=N``."""
    return f"{Path(path).resolve().as_uri()}#offset={offset}"


# --- records ------------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """One record of an archive, as an import deals with it."""

    start: int  # its offset in the file
    end: int  # where the next record starts
    kind: str  # "page", "problem", or why it is skipped (see the module docstring)
    url: str | None = None
    page: Fetched | None = None  # kind "page": the response, as if fetched
    error: ItemError | None = None  # "problem": the archive's; else the page's rejection

    @property
    def size(self) -> int:
        return len(self.page.body) if self.page is not None else 0


@functools.cache
def _iterator() -> Any:
    """warcio's iterator, which says (instead of printing) when a record is not
    followed by the blank lines that end it: its ``Content-Length`` is wrong."""
    from warcio.archiveiterator import ArchiveIterator

    class Records(ArchiveIterator):  # type: ignore[misc]
        misframed = False

        def _consume_blanklines(self) -> tuple[bytes | None, int]:
            empty, first = 0, True
            while True:
                line = self.reader.readline()
                if not line:
                    return None, empty
                if not line.rstrip() or first:
                    empty += len(line)
                    self.misframed |= bool(line.rstrip())
                    first = False
                    continue
                return line, empty

    return Records


class Reader:
    """The records of one file from ``start`` on, a chunk at a time (:meth:`take`,
    blocking: call it from a thread)."""

    def __init__(
        self, path: Path, start: int = 0, *, max_bytes: int = 10 << 20,
        since: datetime | None = None, until: datetime | None = None,
        links: re.Pattern[str] | None = None, hosts: Sequence[str] | None = None,
    ) -> None:
        self.path, self.start, self.max_bytes = path, start, max_bytes
        self.since, self.until, self.links = since, until, links
        self.hosts = [h.lower() for h in hosts] if hosts else None
        self.size = path.stat().st_size
        self.finished = False  # read to the end of the file
        self._records: Generator[Record, None, None] = self._read()

    def take(self, n: int = 64, max_bytes: int = 8 << 20) -> list[Record]:
        """The next records: at most ``n``, or fewer holding ``max_bytes`` of pages;
        none at the end."""
        out: list[Record] = []
        held = 0
        for record in self._records:
            out.append(record)
            held += record.size
            if len(out) >= n or held >= max_bytes:
                break
        return out

    def close(self) -> None:
        self._records.close()

    def __iter__(self) -> Iterator[Record]:
        return self._records

    def _read(self) -> Generator[Record, None, None]:
        with self.path.open("rb") as fh:
            head = _head(fh)
            if not head.strip(b"\r\n\t \x00"):
                self.finished = True  # an empty file: nothing to read
                return
            if not (_WARC_LINE.match(head) or _ARC_LINE.match(head)):
                what = "gzip data" if head[:1] == b"\x1f" else repr(head[:40])[2:-1]
                yield self._problem(0, self.size, "not_warc",
                                    f"neither WARC nor ARC (it starts with {what})")
                self.finished = True
                return
            fh.seek(0)
            gz = fh.read(2) == _GZIP[:2]
            pos = self.start
            while pos < self.size:
                fh.seek(pos)
                records = _iterator()(fh, arc2warc=True)
                bad: Record | None = None
                try:
                    for raw in records:
                        record = self._record(raw, records, pos, fh, gz)
                        if record.kind == "problem":
                            bad = record
                            break
                        pos = record.end
                        yield record
                except Exception as exc:  # a record the parser cannot read: say so, go on
                    bad = self._damaged(fh, pos, _next_start(fh, pos + 1, gz), gz, exc)
                else:
                    if bad is not None:
                        # A record that does not end where it says: read on at the next
                        # record after its start (a Content-Length too large hides some).
                        after = _next_start(fh, bad.start + 1, gz)
                        bad.end = self.size if after is None else after
                    elif _has_data(fh, pos):  # the parser stopped short of the end
                        bad = self._damaged(fh, pos, _next_start(fh, pos + 1, gz), gz, None)
                    else:
                        break
                yield bad
                pos = bad.end
        self.finished = True

    def _damaged(self, fh: Any, at: int, after: int | None, gz: bool,
                 exc: BaseException | None) -> Record:
        end = after if after is not None else self.size
        member = _member(fh, at) if gz else None
        if member == "truncated" or (after is None and not gz):
            return self._problem(at, end, "warc_truncated", "the file ends inside the record")
        why = (f"its gzip member does not inflate ({member})" if member not in (None, "complete")
               else _why(exc) if exc is not None else "unreadable record")
        return self._problem(at, end, "warc_corrupt", why + (
            f"; read on at offset {after}" if after is not None else "; nothing after it"))

    def _problem(self, start: int, end: int, reason: str, detail: str) -> Record:
        return Record(start, end, "problem",
                      error=ParseError(reason, f"{self.path} offset {start}: {detail}"))

    def _record(self, raw: Any, records: Any, start: int, fh: Any, gz: bool) -> Record:
        headers = raw.rec_headers
        url = headers.get_header("WARC-Target-URI")
        kind = raw.rec_type or "unknown"
        record = Record(start, start, "warcinfo" if kind == "arc_header" else kind, url)
        if kind == "response" and raw.length is not None:
            self._response(raw, record, _warc_date(headers.get_header("WARC-Date")))
        records.read_to_end()
        record.end = records.offset
        left = getattr(raw.raw_stream, "limit", 0)
        if record.end >= self.size and (left > 0 or raw.length is None) and (
                not gz or _member(fh, start) == "truncated"):
            return self._problem(start, record.end, "warc_truncated",
                                 "the file ends inside the record" + (
                                     f", {left} bytes short of its end" if left else ""))
        if raw.length is None:
            return self._problem(start, record.end, "warc_corrupt",
                                 "a record without a Content-Length")
        if left > 0:
            return self._problem(start, record.end, "warc_corrupt",
                                 f"its Content-Length {raw.length} runs {left} bytes past "
                                 "its gzip member")
        if records.misframed:
            return self._problem(start, record.end, "warc_corrupt",
                                 f"the record goes on after its Content-Length {raw.length}")
        return record

    def _response(self, raw: Any, record: Record, when: datetime | None) -> None:
        """Make ``record`` a page, or say why it is skipped (its ``kind``)."""
        http = raw.http_headers
        url = record.url or ""
        if http is None or urlsplit(url).scheme.lower() not in ("http", "https"):
            record.kind = "not_http"
            return
        if when is not None and ((self.since is not None and when < self.since)
                                 or (self.until is not None and when > self.until)):
            record.kind = "dated_out"
            return
        if not self._chosen(url):
            record.kind = "filtered"
            return
        status = _status(http.get_statuscode())
        if status != 200:
            record.kind = "redirect" if status in _REDIRECTS else "status"
            return
        ctype = (http.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype not in HTML_TYPES and ctype not in _MAYBE_HTML:
            record.kind = "not_html"
            return
        body = raw.raw_stream.read(self.max_bytes + 1)
        try:
            if len(body) > self.max_bytes:
                raise PermanentFetchError("too_large", f"body exceeds {self.max_bytes} bytes")
            body = decode_body(body, http.get_header("Transfer-Encoding") or "",
                               http.get_header("Content-Encoding") or "", self.max_bytes)
        except ItemError as exc:
            record.kind, record.error = exc.reason, exc
            exc.detail = f"{exc.detail} ({url} in {self.path} offset {record.start})"
            return
        fields = httpx.Headers([(k.encode("latin-1", "replace"), v.encode("latin-1", "replace"))
                                for k, v in http.headers])
        fetched = Fetched(url=url, hops=[url], status=200, headers=fields, body=body,
                          fetched_at=when or datetime.now(UTC), elapsed=0.0)
        try:
            require_html(fetched)
        except ItemError:
            record.kind = "not_html"
            return
        record.kind, record.page = "page", fetched

    def _chosen(self, url: str) -> bool:
        if self.links is not None and not self.links.search(url):
            return False
        if self.hosts is None:
            return True
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or (h.startswith("*.") and (host == h[2:] or host.endswith(h[1:])))
                   for h in self.hosts)


def _status(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _head(fh: Any, size: int = 512) -> bytes:
    """The first bytes of the file's first record (inflated when gzipped)."""
    fh.seek(0)
    data = fh.read(64 << 10)
    if data[:2] == _GZIP[:2]:
        with contextlib.suppress(zlib.error):
            return bytes(zlib.decompressobj(31).decompress(data, size))
        return bytes(data[:size])
    return bytes(data.lstrip(b"\r\n")[:size])


def _has_data(fh: Any, at: int) -> bool:
    """Whether anything but blank lines and padding follows ``at``."""
    fh.seek(at)
    while chunk := fh.read(_SCAN):
        if chunk.strip(b"\r\n\t \x00"):
            return True
    return False


def _member(fh: Any, at: int) -> str:
    """Whether the gzip member at ``at`` inflates to its end: ``complete``,
    ``truncated`` (the file ends first), or zlib's complaint."""
    here = fh.tell()
    fh.seek(at)
    inflater = zlib.decompressobj(31)
    try:
        while not inflater.eof:
            chunk = fh.read(64 << 10)
            if not chunk:
                return "truncated"
            inflater.decompress(chunk, 1 << 16)
            while inflater.unconsumed_tail and not inflater.eof:
                inflater.decompress(inflater.unconsumed_tail, 1 << 16)
    except zlib.error as exc:
        return str(exc)
    finally:
        fh.seek(here)
    return "complete"


def _why(exc: BaseException) -> str:
    """An exception in a line, without the binary a parser quotes."""
    message = str(exc).split(", first line", 1)[0]
    message = "".join(c if c.isprintable() else "?" for c in " ".join(message.split()))
    return f"{type(exc).__name__}: {message[:200]}"


def _next_start(fh: Any, after: int, gz: bool) -> int | None:
    """The offset of the next record at or after ``after``: a gzip member that
    inflates to a WARC or ARC header, or (uncompressed) a ``WARC/1.x`` line after a
    blank line."""
    fh.seek(after)
    base, carry = after, b""
    while True:
        chunk = fh.read(_SCAN)
        if not chunk:
            return None
        data = carry + chunk
        start = base - len(carry)
        for match in (_GZIP_START if gz else _WARC_START).finditer(data):
            at = start + match.start(1)
            if at < after:
                continue
            if not gz or _starts_record(fh, at):
                return at
        carry = data[-64:]
        base += len(chunk)
        fh.seek(base)


def _starts_record(fh: Any, at: int) -> bool:
    here = fh.tell()
    fh.seek(at)
    try:
        head = zlib.decompressobj(31).decompress(fh.read(8 << 10), 256)
    except zlib.error:
        return False
    finally:
        fh.seek(here)
    return bool(_WARC_LINE.match(head) or _ARC_LINE.match(head))


# --- HTTP payloads ------------------------------------------------------------------


def decode_body(raw: bytes, transfer: str, encoding: str, limit: int) -> bytes:
    """An HTTP payload as stored (chunked, compressed) made the page's bytes, at most
    ``limit`` of them (``too_large``); an encoding that does not decode is
    ``bad_content_encoding``, unless the bytes are HTML already (the crawler decoded
    them and kept the header)."""
    if "chunked" in transfer.lower():
        raw = _dechunk(raw) or raw  # not chunked after all: the crawler undid it
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", "none"):
            continue
        try:
            raw = _inflate(raw, coding, limit)
        except (zlib.error, OSError, ValueError) as exc:
            if _looks_html(raw):
                return raw
            raise PermanentFetchError("bad_content_encoding",
                                      f"{coding}: {' '.join(str(exc).split())[:200]}") from None
    return raw


def _inflate(data: bytes, coding: str, limit: int) -> bytes:
    if coding in ("gzip", "x-gzip", "deflate"):
        wbits = 47 if coding != "deflate" else 15  # 47: gzip or zlib header
        try:
            out = zlib.decompressobj(wbits).decompress(data, limit + 1)
        except zlib.error:
            if coding != "deflate":
                raise
            out = zlib.decompressobj(-15).decompress(data, limit + 1)  # raw deflate
    elif coding == "br":
        import brotli

        try:
            out = brotli.Decompressor().process(data, output_buffer_limit=limit + 1)
        except brotli.error as exc:
            raise ValueError(str(exc)) from None
    else:
        raise ValueError(f"unknown content coding {coding!r}")
    if len(out) > limit:
        raise PermanentFetchError("too_large", f"body exceeds {limit} bytes once decoded")
    return out


def _dechunk(data: bytes) -> bytes | None:
    """A chunked body's data; None when it is not chunked. A body cut short keeps
    what it holds."""
    out: list[bytes] = []
    stream = io.BytesIO(data)
    while True:
        line = stream.readline(1024)
        if not line:
            break
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            return None if not out else b"".join(out)
        if size == 0:
            break
        out.append(stream.read(size))
        stream.readline(8)
    return b"".join(out) if out else None


def _looks_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<!--", b"<head", b"<body"))


# --- progress: news.warc_files -----------------------------------------------------


@dataclass(slots=True)
class FileState:
    """A file's row of ``news.warc_files``: how far its import got."""

    path: str
    source: str
    size: int
    mtime: datetime
    next_offset: int = 0
    done: bool = False
    records: int = 0
    pages: int = 0
    loaded: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    run_id: str | None = None  # the run that last read it
    scope: str = ""  # the filters it was read with (:func:`scope`)


_COLUMNS = ("path", "source", "size", "mtime", "next_offset", "done", "records", "pages",
            "loaded", "skipped", "errors", "run_id", "scope")


def scope(since: datetime | None, until: datetime | None, links: str | None,
          hosts: Sequence[str] | None) -> str:
    """The filters a file is read with, in a line: a file done with some is read
    again with others (what they let through may be new)."""
    parts = [f"since {since.isoformat()}" if since else "",
             f"until {until.isoformat()}" if until else "",
             f"links {links}" if links else "", f"hosts {','.join(hosts)}" if hosts else ""]
    return "; ".join(p for p in parts if p)


def open_file(conn: psycopg.Connection[Any], path: Path, source: str, run_id: str,
              filters: str = "") -> FileState | None:
    """A file's progress, to read it from ``next_offset`` on; None when it was
    imported in full with the same ``filters`` and has not changed since. A file that
    grew goes on where it stopped (archives are appended to); one now shorter than
    that, or read with other filters, is read anew."""
    stat = path.stat()
    size, mtime = stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
    row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM news.warc_files WHERE path = %s",
                       (str(path),)).fetchone()
    state = FileState(*row) if row is not None else None
    if state is not None and state.scope != filters:
        state = None
    if state is not None and state.done and state.size == size and state.mtime == mtime:
        return None
    if state is None or size < state.next_offset:
        state = FileState(str(path), source, size, mtime, scope=filters)
    state.source, state.size, state.mtime, state.done = source, size, mtime, False
    state.run_id = run_id
    with conn.transaction():
        conn.execute(
            f"""INSERT INTO news.warc_files ({', '.join(_COLUMNS)}, started_at, updated_at)
                VALUES ({', '.join(['%s'] * len(_COLUMNS))}, now(), now())
                ON CONFLICT (path) DO UPDATE SET source = EXCLUDED.source,
                    size = EXCLUDED.size, mtime = EXCLUDED.mtime,
                    next_offset = EXCLUDED.next_offset, done = false,
                    records = EXCLUDED.records, pages = EXCLUDED.pages,
                    loaded = EXCLUDED.loaded, skipped = EXCLUDED.skipped,
                    errors = EXCLUDED.errors, run_id = EXCLUDED.run_id,
                    scope = EXCLUDED.scope, updated_at = now(), finished_at = NULL""",
            _values(state))
    return state


def save(conn: psycopg.Connection[Any], state: FileState) -> None:
    """The file's progress so far (after a flush: what it counts is stored)."""
    with conn.transaction():
        conn.execute(
            """UPDATE news.warc_files SET next_offset = %s, done = %s, records = %s,
                   pages = %s, loaded = %s, skipped = %s, errors = %s, updated_at = now(),
                   finished_at = CASE WHEN %s THEN now() END
               WHERE path = %s""",
            (state.next_offset, state.done, state.records, state.pages, state.loaded,
             Jsonb(state.skipped), state.errors, state.done, state.path))


def states(conn: psycopg.Connection[Any], paths: Sequence[Path]) -> list[FileState]:
    """The rows of these files, in their order (those never read left out)."""
    rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM news.warc_files "
                        "WHERE path = ANY(%s)", ([str(p) for p in paths],)).fetchall()
    by_path = {row[0]: FileState(*row) for row in rows}
    return [by_path[str(p)] for p in paths if str(p) in by_path]


def _values(state: FileState) -> tuple[Any, ...]:
    return tuple(Jsonb(state.skipped) if c == "skipped" else getattr(state, c)
                 for c in _COLUMNS)


@dataclass(slots=True)
class Mark:
    """A record in a :class:`Ledger`: settled once loaded, rejected or skipped."""

    seq: int
    end: int
    kind: str  # the record's kind when it settled (page, known, a skip, problem)
    page: bool  # an HTML response taken (counted in ``pages``)
    settled: bool = False


class Ledger:
    """Which records of a file are dealt with, in file order. ``next_offset`` moves
    past a record only when it and every record before it are (:meth:`ready` before
    a flush, :meth:`commit` after it), with the counts of those records."""

    def __init__(self, state: FileState) -> None:
        self.state = state
        self.loaded_before = state.loaded
        self._marks: deque[Mark] = deque()
        self._seq = 0

    def add(self, record: Record) -> Mark:
        page = record.kind in ("page", "known", "duplicate", "too_large",
                               "bad_content_encoding")
        cut = record.error is not None and record.error.reason == "warc_truncated"
        # A record cut short is read again if the file grows (it was being written).
        mark = Mark(self._seq, record.start if cut else record.end, record.kind, page)
        self._seq += 1
        self._marks.append(mark)
        return mark

    def ready(self) -> int:
        """The sequence number up to which (not included) every record is settled."""
        for mark in self._marks:
            if not mark.settled:
                return mark.seq
        return self._seq

    def commit(self, upto: int, loaded: int) -> None:
        """The records before ``upto`` are stored: count them, move past them.
        ``loaded``: new articles since the file was opened."""
        state = self.state
        while self._marks and self._marks[0].seq < upto:
            mark = self._marks.popleft()
            state.next_offset = max(state.next_offset, mark.end)
            state.records += 1
            state.pages += mark.page
            if mark.kind == "problem":
                state.errors += 1
            elif mark.kind != "page":
                state.skipped[mark.kind] = state.skipped.get(mark.kind, 0) + 1
        state.loaded = self.loaded_before + loaded

    @property
    def pending(self) -> int:
        return len(self._marks)
