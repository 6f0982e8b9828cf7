"""The sources file (``sources.yml``) and the environment, as typed settings.

A minimal file is::

    settings:
      allow_private_hosts: ["127.0.0.1"]
    sources:
      - name: korea-times
        url: https://example.org/rss.xml

Everything else has a default. Invalid files raise :class:`ConfigError` with one
line naming the source and the key at fault. Nothing here is read at import time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.clean import CleanRule, global_rule_names
from ingest.errors import ConfigError
from ingest.split import SplitRule

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE):
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
#: The kinds of page ingest.pagetype tells apart (kept here to validate ``expect:``).
PageKind = Literal["article", "listing", "forum", "product", "documentation", "service",
                   "collection", "other"]


class RedirectWrapper(BaseModel):
    """A link wrapper whose real target sits in a query parameter (e.g. Bing's ``url=``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: list[str] = Field(
        min_length=1, description="host names; '*.example.com' matches subdomains"
    )
    path: str = Field(description="path of the wrapper, e.g. /news/apiclick.aspx")
    param: str = Field(description="query parameter holding the target URL")


class Settings(BaseModel):
    """Global settings (the ``settings:`` block)."""

    model_config = ConfigDict(extra="forbid")

    allow_private_hosts: list[str] = Field(
        default_factory=list,
        description="hosts or IPs that may resolve to private/loopback addresses",
    )
    contact_url: str | None = Field(
        default=None, description="URL put in the User-Agent so site owners can reach you"
    )
    redirect_wrappers: list[RedirectWrapper] = Field(default_factory=list)
    concurrency: int = Field(default=16, ge=1, le=256, description="requests in flight overall")
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    total_timeout: float = Field(default=60.0, gt=0, description="whole request, body included")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=10, ge=0, le=30)
    per_host_concurrency: int = Field(
        default=2, ge=1, le=64, description="requests at once per host"
    )
    per_host_delay: float = Field(
        default=0.5, ge=0, le=60, description="seconds between request starts to one host"
    )
    obey_robots: bool = Field(default=True, description="obey robots.txt for article pages")
    only_hosts: list[str] | None = Field(
        default=None, description="if set, fetch nothing but these hosts (tests, sandboxes)"
    )
    failure_backoff: float = Field(
        default=600, ge=0, description="seconds a feed waits after its 2nd failure in a row; "
        "doubles with each further failure, at most a day"
    )
    max_items_per_feed: int = Field(
        default=200, ge=1, description="new entries taken from one feed per pass; a longer "
        "feed is cut (a feed_truncated rejection says so) and the rest taken next pass",
    )
    url_retry_backoff: float = Field(
        default=3600, ge=0, description="seconds an article URL that failed waits before it is "
        "tried again; doubles with each failure, at most a week (404, 410, not_html and "
        "robots are not tried again)",
    )
    warehouse_retry: float = Field(
        default=60, ge=0, description="seconds a pass waits for a lost warehouse to come "
        "back before it stops (exit 2), keeping what it fetched for the next pass",
    )
    abandoned_run_after: float = Field(
        default=3600, ge=60, description="an Airflow run left 'running' with no heartbeat for "
        "this long, and no task working on it, is closed as aborted",
    )
    extract_workers: int | None = Field(
        default=None, ge=1, description="extraction processes; default: one per core"
    )
    extract_timeout: float = Field(
        default=120, gt=0, description="seconds one page may take to extract; a page that "
        "takes longer is rejected (extract_timeout) and its worker replaced",
    )
    batch_size: int = Field(
        default=200, ge=1, le=10_000, description="records per load transaction"
    )
    min_words: int = Field(default=80, ge=0)
    gate_max_rejected_share: float = Field(
        default=0.5, ge=0, le=1,
        description="a source whose share of records rejected by validation in a run "
        "exceeds this fails the run (after its good records are loaded)",
    )
    gate_min_rows: int = Field(
        default=3, ge=1, description="fewer validated records than this are not judged"
    )
    gate_silent_runs: int = Field(
        default=7, ge=0,
        description="a source that used to yield articles and yields none for this many "
        "runs in a row fails the run (0: never)",
    )
    keep_data_docs_runs: int = Field(default=100, ge=1)
    revisit_hours: float = Field(
        default=48, ge=0,
        description="a full refresh downloads articles first seen this recently again, so that "
        "edits become new versions",
    )
    story_window_days: float = Field(
        default=30, gt=0, description="near-duplicates are looked for among this many days"
    )
    poll_interval: float = Field(
        default=300, ge=1, description="seconds between two looks at a feed (streaming watcher)"
    )
    sitemap_max_documents: int = Field(
        default=50, ge=1, le=10_000, description="sitemaps (an index and its children) read "
        "for one source in one pass; a backfill reads this many per step",
    )
    sitemap_max_depth: int = Field(
        default=3, ge=0, le=10, description="levels of sitemap indexes followed below a source",
    )
    sitemap_recent_days: float = Field(
        default=3, gt=0, description="a pass takes the sitemap URLs dated (publication date or "
        "lastmod) this recently, and undated ones; older ones are for `news-ingest backfill`",
    )
    raw_store: Literal["database", "warc"] = Field(
        default="database", description="where fetched pages are kept as they came: in "
        "news.raw_pages (zlib), or appended to WARC files (news.raw_pages then keeps each "
        "page's file, offset and length)",
    )
    warc_store: str | None = Field(
        default=None, description="with raw_store: warc, the folder or fsspec URL "
        "(s3://bucket/prefix, ...) of the WARC files; default $NEWS_INGEST_HOME/warc",
    )
    warc_file_bytes: int = Field(
        default=1 << 30, ge=64 * 1024, description="a local WARC file of the raw store is "
        "closed, and a new one started, past this size",
    )
    discovery_refresh_days: float = Field(
        default=7, gt=0, description="how long a site source's discovered feeds and sitemaps "
        "are used before its home page, robots.txt and conventional sitemaps are read again",
    )


