"""Score extracted text against ground truth, as the Article Extraction Benchmark does.

Tokens are ``\\w+`` runs (case kept), compared as multisets of 4-token shingles;
each page's true/false positives and false negatives are normalised to sum to 1;
precision and recall are averaged over pages and F1 is computed from the means.
A page with no extracted text counts 0 in recall and is left out of precision,
as in the benchmark. :func:`token_f1` is the simpler per-page bag-of-words F1.

Also the other corpora's scoring, shared by bench/extraction.py and the tests:
:class:`SnippetScore` (trafilatura's own with/without snippet evaluation), title, date and
author matching, and :func:`corpus_pages` to read a corpus of ``../shared/corpus``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"\w+")


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    words = tokens(text)
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    pages: int


def _page(truth: str | None, pred: str | None, n: int) -> tuple[float, float, float]:
    t, p = shingles(truth, n), shingles(pred, n)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def aeb_score(pairs: Iterable[tuple[str | None, str | None]], n: int = 4) -> Score:
    """(truth, prediction) pairs -> the benchmark's precision, recall and F1."""
    precisions: list[float] = []
    recalls: list[float] = []
    count = 0
    for truth, pred in pairs:
        count += 1
        tp, fp, fn = _page(truth, pred, n)
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    return Score(p, r, 2 * p * r / (p + r) if p + r else 0.0, count)


def token_f1(truth: str | None, pred: str | None) -> float:
    """Bag-of-words F1 of one page (0 when either side is empty)."""
    t, p = Counter(tokens(truth)), Counter(tokens(pred))
    common = sum((t & p).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


# --- trafilatura's own evaluation: snippets that must / must not appear --------------------

_SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Runs of whitespace to one space, stripped (line breaks don't cost a snippet)."""
    return _SPACE.sub(" ", text).strip()


@dataclass
class SnippetScore:
    """Confusion counts over ``with``/``without`` snippets, summed over all pages, as in
    trafilatura's evaluation (tests/eval_common.py): a ``with`` snippet found is a true
    positive, missed a false negative; a ``without`` snippet found is a false positive,
    absent a true negative. A page with no text misses all its ``with`` snippets and
    keeps all its ``without`` ones out. Matching is substring after :func:`squeeze`.

    precision = tp / (tp + fp), recall = tp / (tp + fn), accuracy = (tp + tn) / all,
    f1 = 2 tp / (2 tp + fp + fn).
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    pages: int = 0

    def add(self, with_: Iterable[str], without: Iterable[str], text: str | None) -> None:
        found = squeeze(text) if text else ""
        for snippet in with_:
            if found and squeeze(snippet) in found:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in without:
            if found and squeeze(snippet) in found:
                self.fp += 1
            else:
                self.tn += 1
        self.pages += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Also the share of ``with`` snippets found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def without_absent(self) -> float:
        """Share of ``without`` snippets kept out."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0


def snippet_score(items: Iterable[tuple[Iterable[str], Iterable[str], str | None]]) -> SnippetScore:
    """(with, without, extracted text) per page -> summed :class:`SnippetScore`."""
    score = SnippetScore()
    for with_, without, text in items:
        score.add(with_, without, text)
    return score


# --- metadata: titles, dates, authors ----------------------------------------------------

_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u00a0": " ",
    "\u200b": "", "\u00ad": "",
})


def normalise_title(title: str | None) -> str:
    """NFKC, one kind of quote and dash, whitespace squeezed; case kept."""
    if not title:
        return ""
    return squeeze(unicodedata.normalize("NFKC", title).translate(_TYPOGRAPHY))


def title_match(truth: str | None, got: str | None) -> bool:
    """Exact title, up to :func:`normalise_title` (a site name appended to it is a miss)."""
    want = normalise_title(truth)
    return bool(want) and want == normalise_title(got)


def title_match_as_shown(truth: str | None, got: str | None) -> bool:
    """:func:`title_match`, or a truth written wholly in capitals that ``got`` spells
    in other case: what the annotator copied was the browser's rendering of a CSS
    ``text-transform: uppercase`` heading, while the page's text (which we keep) is
    in mixed case."""
    if title_match(truth, got):
        return True
    want = normalise_title(truth)
    return (bool(want) and want == want.upper() and want != want.lower()
            and want.casefold() == normalise_title(got).casefold())


