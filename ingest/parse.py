"""Parse feed bodies (RSS 0.9x/1.0/2.0, Atom) into :class:`FeedEntry` items.

feedparser does the parsing; around it we make sure that:

- it only ever sees bytes (given a string, feedparser would open it as a URL or
  a file);
- no XML entity declared by the document is expanded: the DOCTYPE's internal
  subset is removed first, which rules out billion-laughs and quadratic blow-ups;
- a malformed feed still yields its good entries, plus a ``feed_malformed``
  note; a body that is not a feed at all raises ``ParseError('not_a_feed')``.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import re
import time
from datetime import UTC, datetime
from typing import Any

from ingest import jsonfeed
from ingest.errors import ParseError
from ingest.models import FeedEntry, ParsedFeed

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SUBSET_OR_END = re.compile(rb"[\[>]")
_SUBSET_END = re.compile(rb"\]\s*>")
_DECL_END = re.compile(rb">")
# A character reference, with or without its ';' (feedparser's loose parser takes both).
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));?")
# feedparser's own pattern for the XML declaration's encoding (feedparser/encodings.py).
_XML_PI_ENCODING = re.compile(rb"""^<\?.*encoding=['"](.*?)['"].*\?>""")
_ENC_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9._-]{0,39}")
_FIRST_ELEMENT = re.compile(rb"<\w")
_FEEDPARSER_DECLARATION = re.compile(rb"<\?xml[^>]*?>")  # as feedparser/encodings.py has it
# A tag of a namespace whose elements we do not read, and which feedparser's handlers
# raise on when out of place; [^<>] keeps the scan linear over many unclosed "<gml:".
_UNREAD_TAG = re.compile(
    rb"</?(?:georss|gml|media|itunes|psc|creativeCommons|cc):[^<>]*>", re.IGNORECASE
)
_WHITESPACE_RUN = re.compile(rb"\s{2,}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_XML_DECL_END = 1024  # an XML declaration ends within this many bytes, or it is junk


def defuse(body: bytes) -> bytes:
    """The body without DOCTYPE internal subsets or entity declarations, so that no
    declared entity can ever be expanded (anywhere in the body, in linear time)."""
    return _defused(body)[0]


def _defused(body: bytes) -> tuple[bytes, list[str]]:
    """:func:`defuse`, and what it removed.

    The first DOCTYPE keeps its name and public id (feedparser reads the version of
    RSS 0.91 there) but loses its internal subset; any other DOCTYPE goes; then every
    ``<!ENTITY ...>`` left goes, since feedparser re-declares the ones it finds at
    the start of a line. Every scan moves forward only: many unclosed ``<!DOCTYPE x [``
    cost no more than one."""
    if not _DOCTYPE.search(body) and not _ENTITY.search(body):
        return body, []
    notes: list[str] = []
    out: list[bytes] = []
    pos = 0
    kept = False
    unclosed_subset = False  # no "]>" after some point: none after any later one either
    for match in _DOCTYPE.finditer(body):
        start = match.start()
        if start < pos:
            continue  # inside the DOCTYPE just handled
        out.append(body[pos:start])
        end_or_subset = _SUBSET_OR_END.search(body, match.end())
        end = end_or_subset.end() if end_or_subset is not None else 0
        if end_or_subset is None or _declaration_end(body, end) < end:
            # no '>' follows, or the one of a comment or CDATA: not a declaration
            pos = match.end()
            notes.append("unterminated DOCTYPE removed")
            continue
        inner = body[match.end():end_or_subset.start()]
        if end_or_subset.group() == b"[":
            close = None if unclosed_subset else _SUBSET_END.search(body, end_or_subset.end())
            if close is None:
                unclosed_subset = True
                pos = end_or_subset.end()
                notes.append("DOCTYPE with an unterminated internal subset removed")
                continue
            pos = close.end()
            notes.append("DOCTYPE internal subset removed (declared entities are not expanded)")
        else:
            pos = end_or_subset.end()
        if kept:
            notes.append("second DOCTYPE removed")
            continue
        kept = True
        out.append(b"<!DOCTYPE" + re.sub(rb"[<>\[\]]", b"", inner) + b">")
    out.append(body[pos:])
    body = b"".join(out)
    out, pos, removed = [], 0, 0
    for match in _ENTITY.finditer(body):
        if match.start() < pos:
            continue
        out.append(body[pos:match.start()])
        closing = _DECL_END.search(body, match.end())
        pos = _declaration_end(body, closing.end()) if closing is not None else match.end()
        removed += 1
    if removed:
        out.append(body[pos:])
        body = b"".join(out)
        notes.append(f"{removed} entity declaration(s) outside a DOCTYPE removed")
    return body, list(dict.fromkeys(notes))


def _declaration_end(body: bytes, after: int) -> int:
    """Where a declaration ending with the '>' before ``after`` ends, leaving the
    '-->' or ']]>' it may have run into (a "<!DOCTYPE" quoted in a comment or CDATA)."""
    return after - 3 if body[after - 3:after] in (b"-->", b"]]>") else after


def _xml_char(code: int) -> bool:
    """Whether XML 1.0 allows this character (its production ``Char``)."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _without_bad_char_refs(body: bytes) -> tuple[bytes, int]:
    """Drop character references to what XML does not allow (NUL, surrogates, past
    U+10FFFF, ...): feedparser raises on some and passes NUL on."""
    dropped = 0

    def check(match: re.Match[bytes]) -> bytes:
        nonlocal dropped
        digits = (match.group(1) or match.group(2)).lstrip(b"0") or b"0"
        if len(digits) <= 7 and _xml_char(int(digits, 16 if match.group(1) else 10)):
            return match.group(0)
        dropped += 1
        return b""

    if b"&#" not in body:
        return body, 0
    return _CHAR_REF.sub(check, body), dropped


def usable_encoding(name: str | bytes) -> bool:
    """Whether an encoding label can be handed to ``bytes.decode``: a well-formed XML
    encoding name for a text codec that fails, if at all, with UnicodeDecodeError
    (``punycode`` and ``undefined`` raise other errors, a NUL raises ValueError)."""
    label = name if isinstance(name, bytes) else name.encode("utf-8", "replace")
    if not _ENC_NAME.fullmatch(label):
        return False
    for probe in (b"<?xml version='1.0'?><rss>", b"<?xml \x80\xff\xfe\x00"):
        try:
            probe.decode(label.decode("ascii"))
        except UnicodeDecodeError:
            continue
        except (LookupError, UnicodeError, ValueError):
            return False
    return True


def _usable_declaration(body: bytes) -> tuple[bytes, list[str]]:
    """Drop an encoding declaration that feedparser would choke on (a NUL, a byte that
    is not ASCII, a codec that raises), and end the declaration's line right after it:
    feedparser's pattern for it backtracks cubically over a long first line."""
    notes: list[str] = []
    bom = codecs.BOM_UTF8 if body.startswith(codecs.BOM_UTF8) else b""
    if not body.startswith(b"<?", len(bom)):
        return body, notes
    text = body[len(bom):]
    end = text.find(b"?>", 0, _XML_DECL_END)
    if end < 0:  # not a declaration feedparser can read: start past it
        return bom + b"\n" + text, ["unterminated XML declaration"]
    decl, rest = text[:end + 2], text[end + 2:]
    for _ in range(8):
        match = _XML_PI_ENCODING.match(decl)
        if match is None or usable_encoding(match.group(1)):
            break
        name = match.group(1)
        notes.append(f"unusable encoding declaration {name[:40]!r} dropped")
        at = decl.rfind(b"encoding=", 0, match.start(1))
        decl = decl[:at] + decl[match.end(1) + 1:]
    if not rest.startswith((b"\n", b"\r")):
        rest = b"\n" + rest
    return bom + decl + rest, notes


def _short_prolog(body: bytes) -> bytes:
    """Whitespace runs before the first element, collapsed: feedparser's patterns for
    DOCTYPE and ENTITY take quadratic time over them (100 KB of newlines: 37 s). The
    first element is looked for where feedparser looks, after what its own pattern
    takes for the XML declaration (``<?xml<item>`` is one)."""
    start = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    declaration = _FEEDPARSER_DECLARATION.match(body, start)
    first = _FIRST_ELEMENT.search(body, declaration.end() if declaration else start)
    if first is None:
        return body
    return _WHITESPACE_RUN.sub(b"\n", body[:first.start()]) + body[first.start():]


def repair(body: bytes) -> tuple[bytes, list[str]]:
    """The body as feedparser can take it, and the repairs made (each a problem of the
    feed): entities defused, bad character references and encoding declarations
    dropped, the prolog's whitespace collapsed."""
    body, notes = _defused(body)
    body, dropped = _without_bad_char_refs(body)
    if dropped:
        notes.append(f"{dropped} character reference(s) to characters XML does not allow"
                     " dropped")
    body, declared = _usable_declaration(body)
    return _short_prolog(body), notes + declared


def _content_type(value: str | None) -> tuple[str | None, list[str]]:
    """The Content-Type without a charset feedparser would choke on."""
    if not value:
        return value, []
    kind, _, params = value.partition(";")
    kept, notes = [], []
    for param in params.split(";"):
        key, _, label = param.partition("=")
        if key.strip().lower() == "charset" and not usable_encoding(label.strip().strip("\"'")):
            notes.append(f"unusable charset {label.strip()[:40]!r} in the Content-Type ignored")
            continue
        if param.strip():
            kept.append(param.strip())
    return "; ".join([kind.strip(), *kept]), notes


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str | None = None,
    max_items: int | None = 200,
) -> ParsedFeed:
    """Entries of a feed body. Raises ParseError('not_a_feed') when it is none."""
    if not body.strip():
        raise ParseError("empty_feed", f"{url} returned an empty body")
    if jsonfeed.looks_like_json_feed(body, content_type):
        return jsonfeed.parse_json_feed(body, source=source, url=url, max_items=max_items)
    body, problems = repair(body)
    content_type, ignored = _content_type(content_type)
    problems += ignored
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = _feedparser(body, headers, url, problems)
    version = parsed.get("version") or None
    raw_entries = parsed.get("entries") or []
    if parsed.get("bozo"):
        bozo = parsed.get("bozo_exception")
        # A wrong or missing Content-Type says nothing about the feed itself.
        benign = type(bozo).__name__ in ("CharacterEncodingOverride", "NonXMLContentType")
        if not benign:
            problems.append(f"{type(bozo).__name__}: {bozo}"[:500])
    if not version and not raw_entries:
        kind = (content_type or "unknown type").split(";")[0]
        raise ParseError(
            "not_a_feed",
            f"{url} ({kind}) is not an RSS or Atom feed"
            + (f": {problems[0]}" if problems else ""),
        )
    entries: list[FeedEntry] = []
    for raw in raw_entries[:max_items]:
        entry = _entry(raw, source)
        if entry is None:
            problems.append(f"entry without a link: {raw.get('title', '')[:80]!r}")
            continue
        entries.append(entry)
    feed_info = parsed.get("feed") or {}
    return ParsedFeed(
        entries=entries, title=_storable(feed_info.get("title")), version=version,
        problems=problems,
    )


