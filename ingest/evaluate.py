"""Score extracted text against ground truth, as the Article Extraction Benchmark does.

Tokens are ``\\w+`` runs (case kept), compared as multisets of 4-token shingles;
each page's true/false positives and false negatives are normalised to sum to 1;
precision and recall are averaged over pages and F1 is computed from the means.
A page with no extracted text counts 0 in recall and is left out of precision,
as in the benchmark. :func:`token_f1` is the simpler per-page bag-of-words F1.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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
