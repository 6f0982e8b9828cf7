"""Extract clean text and metadata from article HTML with trafilatura.

:func:`extract_page` is a pure function of its :class:`ExtractJob`, so it runs in
worker processes (:mod:`ingest.pool`): extraction is the CPU-bound stage and
both cores should work on it while the event loop keeps fetching.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import hashlib
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from ingest import __version__
from ingest.clean import CleanRule, clean_text, load_rules
from ingest.dedup import band_keys, content_hash, word_count
from ingest.errors import ExtractError
from ingest.fallback import TrafilaturaMetadata
from ingest.parse import usable_encoding
from ingest.rawstore import Capture, page_records
from ingest.split import SplitRule, split_page

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.IGNORECASE
)
_HTML_LANG = re.compile(rb"""<html[^>]*?\slang\s*=\s*["']?([a-zA-Z]{2,3})""", re.IGNORECASE)
# What browsers actually use for these labels (WHATWG Encoding Standard).
_BROWSER_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "tis-620": "cp874",
}
_META_UTF16 = frozenset({"utf-16", "utf-16le", "utf-16be"})  # WHATWG: read as UTF-8
_MAX_MESS = 0.1
_GUESSES_TRIED = 5
_TAG = re.compile(r"<[^<>]*>")  # [^<>]: linear over many unclosed "<"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JUDGED_WORDS = 20
_MAX_TOKEN_SHARE = 0.5
_MIN_LETTER_SHARE = 0.1
_NO_LETTER_WORD = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")  # no letter in it
_NON_WORD_CHARS = re.compile(r"[^\w\s]+")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _codec(label: str | None, meta: bool = False) -> str | None:
    """Python's codec for a charset label, as a browser reads it; None when unusable."""
    if not label:
        return None
    label = label.strip().lower()
    if meta and label in _META_UTF16:
        return "utf-8"  # a page that could be read as ASCII to find its <meta> is not UTF-16
    label = _BROWSER_ALIASES.get(label, label)
    if not usable_encoding(label):
        return None
    return codecs.lookup(label).name


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes. Returns (text, encoding used).

    In order: a BOM (a UTF-16 one only before UTF-16 markup); UTF-8 when the bytes
    are UTF-8 (even with a few corrupt bytes among many valid multi-byte characters,
    which is what a UTF-8 page with one bad paste looks like); the HTTP and
    ``<meta>`` declarations when they agree; charset-normalizer among them when they
    disagree, and over all encodings when there are none. Its guess is taken only when
    the words it makes of the bytes that are not ASCII read as text: garbage bytes
    would otherwise become plausible-looking letters of some code page ("ÿț…"), so
    they are left to UTF-8's replacement characters, which validation counts as
    mojibake.
    """
    for bom, name in _BOMS:
        if body.startswith(bom) and (name == "utf-8" or _utf16_markup(body[len(bom):], name)):
            return body[len(bom):].decode(name, errors="replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = body.decode("utf-8", errors="replace")
    broken = lenient.count("\ufffd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 0x7F) - broken
    if multibyte >= 20 * broken:
        return lenient, "utf-8"
    meta = _META_CHARSET.search(body[:8192])
    declarations = {
        codec
        for codec in (_codec(declared),
                      _codec(meta.group(1).decode("ascii") if meta else None, meta=True))
        if codec and codec != "utf-8"
    }
    if len(declarations) == 1:
        codec = declarations.pop()
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            declarations = set()
    from charset_normalizer import from_bytes

    guesses = from_bytes(body[:200_000], cp_isolation=sorted(declarations) or None)
    if not guesses and declarations:
        guesses = from_bytes(body[:200_000])
    for guess in list(guesses)[:_GUESSES_TRIED]:  # best first
        text = body.decode(guess.encoding, errors="replace")
        if _reads_as_text(text):
            return text, guess.encoding
    # charset-normalizer does not always propose the web's most common legacy charset
    with contextlib.suppress(UnicodeDecodeError):
        text = body.decode("cp1252")
        if _reads_as_text(text):
            return text, "cp1252"
    return lenient, "utf-8"


def _utf16_markup(body: bytes, codec: str) -> bool:
    """Whether bytes after a UTF-16 BOM are UTF-16 markup, not 8-bit bytes behind a
    stray BOM (which, read as UTF-16, become CJK-looking nonsense)."""
    head = body[:4096]
    return b"<" not in head or (b"<\x00" if codec.endswith("le") else b"\x00<") in head


def _reads_as_text(text: str) -> bool:
    """Whether the words of a decoded page that hold characters beyond ASCII (outside
    its tags, scripts and styles, without soft hyphens) read as text by
    charset-normalizer's mess measure."""
    from charset_normalizer.md import mess_ratio

    words = [w for w in _TAG.sub(" ", _without_code(text)).replace("\xad", "").split()
             if len(w) > 1 and not w.isascii()]  # a lone "–" or "•" says nothing
    return not words or mess_ratio(" ".join(words[:3000]), maximum_threshold=1.0) <= _MAX_MESS


