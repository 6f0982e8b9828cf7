"""The one exception hierarchy of news-ingest.

    IngestError                   base; never raised itself
    ├── ConfigError               the sources file is missing or invalid (not retryable)
    ├── WarehouseError            the warehouse cannot be reached or migrated (retryable)
    ├── QualityGateError          a source's batch failed a quality gate (good rows are loaded)
    └── ItemError                 one item (feed, page, record) failed: becomes a rejection
        ├── FetchError            the HTTP exchange failed
        │   ├── TransientFetchError   timeouts, connect errors, 5xx, 429 (retryable)
        │   └── PermanentFetchError   4xx, refused by policy, too large, not HTML, ...
        ├── ParseError            a feed body is not a usable feed
        ├── ExtractError          a page yielded no article
        ├── BadURL                a URL that cannot be canonicalised (also a ValueError)
        └── InternalError         an exception nobody foresaw, caught around one item
                                  or source (reason internal_error): a bug to report

Errors about one item carry a stable ``reason`` code (``http_404``, ``timeout``,
``not_html``, ...) and a human ``detail``; the pipeline turns them into rows of
``news.rejections`` instead of letting them stop the run. Whether an error is
worth retrying is a property of its class (``retryable``).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any


class IngestError(Exception):
    """Base class of every error raised by news-ingest."""

    retryable: bool = False


class ConfigError(IngestError):
    """The sources file is missing or invalid; the message names the source and key."""


class WarehouseError(IngestError):
    """The warehouse cannot be reached, or a migration failed."""

    retryable = True


class QualityGateError(IngestError):
    """Too many of a source's records were rejected, or it went silent. Raised after
    the good records are loaded; retrying does not help, so it is not retryable."""

    exit_code = 3

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result  # what the pass did, for callers that report it


class ItemError(IngestError):
    """One item failed; recorded as a rejection with a stable reason code."""

    stage: str = "fetch"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FetchError(ItemError):
    stage = "fetch"


class TransientFetchError(FetchError):
    retryable = True


class PermanentFetchError(FetchError):
    retryable = False


class ParseError(ItemError):
    stage = "parse"


class ExtractError(ItemError):
    stage = "extract"


class BadURL(ItemError, ValueError):
    """A URL that is not an absolute http(s) URL, or cannot be parsed. Also a
    ValueError, which callers of :func:`ingest.resolve.canonicalize` suppress."""

    stage = "fetch"

    def __init__(self, url: str) -> None:
        super().__init__("bad_url", f"not an absolute http(s) URL: {url[:300]!r}")


class InternalError(ItemError):
    """An exception nobody foresaw, raised while handling one item or source. It is
    that item's rejection (``internal_error``, the exception and where it was raised
    in ``detail``), never the pass's end."""

    def __init__(self, exc: BaseException, stage: str) -> None:
        frames = traceback.extract_tb(exc.__traceback__)[-4:]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                            for f in reversed(frames))
        message = " ".join(str(exc).split())[:300]
        super().__init__("internal_error", f"{type(exc).__name__}: {message} (at {where})")
        self.stage = stage