_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def truth_day(value: str | None) -> date | None:
    """The day of an ISO-like date string as written (its own zone): '2014-09-02T08:35-04:00'
    is 2014-09-02; '2022-11-1' is 2022-11-01."""
    match = _DAY.search(value or "")
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def extracted_day(value: datetime | date | str | None) -> date | None:
    """The day of an extracted date: a datetime's date in its own zone, or a string's."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return truth_day(value)


def date_match(truth: str | None, got: datetime | date | str | None) -> bool:
    want = truth_day(truth)
    return want is not None and want == extracted_day(got)


_AUTHOR_SPLIT = re.compile(r"\s*(?:[;,/&|]|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
_AUTHOR_PREFIX = re.compile(r"^(?:(?:written|posted|edited)\s+)?(?:by|von|par|por)\s+",
                            re.IGNORECASE)


def author_names(value: str | Iterable[str] | None) -> frozenset[str]:
    """Names of an author field, compared without case, accents' composition, separators
    (``;`` ``,`` ``/`` ``&`` and/und/et/y) or a leading 'By'/'Von'/'Par'."""
    if not value:
        return frozenset()
    parts = [value] if isinstance(value, str) else list(value)
    names: set[str] = set()
    for part in parts:
        text = squeeze(unicodedata.normalize("NFKC", part)).casefold()
        text = _AUTHOR_PREFIX.sub("", text)
        for name in _AUTHOR_SPLIT.split(text):
            name = name.strip(" .:-\"'()")
            if name:
                names.add(name)
    return frozenset(names)


def author_match(truth: str | Iterable[str] | None, got: str | None) -> bool:
    """The same set of names (trafilatura's eval_authors.py wants the exact string)."""
    want = author_names(truth)
    return bool(want) and want == author_names(got)


def byline_match(truth: str | None, got: str | None) -> bool:
    """For Readability's raw bylines ('By Nathan Willis\\n March 25, 2015'): every name
    extracted appears in the byline, or the byline's names equal them."""
    if author_match(truth, got):
        return True
    names = author_names(got)
    byline = squeeze(unicodedata.normalize("NFKC", truth or "")).casefold()
    return bool(names) and bool(byline) and all(name in byline for name in names)


@dataclass
class Hits:
    """Pages whose truth has a field, and how many of them were matched."""

    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += bool(hit)
        self.total += 1

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


# --- corpora (../shared/corpus) -----------------------------------------------------------

CORPORA = ("scrapinghub_aeb", "trafilatura_eval", "mozilla_readability")


def default_corpus_dir() -> Path:
    """``../shared/corpus`` beside the checkout."""
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True)
class TruthPage:
    """One page of a corpus: where its bytes are, the charset declared for them, its truth."""

    corpus: str
    id: str
    url: str
    path: Path
    charset: str | None
    truth: dict[str, Any]

    def has(self, field: str) -> bool:
        """Whether ``field`` is real ground truth for this page (and not empty)."""
        return field in self.truth.get("gt_fields", ()) and bool(self.truth.get(field))

    @property
    def real(self) -> bool:
        """False for mozilla_readability's small hand-made feature tests."""
        return not self.truth.get("feature_test", False)


def corpus_pages(
    folder: Path, limit: int | None = None, real_only: bool = False
) -> list[TruthPage]:
    """Pages of a corpus folder (``ground_truth.jsonl`` + ``html/``), in file order;
    ``real_only`` drops feature tests; ``limit`` keeps the first N after that."""
    pages: list[TruthPage] = []
    with (folder / "ground_truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(pages) >= limit:
                break
            row = json.loads(line)
            path = folder / row["html_path"]
            page = TruthPage(folder.name, row["id"], row.get("url") or "", path,
                             row.get("html_encoding") or row.get("declared_charset"), row)
            if path.is_file() and (page.real or not real_only):
                pages.append(page)
    return pages