def _without_code(html: str) -> str:
    """The page without its scripts and styles (their regexes list accented letters),
    in one forward scan."""
    lower = html.lower()
    kept: list[str] = []
    pos = 0
    while True:
        starts = [i for i in (lower.find("<script", pos), lower.find("<style", pos)) if i >= 0]
        if not starts:
            break
        start = min(starts)
        kept.append(html[pos:start])
        closing = "</script>" if lower.startswith("<script", start) else "</style>"
        end = lower.find(closing, start)
        if end < 0:
            return "".join(kept)
        pos = end + len(closing)
    kept.append(html[pos:])
    return "".join(kept)


@dataclass(slots=True, frozen=True)
class ExtractJob:
    """Everything extraction needs; picklable."""

    source: str
    url: str
    body: bytes
    declared_charset: str | None = None
    feed_title: str | None = None
    # Only a date the feed gives as the publication's own (a publisher's feed): the
    # caller leaves out an aggregator's crawl time and an Atom <updated>.
    feed_published_at: datetime | None = None
    feed_author: str | None = None
    timezone: str | None = None
    clean: tuple[CleanRule, ...] = ()  # the source's own cleaning rules
    clean_off: tuple[str, ...] = ()  # global cleaning rules the source does without
    split: SplitRule | None = None  # the source's list pages: one record per item
    # For a WARC raw store: the response's status, headers and time, so that the page's
    # WARC records are made here, beside the extraction, not in the pass's process.
    capture: Capture | None = None


@dataclass(slots=True)
class Extracted:
    title: str | None
    author: str | None
    published_at: datetime | None
    date_source: str | None
    language: str | None
    site_name: str | None
    declared_url: str | None
    text: str
    word_count: int
    content_hash: str
    raw_sha256: str
    raw_gzip: bytes  # empty when the job asked for raw_record instead
    encoding: str
    extractor: str
    bands: list[int] | None
    modified_at: datetime | None = None
    removed: dict[str, int] = field(default_factory=dict)  # cleaning rule -> lines removed
    item_url: str | None = None  # the item's own URL (page URL + #item-...) on a split page
    page_type: str = "article"  # what kind of page it is (ingest.pagetype.KINDS)
    page_type_evidence: str = ""  # why, for a rejection's detail
    raw_record: tuple[bytes, int] | None = None  # the page's WARC records (job.capture)


#: Dates that are not the page's own word: an explicit date left in its text
#: ("Publish date : ...", "date2024-07-01") is better evidence than these.
_GUESSED_DATES = frozenset({None, "feed", "htmldate", "url"})


def extractor_version() -> str:
    import trafilatura

    return (f"trafilatura/{trafilatura.__version__} news-ingest/{__version__} "
            f"rules/{_rules_digest()}")


@functools.cache
def _rules_digest() -> str:
    """Short hash of every rules file (cleaning, page types and their model, URLs,
    quality, the metadata word lists) and of the metadata package (its XPaths in
    ``xpaths.py``): a change of a rule is an extractor change, so that provenance shows
    it and ``reextract`` finds what it changed."""
    from importlib import resources

    package = resources.files("ingest")
    digest = hashlib.sha256()
    for folder, suffixes in (("rules", (".yml", ".json")), ("metadata", (".py",))):
        for item in sorted(package.joinpath(folder).iterdir(), key=lambda i: i.name):
            if item.name.endswith(suffixes):
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()[:8]


def extract_items(job: ExtractJob) -> list[Extracted]:
    """The records of one page: one, or one per item when the source splits its list
    pages (a page where the rule finds no item is read as one article)."""
    page, html, raw_text, zone = _extract(job)
    if job.split is None:
        return [page]
    items = split_page(html, job.url, job.split, zone, text=raw_text,
                       clean=load_rules(job.clean, job.clean_off))
    records = []
    for item in items:
        if not item.text.strip():
            continue
        records.append(replace(
            page, item_url=item.url, title=item.title or page.title, text=item.text,
            published_at=item.published_at, date_source=item.date_source,
            modified_at=None, language=_language(job.body, item.text),
            word_count=word_count(item.text), content_hash=content_hash(item.text),
            bands=band_keys(item.text), removed={},
        ))
    return records or [page]


def extract_page(job: ExtractJob) -> Extracted:
    """Text and metadata of one page; raises ExtractError('no_content') when empty."""
    return _extract(job)[0]


