"""Records passed between stages. Plain dataclasses: cheap, picklable, no I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

STAGES = ("fetch", "parse", "extract", "validate", "load")
_DATETIMES = ("published_at", "fetched_at", "modified_at", "feed_published_at")


@dataclass(slots=True)
class FeedEntry:
    """One item of a feed, as the feed gave it."""

    source: str
    link: str
    title: str | None = None
    published_at: datetime | None = None
    guid: str | None = None
    summary: str | None = None
    author: str | None = None
    updated_only: bool = False  # published_at is an update time (Atom <updated>, no <published>)
    modified_at: datetime | None = None  # a sitemap's <lastmod>: fetched again when it moves
    via: str = "feed"  # the kind of document that listed it: feed, sitemap, news_sitemap, listing
    found_in: str | None = None  # that document's URL


@dataclass(slots=True)
class ParsedFeed:
    """A feed's entries (:mod:`ingest.parse`, :mod:`ingest.jsonfeed`)."""

    entries: list[FeedEntry]
    title: str | None = None
    version: str | None = None
    problems: list[str] = field(default_factory=list)  # feed_malformed details


@dataclass(slots=True)
class Article:
    """A clean record, ready to validate and load."""

    source: str
    url: str  # canonical
    urls: list[tuple[str, str]]  # (url, kind): feed_link, redirect, final, canonical, declared
    title: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    site_name: str | None
    text: str
    word_count: int
    content_hash: str
    raw_sha256: str | None = None
    date_source: str | None = None
    extractor: str | None = None
    fetched_at: datetime | None = None
    direct: bool = True  # met in the publisher's own feed, not through an aggregator
    bands: list[int] | None = None  # MinHash LSH band keys (dedup.band_keys)
    modified_at: datetime | None = None
    feed_title: str | None = None
    feed_published_at: datetime | None = None
    feed_author: str | None = None
    removed: dict[str, int] | None = None  # cleaning rule -> lines removed
    feed_date_kind: str | None = None  # published, updated (Atom <updated> only), crawled
    page_type: str = "article"  # ingest.pagetype.KINDS
    page_type_evidence: str = ""  # the signals behind page_type
    via: str | None = None  # the kind of document its source listed it in (FeedEntry.via)
    found_in: str | None = None  # that document's URL
    # URLs merged in from a record of another source (an aggregator's link to this
    # publisher's page, met in the same batch): url -> the source that listed it
    url_sources: dict[str, str] | None = None

    @classmethod
    def from_extracted(
        cls,
        extracted: Any,
        *,
        source: str,
        url: str,
        urls: list[tuple[str, str]],
        fetched_at: datetime | None,
        direct: bool,
        feed_title: str | None = None,
        feed_published_at: datetime | None = None,
        feed_author: str | None = None,
        feed_date_kind: str | None = None,
        via: str | None = None,
        found_in: str | None = None,
    ) -> Article:
        """The record to validate and load, from what extraction derived
        (an :class:`ingest.extract.Extracted`) and where the page was met (a pass, or
        ``news-ingest reextract``)."""
        return cls(
            source=source, url=url, urls=urls, title=extracted.title, author=extracted.author,
            published_at=extracted.published_at, language=extracted.language,
            site_name=extracted.site_name, text=extracted.text,
            word_count=extracted.word_count, content_hash=extracted.content_hash,
            raw_sha256=extracted.raw_sha256, date_source=extracted.date_source,
            extractor=extracted.extractor, fetched_at=fetched_at, direct=direct,
            bands=extracted.bands, modified_at=extracted.modified_at,
            feed_title=feed_title, feed_published_at=feed_published_at,
            feed_author=feed_author, removed=extracted.removed or None,
            feed_date_kind=feed_date_kind, page_type=extracted.page_type,
            page_type_evidence=extracted.page_type_evidence, via=via, found_in=found_in,
        )

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Article:
        """The record back from :meth:`as_payload` (a rejection's payload)."""
        values = dict(data)
        for key in _DATETIMES:
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        values["urls"] = [tuple(pair) for pair in values.get("urls") or []]
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})

    def as_payload(self) -> dict[str, Any]:
        """JSON-ready dict, kept with a rejection so the record can be re-validated."""
        data = asdict(self)
        for key in _DATETIMES:
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


@dataclass(slots=True)
class Rejection:
    """Why an item is not in ``news.articles``; one row of ``news.rejections``."""

    source: str
    stage: str
    reason: str
    detail: str = ""
    url: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(slots=True)
class FeedState:
    """What we remember about a source's feed between passes (``news.feed_state``)."""

    source: str
    feed_url: str
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    consecutive_failures: int = 0
    next_fetch_at: datetime | None = None
    last_error: str | None = None
    entries_last: int | None = None


@dataclass(slots=True)
class SourceCounts:
    """What one pass did for one source, stage by stage."""

    source: str
    feeds_fetched: int = 0
    entries_seen: int = 0
    articles_fetched: int = 0
    articles_extracted: int = 0
    articles_valid: int = 0
    articles_new: int = 0
    articles_seen_before: int = 0
    articles_changed: int = 0
    near_duplicates: int = 0
    articles_skipped: int = 0  # entries whose URL failed before and waits for its next try
    rejections: int = 0
    feed_status: str | None = None  # ok, not_modified, backoff, or a rejection reason
    reasons: dict[str, int] = field(default_factory=dict)
    validated: int = 0  # records that reached validation
    validation_rejected: int = 0  # of those, quarantined
    validation_reasons: dict[str, int] = field(default_factory=dict)
    gate: str | None = None  # passed, failed, skipped
    gate_message: str | None = None

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejections += n
        self.reasons[reason] = self.reasons.get(reason, 0) + n

    def validation_rejected_for(self, reason: str) -> None:
        """One more reason a record failed validation for (a record may have several)."""
        self.validation_reasons[reason] = self.validation_reasons.get(reason, 0) + 1

    def validated_records(self, passed: int = 0, failed: int = 0, refused: int = 0) -> None:
        """Records that reached validation: ``passed`` (of which ``refused`` the
        warehouse then refused), ``failed``."""
        self.validated += passed + failed
        self.validation_rejected += failed
        self.articles_valid += passed - refused

    def known_twin(self) -> None:
        """A record merged into a valid one of its batch (the same document): valid, and
        known by the time it is counted."""
        self.articles_valid += 1
        self.articles_seen_before += 1

    def loaded(self, new: int = 0, seen: int = 0, changed: int = 0, near: int = 0) -> None:
        """What the load made of the source's valid records."""
        self.articles_new += new
        self.articles_seen_before += seen
        self.articles_changed += changed
        self.near_duplicates += near

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
