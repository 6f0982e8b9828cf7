"""Exact-duplicate detection: same canonical URL, or same normalised text.

The normalised text ignores case, punctuation, whitespace and Unicode
compatibility forms, so a copy that differs only in typography (curly quotes,
non-breaking spaces, a different line wrapping) has the same ``content_hash``.
Within a batch, duplicates are collapsed here; against the warehouse, the load
stage matches on ``news.article_urls`` and ``content_hash``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from ingest.models import Article

_WORD = re.compile(r"\w+", re.UNICODE)


def normalise_text(text: str) -> str:
    """Lower-cased words of the text joined by single spaces."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def content_hash(text: str) -> str:
    """sha256 of the normalised text, hex."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def collapse_batch(
    articles: Iterable[Article],
) -> tuple[list[Article], list[tuple[Article, Article]]]:
    """Merge records of one batch that are the same document (same canonical URL
    or same content hash): the first one stays and gains the others' URLs.
    Returns (distinct records, [(merged record, the record it merged into)])."""
    kept: list[Article] = []
    by_key: dict[str, Article] = {}
    merged: list[tuple[Article, Article]] = []
    for article in articles:
        twin = by_key.get("u:" + article.url) or by_key.get("h:" + article.content_hash)
        if twin is None:
            kept.append(article)
            by_key["u:" + article.url] = article
            by_key["h:" + article.content_hash] = article
            continue
        if article.direct and not twin.direct:
            # The publisher's own record represents the document, not an aggregator's.
            kept[kept.index(twin)] = article
            for key, value in list(by_key.items()):
                if value is twin:
                    by_key[key] = article
            by_key.setdefault("h:" + article.content_hash, article)
            merged = [(m, article if t is twin else t) for m, t in merged]
            article, twin = twin, article
        merged.append((article, twin))
        for pair in article.urls:
            if pair not in twin.urls:
                twin.urls.append(pair)
        by_key.setdefault("u:" + article.url, twin)
    return kept, merged
