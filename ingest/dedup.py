"""Duplicates: exact (same canonical URL, or same normalised text) and near (the
same story re-posted with other boilerplate, small edits or another title).

The normalised text ignores case, punctuation, whitespace and Unicode
compatibility forms, so a copy that differs only in typography (curly quotes,
non-breaking spaces, a different line wrapping) has the same ``content_hash``.
Within a batch, duplicates are collapsed here; against the warehouse, the load
stage matches on ``news.article_urls`` and ``content_hash``. Equal texts are one
document within a site only: a verbatim re-post on another site is another
publisher's document, in the same story.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

from ingest.models import Article
from ingest.resolve import site

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
    """Merge records of one batch that are the same document (same canonical URL, or
    same content hash on the same site): the first one stays and gains the others'
    URLs (each still credited to the source that listed it, ``url_sources``). Returns
    (distinct records, [(merged record, the record it merged into)])."""
    kept: list[Article] = []
    by_key: dict[str, Article] = {}
    merged: list[tuple[Article, Article]] = []
    for article in articles:
        text_key = f"h:{site(article.url)} {article.content_hash}"
        twin = by_key.get("u:" + article.url) or by_key.get(text_key)
        if twin is None:
            kept.append(article)
            by_key["u:" + article.url] = article
            by_key[text_key] = article
            continue
        if article.direct and not twin.direct:
            # The publisher's own record represents the document, not an aggregator's.
            kept[kept.index(twin)] = article
            for key, value in list(by_key.items()):
                if value is twin:
                    by_key[key] = article
            by_key.setdefault(text_key, article)
            merged = [(m, article if t is twin else t) for m, t in merged]
            article, twin = twin, article
        merged.append((article, twin))
        for pair in article.urls:
            if pair not in twin.urls:
                twin.urls.append(pair)
                if article.source != twin.source:  # the aggregator that listed it
                    twin.url_sources = {**(twin.url_sources or {}), pair[0]: article.source}
        by_key.setdefault("u:" + article.url, twin)
    return kept, merged


# --- near duplicates: MinHash over word shingles, LSH bands -------------------------
#
# Measured on ../shared/corpus (scrapinghub_aeb re-posts built the ways other sites
# re-post, against every pair of different articles; SemEval 2022 task 8 pairs):
# 5-word shingles, 128 permutations, 42 bands of 3 rows, then containment of the
# smaller document's shingles >= 0.5 on the texts: recall 95.9% on constructed
# re-posts, no false merge among 1.6 million pairs of different stories (the most
# similar different stories reach containment 0.33). Estimated containment alone
# (from signatures) does merge different stories: verify on the texts.
# See bench/dedup.py. Every step is deterministic across processes and machines
# (no Python hash()); changing a constant here means rebuilding news.minhash_bands.

SHINGLE = 5
PERMUTATIONS = 128
BANDS, ROWS = 42, 3
MIN_TOKENS = 50  # shorter texts are too small to judge: they are not indexed
CONTAINMENT = 0.5

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_NO_SPACES = re.compile(
    "([\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
)


def tokens(text: str) -> list[str]:
    """Normalised words; each character of a script written without spaces (Chinese,
    Japanese, Thai, ...) counts as a word of its own."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    if _NO_SPACES.search(normal):
        normal = _NO_SPACES.sub(r" \1 ", normal)
    return _WORD.findall(normal)


def _mix(z: Any) -> Any:
    """splitmix64's finaliser over numpy uint64 arrays (arithmetic wraps mod 2**64)."""
    import numpy as np

    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@cache
def _permutations() -> tuple[Any, Any]:
    """(a, b) of the 128 permutations x -> a*x + b mod 2**64 (a odd: a bijection)."""
    import numpy as np

    values, state = [], 20240601
    for _ in range(2 * PERMUTATIONS):
        state = (state + _GOLDEN) & _MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        values.append(z ^ (z >> 31))
    a = np.array([v | 1 for v in values[0::2]], dtype=np.uint64)
    b = np.array(values[1::2], dtype=np.uint64)
    return a, b


_token_hashes: dict[str, int] = {}  # token -> its 64-bit hash, per process


def shingles(text: str, words: list[str] | None = None) -> Any:
    """Sorted distinct 64-bit hashes of the text's 5-word shingles (numpy uint64)."""
    import numpy as np

    cache_ = _token_hashes
    if len(cache_) > 2_000_000:
        cache_.clear()
    hashes = []
    for token in words if words is not None else tokens(text):
        value = cache_.get(token)
        if value is None:
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8, person=b"mh-tok-v1")
            value = cache_[token] = int.from_bytes(digest.digest(), "little")
        hashes.append(value)
    hashed = np.array(hashes, dtype=np.uint64)
    n = len(hashed)
    if n == 0:
        return hashed
    k = min(SHINGLE, n)
    width = n - k + 1
    h = hashed[:width].copy()
    for j in range(1, k):
        h = _mix(h * np.uint64(_GOLDEN) + hashed[j : j + width])
    return np.unique(_mix(h ^ np.uint64(SHINGLE)))


def band_keys(text: str) -> list[int] | None:
    """The text's 42 LSH band keys (signed 64-bit, for a bigint column), or None when
    it is too short to be compared."""
    import numpy as np

    words = tokens(text)
    if len(words) < MIN_TOKENS:
        return None
    found = shingles(text, words)
    a, b = _permutations()
    a, b = a[: BANDS * ROWS], b[: BANDS * ROWS, None]
    signature: Any = None
    for start in range(0, len(found), 4096):  # bounded temporaries
        # one row per permutation: the minimum runs along contiguous memory (7x faster)
        values = np.multiply.outer(a, found[start : start + 4096])
        values += b
        low = values.min(axis=1)
        signature = low if signature is None else np.minimum(signature, low)
    rows = (signature >> np.uint64(32)).reshape(BANDS, ROWS)
    keys = _mix(np.uint64(0x6D696E68617368) ^ np.arange(BANDS, dtype=np.uint64))
    for j in range(ROWS):
        keys = _mix(keys * np.uint64(_GOLDEN) + rows[:, j])
    return [int(k) for k in keys.view(np.int64)]


def containment(a: str | Any, b: str | Any) -> float:
    """Share of the smaller document's shingles found in the other (texts or shingle arrays)."""
    import numpy as np

    sa = shingles(a) if isinstance(a, str) else a
    sb = shingles(b) if isinstance(b, str) else b
    smaller = min(len(sa), len(sb))
    if smaller == 0:
        return 0.0
    return float(len(np.intersect1d(sa, sb, assume_unique=True)) / smaller)