def _feedparser(body: bytes, headers: dict[str, str], url: str, problems: list[str]) -> Any:
    """feedparser's result. It raises on some input its bozo flag misses: GeoRSS, GML,
    Media RSS, iTunes, Podlove or Creative Commons elements out of place (KeyError
    'where', 'psc_chapters', 'media_player', 'license', ...) hold nothing we read, so
    the body is parsed again without them; whatever else raises is a ParseError."""
    import feedparser

    try:
        return feedparser.parse(body, response_headers=headers)
    except Exception as exc:
        first = exc
    without = _UNREAD_TAG.sub(b"", body)
    failure = f"feedparser raised {type(first).__name__}: {first}"[:300]
    if without != body:
        with contextlib.suppress(Exception):  # the first failure is the one reported
            parsed = feedparser.parse(without, response_headers=headers)
            problems.append(f"{failure}; parsed again without its GeoRSS, GML, Media RSS,"
                            " iTunes, Podlove and Creative Commons elements")
            return parsed
    raise ParseError(
        "feed_malformed", f"{url}: {failure}") from first


def _entry(raw: Any, source: str) -> FeedEntry | None:
    link = raw.get("link")
    if not link:
        for alt in raw.get("links") or []:
            if alt.get("rel", "alternate") == "alternate" and alt.get("href"):
                link = alt["href"]
                break
    guid = _storable(raw.get("id")) or None
    link = _storable(link)
    if not link and guid and re.match(r"^https?://", guid):
        link = guid
    if not link or not re.match(r"^https?://", link.strip(), re.IGNORECASE):
        return None
    return FeedEntry(
        source=source,
        link=link.strip(),
        title=_clean(raw.get("title")),
        published_at=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
        # Atom's <updated> alone is when the entry last changed, not when it appeared
        updated_only=not raw.get("published_parsed") and bool(raw.get("updated_parsed")),
        guid=guid,
        summary=_clean(raw.get("summary")),
        author=_clean(raw.get("author")),
    )


def _clean(value: Any) -> str | None:
    value = _storable(value)
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _storable(value: Any) -> str | None:
    """A string without what PostgreSQL's text refuses (NUL, a lone surrogate)."""
    if not isinstance(value, str):
        return None
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


def _date(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; garbage becomes None."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