def _articles_only() -> list[str]:
    return ["article"]


#: The kinds of source, by the key that gives the source's address.
SOURCE_KINDS = ("url", "sitemap", "site", "listing", "warc")


def _local_paths(value: list[str]) -> list[str]:
    for pattern in value:
        if re.match(r"^[a-z][a-z0-9+.-]*://", pattern, re.IGNORECASE) and not (
                pattern.lower().startswith("file://")):
            raise ValueError("must be local paths or globs of WARC/ARC files (an archive is "
                             f"never downloaded: {pattern!r}; download it first)")
    if not value or not all(p.strip() for p in value):
        raise ValueError("must name at least one file, path or glob")
    return value


class SourceConfig(BaseModel):
    """One source: a feed (``url``: RSS 0.9x/1.0/2.0, Atom or JSON Feed), a sitemap
    (``sitemap``: a sitemap, an index of sitemaps, a news sitemap, gzipped or not), a
    site whose feeds and sitemaps are discovered (``site``), an HTML page that lists
    articles (``listing``, with ``links`` and ``pages``), or local web archives
    (``warc``: WARC/ARC files, with ``links`` and ``hosts``). Exactly one of the five."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: HttpUrlStr | None = Field(default=None, description="a feed: RSS, Atom or JSON Feed")
    sitemap: HttpUrlStr | None = Field(
        default=None, description="a sitemap, a sitemap index or a news sitemap (gzip too)")
    site: HttpUrlStr | None = Field(
        default=None, description="a site's home page: its feeds and sitemaps are discovered")
    listing: HttpUrlStr | None = Field(
        default=None, description="an HTML page that lists articles")
    warc: Annotated[list[str], AfterValidator(_local_paths)] | None = Field(
        default=None, description="local WARC/ARC files (gzipped or not): a path or glob "
        "('**' too), or a list of them; relative to the sources file",
    )
    links: str | None = Field(
        default=None, description="which links are articles: a regular expression searched "
        "in the absolute URL (listing; also filters the URLs of other kinds)",
    )
    hosts: list[str] | None = Field(
        default=None, description="only these hosts' pages ('*.example.com': its "
        "subdomains too) (warc)",
    )
    pages: int = Field(
        default=1, ge=1, le=1000, description="list pages read per pass, following the "
        "list's next link (listing)",
    )
    enabled: bool = True
    timezone: str | None = Field(default=None, description="zone for dates given without one")
    language: list[str] | None = Field(default=None, description="expected languages (ISO 639-1)")
    max_items: int | None = Field(default=None, ge=1)
    min_words: int | None = Field(default=None, ge=0)
    per_host_concurrency: int | None = Field(default=None, ge=1, le=64)
    per_host_delay: float | None = Field(default=None, ge=0, le=60)
    obey_robots: bool | None = None
    gate_max_rejected_share: float | None = Field(default=None, ge=0, le=1)
    gate_silent_runs: int | None = Field(default=None, ge=0)
    poll_interval: float | None = Field(default=None, ge=1)
    clean: list[CleanRule] = Field(
        default_factory=list,
        description="cleaning rules of this source, beside ingest/rules/clean.yml; one with "
        "the name of a global rule replaces it",
    )
    clean_off: list[str] = Field(
        default_factory=list,
        description="names of rules of ingest/rules/clean.yml this source does without",
    )
    split: SplitRule | None = Field(
        default=None, description="list pages (press releases): one record per item"
    )
    expect: str | list[str] = Field(
        default_factory=_articles_only,
        description="the kinds of page the source's records may be (ingest.pagetype.KINDS); "
        "others are rejected as not_an_article. 'any': every kind",
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be a slug: lower-case letters, digits, '-' or '_' (max 64)")
        return value

    @field_validator("links")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_address(self) -> SourceConfig:
        given = [key for key in SOURCE_KINDS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of url (a feed), sitemap, site, listing or warc"
                             + (f" (not {' and '.join(given)})" if given else ""))
        if self.pages != 1 and self.listing is None:
            raise ValueError("pages is for listing sources")
        if self.hosts is not None and self.warc is None:
            raise ValueError("hosts is for warc sources")
        return self

    @property
    def kind(self) -> str:
        """``feed``, ``sitemap``, ``site``, ``listing`` or ``warc``."""
        return "feed" if self.url is not None else next(
            key for key in SOURCE_KINDS[1:] if getattr(self, key) is not None)

    @property
    def address(self) -> str:
        """The source's one URL: its feed, sitemap, home page or list page (a
        ``warc`` source's paths, joined by spaces)."""
        if self.warc is not None:
            return " ".join(self.warc)
        value: str = next(v for key in SOURCE_KINDS if (v := getattr(self, key)) is not None)
        return value

    @property
    def link_pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.links) if self.links is not None else None

    @field_validator("language", "warc", "hosts", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("expect", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if value == "any":
            return value
        kinds = [value] if isinstance(value, str) else value
        known = get_args(PageKind)
        if not isinstance(kinds, list) or not kinds or not all(
                isinstance(kind, str) and kind in known for kind in kinds):
            raise ValueError(f"must be 'any' or a list of kinds of page: {', '.join(known)}")
        return kinds

    @field_validator("clean_off")
    @classmethod
    def _global_rules(cls, value: list[str]) -> list[str]:
        known = global_rule_names()
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"no global cleaning rule named {', '.join(map(repr, unknown))} "
                             f"(they are: {', '.join(known)})")
        return value

    @model_validator(mode="after")
    def _off_or_own(self) -> SourceConfig:
        both = sorted({rule.name for rule in self.clean} & set(self.clean_off))
        if both:
            raise ValueError(f"clean_off and clean both name {', '.join(both)}: a rule of "
                             "clean replaces the global one of its name, so leave it out "
                             "of clean_off")
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Config(BaseModel):
    """A whole sources file."""

    model_config = ConfigDict(extra="forbid")

    settings: Settings = Field(default_factory=Settings)
    sources: list[SourceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return self

    def enabled_sources(self, names: list[str] | None = None) -> list[SourceConfig]:
        """The enabled sources, optionally only those named."""
        chosen = [s for s in self.sources if s.enabled]
        if names is not None:
            wanted = set(names)
            unknown = wanted - {s.name for s in self.sources}
            if unknown:
                raise ConfigError(f"unknown source(s): {', '.join(sorted(unknown))}")
            chosen = [s for s in chosen if s.name in wanted]
        return chosen

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"unknown source {name!r}")


def parse_config(data: Any, origin: str = "config") -> Config:
    """Validate already-loaded YAML data; errors name the source and key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'sources:' at the top")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_describe(exc, data)}") from None


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a sources file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} not valid YAML") from None
    config = parse_config(data, str(path))
    for source in config.sources:  # archives' paths are the sources file's
        if source.warc is not None:
            source.warc = [_beside(path, pattern) for pattern in source.warc]
    return config


def _beside(config: Path, pattern: str) -> str:
    if pattern.lower().startswith("file://"):
        pattern = pattern[len("file://"):]
    local = Path(pattern).expanduser()
    return os.path.normpath(local if local.is_absolute() else config.resolve().parent / local)


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """One line for the first error: 'source 'x' (sources[2]): key 'url': ...'."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    where = ""
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        index = loc[1]
        sources = data.get("sources") or []
        name = sources[index].get("name") if index < len(sources) and isinstance(
            sources[index], dict) else None
        where = f"source {name!r} (sources[{index}])" if name else f"sources[{index}]"
        loc = loc[2:]
    elif loc and loc[0] == "settings":
        where = "settings"
        loc = loc[1:]
    keys = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    if err["type"] == "missing":
        msg = "required key is missing"
    parts = [p for p in (where, f"key {keys!r}" if keys else "", msg) if p]
    return ": ".join(parts)


class Environment(BaseSettings):
    """Settings from the environment, resolved when a command runs."""

    model_config = SettingsConfigDict(
        env_prefix="NEWS_INGEST_", extra="ignore", env_ignore_empty=True
    )

    dsn: str | None = None
    home: Path = Path(".news-ingest")
    config: Path | None = None

    @property
    def quality_dir(self) -> Path:
        """Validation results and the Data Docs site (``docs/``) of the passes."""
        return self.home / "quality"