def _extract(job: ExtractJob) -> tuple[Extracted, str, str, tzinfo]:
    """The page's record, its decoded HTML, trafilatura's text before cleaning and
    the zone its dates were read in (the source's, else the page's own). What the
    libraries raise on odd markup (htmldate's cleaning asserts on an <svg> root) is
    ExtractError('extract_error'), as the pipeline would have recorded it."""
    try:
        return _extract_page(job)
    except ExtractError:
        raise
    except Exception as exc:
        detail = f"{job.url}: {type(exc).__name__}: {exc}"[:500]
        raise ExtractError("extract_error", detail) from exc


def _extract_page(job: ExtractJob) -> tuple[Extracted, str, str, tzinfo]:
    import trafilatura
    from trafilatura.utils import load_html

    from ingest.metadata import page_metadata, parse_html
    from ingest.pagetype import classify

    html, encoding = decode_html(job.body, job.declared_charset)
    # Parsed once, the way trafilatura parses (its text from this tree is the text
    # from the string, page for page); trafilatura works on a copy, metadata reads it.
    tree = load_html(html)
    if tree is None:
        tree = parse_html(html)
    if tree is None:
        raise ExtractError("no_content", f"no article text found in {job.url}")
    # Settings chosen by measurement on every corpus in ../shared/corpus (see
    # bench/extraction.py): include_comments=False alone is at least trafilatura's
    # defaults everywhere and never worse on a page; favor_precision scores higher on
    # scrapinghub_aeb (0.964) but loses must-have snippets on trafilatura_eval and
    # text on mozilla_readability.
    doc = trafilatura.bare_extraction(
        tree,
        url=job.url,
        with_metadata=False,  # ingest.metadata reads the page itself (htmldate only if needed)
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    raw_text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    meta = page_metadata(
        tree, job.url, zone=_zone(job.timezone), feed_title=job.feed_title,
        feed_published_at=job.feed_published_at, feed_author=job.feed_author,
        fallback=TrafilaturaMetadata(tree),
    )
    cleaned = clean_text(raw_text, load_rules(job.clean, job.clean_off))
    text, title_line = _without_title(_storable(cleaned.text) or "", meta.title)
    if title_line:
        cleaned.removed.insert(0, ("title_line", title_line))
    if not text:
        raise ExtractError("no_content", f"no article text found in {job.url}")
    not_prose = _not_prose(text)
    if not_prose:
        raise ExtractError("no_content", f"{job.url}: {not_prose}")
    if job.split is None:  # a source that splits its list pages wants them split
        verdict = classify(tree, job.url, text, title=meta.title, author=meta.author)
        page_type, evidence = verdict.kind, verdict.detail
    else:
        page_type, evidence = "article", "an item of a list page the source splits"
    zone = meta.zone or UTC
    published_at, date_source = meta.published_at, meta.date_source
    stated = cleaned.published_at(zone)
    if stated is not None and date_source in _GUESSED_DATES:
        published_at, date_source = stated, "glued"
    removed: dict[str, int] = {}
    for rule, _ in cleaned.removed:
        removed[rule] = removed.get(rule, 0) + 1
    record = Extracted(
        title=_storable(meta.title),
        author=_storable(meta.author),
        published_at=published_at,
        date_source=date_source,
        modified_at=meta.modified_at,
        removed=removed,
        language=_language(job.body, text),
        site_name=_storable(meta.site_name),
        declared_url=_storable(_declared_url(tree)),
        text=text,
        word_count=word_count(text),
        content_hash=content_hash(text),
        raw_sha256=hashlib.sha256(job.body).hexdigest(),
        # level 3: 2.3x faster than 6, 12% larger
        raw_gzip=zlib.compress(job.body, 3) if job.capture is None else b"",
        raw_record=(page_records(job.url, job.body, job.capture)
                    if job.capture is not None else None),
        encoding=encoding,
        extractor=extractor_version(),
        bands=band_keys(text),
        page_type=page_type,
        page_type_evidence=evidence,
    )
    return record, html, raw_text, zone


def _not_prose(text: str) -> str | None:
    """Why a text is no article's (mostly one repeated token, or hardly a word with a
    letter in it), or None. Measured on the extracted and the true texts of every
    page of ../shared/corpus with 20 words or more: the most common word is at most
    19% of an article's words (33% of any page's), and at least 24% of an article's
    words have a letter (35% of any page's); the rule fires on none of them."""
    words = len(text.split())
    if words < _JUDGED_WORDS:
        return None  # validation's min_words judges short texts
    # in C: the words without a letter, then each word without its non-word characters
    with_letter = words - len(_NO_LETTER_WORD.findall(text))
    if with_letter < _MIN_LETTER_SHARE * words:
        return f"no prose: {with_letter} of {words} words have a letter"
    tokens = Counter(_NON_WORD_CHARS.sub("", text.casefold()).split())
    if not tokens:
        return None
    token, count = tokens.most_common(1)[0]
    if count > _MAX_TOKEN_SHARE * tokens.total():
        return f"mostly one repeated token: {count} of {tokens.total()} words are {token[:40]!r}"
    return None


def _storable(value: str | None) -> str | None:
    """A string without what PostgreSQL's text refuses: NUL, a lone surrogate (a feed
    entry's title or author, which the page's metadata may fall back to, could hold them)."""
    if value is None or not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub("", value)


def _without_title(text: str, *titles: str | None) -> tuple[str, str | None]:
    """The text without a first line that is the headline (trafilatura keeps it on some
    pages; the headline is the title column, not the article's first paragraph).
    Measured: scrapinghub_aeb F1 +0.002, mozilla_readability +0.001."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    key = _title_key(first)
    if key and rest.strip() and any(key == _title_key(t) for t in titles if t):
        return rest.strip(), first
    return text, None


def _declared_url(tree: Any) -> str | None:
    """The page's own URL as it declares it: ``<link rel=canonical>``, else ``og:url``."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        found = tree.xpath(xpath)
        if found and str(found[0]).strip():
            return str(found[0]).strip()
    return None


def _title_key(value: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", value.casefold()).split())


def _zone(name: str | None) -> tzinfo | None:
    """The source's zone; None when it names none (the page's own is inferred)."""
    return ZoneInfo(name) if name else None


def _language(body: bytes, text: str) -> str | None:
    """Detected from the text; the page's ``lang`` attribute when the text is too short."""
    if len(text) >= 200:
        import py3langid

        from ingest import langmodel

        langmodel.load()  # at once when warm_up ran
        # 1,000 characters: the same answer as 2,000 on every corpus text, at half the cost
        lang, _ = py3langid.classify(text[:1000])
        return str(lang)
    match = _HTML_LANG.search(body[:4096])
    return match.group(1).decode("ascii").lower() if match else None


#: A page extracted by :func:`warm_up`: what the first real page would load on first
#: use (the metadata and page-type rules, justext's stoplists, compiled patterns) is
#: loaded by it instead. Its date is ISO, so htmldate's fast path reads it.
_WARM_PAGE = (
    "<html lang='en'><head><title>Council approves the new harbour budget</title>"
    "<meta property='og:title' content='Council approves the new harbour budget'>"
    "<meta name='author' content='Jane Smith'>"
    "<meta property='article:published_time' content='2024-05-02T09:30:00+00:00'></head>"
    "<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
    "<h1>Council approves the new harbour budget</h1><p class='byline'>By Jane Smith</p>"
    "<time datetime='2024-05-02T09:30:00+00:00'>2 May 2024</time>"
    + "".join(f"<p>The council voted on Tuesday to approve a budget of {n} million for the "
              "harbour, after a debate that lasted most of the afternoon and drew residents "
              "from across the town to the public gallery.</p>" for n in range(2, 6))
    + "</article><footer>Contact us</footer></body></html>"
).encode()


def warm_up() -> None:
    """Pay the imports, the language model and every first-use load once, not per
    worker: in the workers' forkserver (:mod:`ingest.warm`), whose workers inherit
    them, and as each worker's initializer (then free, unless the forkserver could
    not). Each worker would otherwise spend half a second on its first page.

    Not dateparser's locales, which htmldate's last resort loads the first time a
    string matches none of them (1.9 s): 22 of the 1,301 pages of bench/e2e.py get
    that far, most passes' pages none, so a worker loads them when its first such
    page does. (Loaded here, every pass and every Airflow ingest task paid them
    before its first page.)"""
    from trafilatura.external import JT_STOPLIST, jt_stoplist_init

    from ingest import langmodel

    langmodel.load()
    if JT_STOPLIST is None:
        jt_stoplist_init()  # justext's stoplists, for trafilatura's second safety net
    with contextlib.suppress(ExtractError):
        extract_items(ExtractJob(source="warm-up", url="https://example.org/news/1",
                                 body=_WARM_PAGE))


def failure(exc: Exception) -> ExtractError:
    """Why a page gave no record, from what its job raised: the extractor's own
    ExtractError, the time limit (``extract_timeout``), or a crash (``extract_error``)."""
    from ingest.pool import JobTimeout

    if isinstance(exc, ExtractError):
        return exc
    if isinstance(exc, JobTimeout):
        return ExtractError("extract_timeout", str(exc))
    return ExtractError("extract_error", f"{type(exc).__name__}: {exc}"[:500])
