"""Page types: what ``ingest.pagetype`` keeps out and lets through, on every corpus.

    .venv/bin/python bench/pagetype.py [--corpus DIR] [--fresh] [--json PATH]
    .venv/bin/python bench/pagetype.py --train      # refit ingest/rules/pagetype_model.json

Every page of ../shared/corpus (wcxb_dev, scrapinghub_aeb, mozilla_readability's real pages,
trafilatura_eval) goes through what a pass does before loading:

* extraction (``ingest.extract.extract_page``): an empty page is kept out (``no_content``);
* the validation rules that do not need the warehouse, as ``ingest.validate`` applies them:
  fewer than 80 words (``too_short``), no title, a stub page, mojibake;
* the classifier (``ingest.pagetype.classify`` on the tree extraction parsed, with the text,
  title, date and author it found): a page that is not an article is kept out
  (``not_an_article``).

It prints, for wcxb_dev's two halves (even rows of ground_truth.jsonl: the model's training
half; odd rows: the confirming half) and for each article corpus, per page type: pages,
kept out by each cause (the first that stops a page), loaded; the articles lost by cause; the
trade-off at other thresholds than the model's; the classifier's time per page beside
extraction's; and every page of the article corpora the classifier keeps out, with its
evidence (trafilatura_eval has no page types: those are to be read). ``--json PATH``
writes the figures and every page's verdict (the corpus test reads them).

Extraction is the slow part (about 50 ms a page), so its results are cached in
``bench/results/pagetype-extraction.json``, keyed by the page's bytes and a digest of the
extraction code and trafilatura's version (``--fresh`` ignores the cache). The classifier
always runs afresh. Its cost is compared with extraction's on the same pages in the same
run: every ``--timing``-th page (default 10th) is extracted again, timed, and its
classification timed beside it (a machine shared with other work slows both alike).

``--train`` fits the model on wcxb_dev's even rows only, with numpy (no other dependency):

* the signals are standardised (the means and scales are kept in the model);
* article or not: logistic regression with an L2 penalty, the penalty chosen by 5-fold
  cross-validation on the training half, repeated over 20 shuffles (best mean out-of-fold
  log-loss);
* the threshold: in each of those 20 runs, the highest out-of-fold probability at which the
  classifier alone loses at most ``--max-loss`` (0.5%) of the training half's articles that
  extraction and validation let through; the threshold is their median (one run's depends
  much on which fold held the few odd articles). 0.5%: the target for articles lost is 2%
  all causes together, extraction and validation already lose 1%, and half of the rest is
  kept as a margin for pages unlike the training half's;
* the kind of a page that is not an article: softmax regression over the other kinds
  (L2), fitted on the training half's non-articles; below ``KIND_CONFIDENCE`` the kind is
  ``other``.

then writes ``ingest/rules/pagetype_model.json`` and reports as above.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import pagetype
from ingest.evaluate import corpus_pages, default_corpus_dir

CORPORA = ("wcxb_dev", "scrapinghub_aeb", "mozilla_readability", "trafilatura_eval")
CACHE = ROOT / "bench" / "results" / "pagetype-extraction.json"
MODEL = ROOT / "ingest" / "rules" / "pagetype_model.json"
# The code whose change changes what extraction gives (the cache's key).
EXTRACTION_CODE = ("extract.py", "metadata", "clean.py", "fallback.py", "dedup.py",
                   "rules/clean.yml")
MIN_WORDS = 80
PENALTIES = (0.3, 1.0, 3.0, 10.0, 30.0)
KIND_PENALTY = 3.0
KIND_CONFIDENCE = 0.4
FOLDS = 5
REPEATS = 20
CAUSES = ("no_content", "validation", "not_an_article")


@dataclass
class Page:
    """One corpus page: its truth, what extraction gave, the classifier's verdict."""

    corpus: str
    id: str
    url: str
    page_type: str  # wcxb_dev's human label; "article" for the article corpora
    half: str | None  # "even" / "odd" on wcxb_dev
    outcome: str = ""  # "ok", "no_content" or the first validation reason
    extract_seconds: float = 0.0
    classify_seconds: float = 0.0
    timed: bool = False  # extraction timed again in this run, beside classification
    kind: str = ""
    score: float = 0.0
    evidence: str = ""
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def stopped_by(self) -> str | None:
        """The first stage that keeps the page out, or None when it is loaded."""
        if self.outcome == "no_content":
            return "no_content"
        if self.outcome != "ok":
            return "validation"
        if self.kind != "article":
            return "not_an_article"
        return None


# --- extraction, cached ---------------------------------------------------------------


def extraction_key() -> str:
    import trafilatura

    digest = hashlib.sha256(trafilatura.__version__.encode())
    for name in EXTRACTION_CODE:
        path = ROOT / "ingest" / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _validation(record: Any) -> str:
    """The first reason validation would reject the record for ("ok" when none)."""
    from ingest.validate import mojibake_ratio, quality_rules, stub_candidate

    rules = quality_rules()
    lo, hi = rules["title_length"]
    if record.word_count < MIN_WORDS:
        return "too_short"
    if not record.title or not lo <= len(record.title) <= hi:
        return "title_length"
    head = stub_candidate(record.text)
    if head and any(re.search(p["pattern"], head, re.IGNORECASE) for p in rules["stub_patterns"]):
        return "stub_page"
    if mojibake_ratio(record.text) > rules["max_mojibake_ratio"]:
        return "mojibake"
    return "ok"


def extract(url: str, body: bytes, charset: str | None) -> dict[str, Any]:
    """What extraction and validation make of one page (JSON-able)."""
    from ingest.errors import ExtractError
    from ingest.extract import ExtractJob, extract_page

    started = time.perf_counter()
    try:
        record = extract_page(ExtractJob(source="bench", url=url, body=body,
                                         declared_charset=charset))
    except ExtractError:
        return {"outcome": "no_content", "seconds": time.perf_counter() - started}
    seconds = time.perf_counter() - started
    return {
        "outcome": _validation(record), "seconds": seconds, "text": record.text,
        "title": record.title, "author": record.author,
        "published_at": record.published_at.isoformat() if record.published_at else None,
    }


def load_cache(fresh: bool) -> dict[str, Any]:
    key = extraction_key()
    if not fresh and CACHE.is_file():
        cached = json.loads(CACHE.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return dict(cached)
    return {"key": key, "pages": {}}


def save_cache(cache: dict[str, Any]) -> None:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")


# --- the classifier on every page ------------------------------------------------------


def measure(corpus_dir: Path, corpora: tuple[str, ...] = CORPORA, fresh: bool = False,
            classify: bool = True, timing: int = 10) -> list[Page]:
    """Every page through extraction (cached), validation and the classifier (only its
    signals, for training, when not ``classify``)."""
    from datetime import datetime

    from trafilatura.utils import load_html

    from ingest.extract import decode_html, warm_up
    from ingest.metadata import parse_html

    for name in ("trafilatura", "htmldate", "courlan", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warm_up()
    cache = load_cache(fresh)
    changed = False
    pages: list[Page] = []
    for corpus in corpora:
        folder = corpus_dir / corpus
        if not folder.is_dir():
            continue
        for row, truth in enumerate(corpus_pages(folder, real_only=True)):
            body = truth.path.read_bytes()
            key = f"{corpus}/{truth.id}/{hashlib.sha256(body).hexdigest()[:16]}"
            got = cache["pages"].get(key)
            if got is None:
                got = cache["pages"][key] = extract(truth.url, body, truth.charset)
                changed = True
            page = Page(corpus, truth.id, truth.url, truth.truth.get("page_type") or "article",
                        ("even" if row % 2 == 0 else "odd") if corpus == "wcxb_dev" else None,
                        outcome=got["outcome"], extract_seconds=got["seconds"])
            if classify and timing and len(pages) % timing == 0:
                page.extract_seconds = extract(truth.url, body, truth.charset)["seconds"]
                page.timed = True
            if got["outcome"] != "no_content":
                html, _ = decode_html(body, truth.charset)
                tree = load_html(html)
                if tree is None:
                    tree = parse_html(html)
                published = got["published_at"]
                inputs: dict[str, Any] = {
                    "title": got["title"], "author": got["author"],
                    "published_at": datetime.fromisoformat(published) if published else None}
                if classify:
                    started = time.perf_counter()
                    verdict = pagetype.classify(tree, truth.url, got["text"], **inputs)
                    page.classify_seconds = time.perf_counter() - started
                    page.kind, page.score = verdict.kind, verdict.score
                    page.evidence = verdict.evidence
                else:
                    page.signals = pagetype.signals(tree, truth.url, got["text"], **inputs)
            pages.append(page)
    if changed:
        save_cache(cache)
    return pages


# --- training -----------------------------------------------------------------------------


def _logistic(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """L2-penalised logistic regression by Newton's method: weights, intercept last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    ridge = penalty * np.eye(xb.shape[1])
    ridge[-1, -1] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-xb @ beta))
        gradient = xb.T @ (p - y) + ridge @ beta
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + ridge
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def _probability(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ beta[:-1] + beta[-1])))


def _softmax_regression(x: np.ndarray, labels: list[str], penalty: float
                        ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """L2-penalised multinomial logistic regression by gradient descent (convex):
    the kinds, their weights (features x kinds) and intercepts."""
    kinds = sorted(set(labels))
    y = np.array([[1.0 if label == kind else 0.0 for kind in kinds] for label in labels])
    weights = np.zeros((x.shape[1], len(kinds)))
    bias = np.zeros(len(kinds))
    rate = 0.5
    for _ in range(5000):
        scores = x @ weights + bias
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        weights -= rate * ((x.T @ (p - y)) + penalty * weights) / len(x)
        bias -= rate * (p - y).mean(axis=0)
    return kinds, weights, bias


def _out_of_fold(x: np.ndarray, y: np.ndarray, penalty: float) -> list[np.ndarray]:
    """Each page's probability from a model fitted without it: 5-fold cross-validation,
    repeated over ``REPEATS`` shuffles (fixed seed): the lowest scores of the training
    articles, which set the threshold, vary much with the folds."""
    rng = np.random.default_rng(0)
    runs = []
    for _ in range(REPEATS):
        order = rng.permutation(len(y))
        out_of_fold = np.zeros(len(y))
        for k in range(FOLDS):
            held = np.zeros(len(y), dtype=bool)
            held[order[k::FOLDS]] = True
            out_of_fold[held] = _probability(x[held], _logistic(x[~held], y[~held], penalty))
        runs.append(out_of_fold)
    return runs


def train(pages: list[Page], max_loss: float) -> dict[str, Any]:
    """The model fitted on wcxb_dev's even rows (see the module's docstring)."""
    rows = [p for p in pages if p.corpus == "wcxb_dev" and p.half == "even" and p.signals]
    names = sorted(rows[0].signals)
    raw = np.array([[p.signals[n] for n in names] for p in rows])
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    scale[scale == 0] = 1.0
    x = (raw - mean) / scale
    y = np.array([1.0 if p.page_type == "article" else 0.0 for p in rows])
    # Articles the classifier could lose: those extraction and validation let through.
    at_stake = np.array([p.page_type == "article" and p.outcome == "ok" for p in rows])
    budget = math.floor(max_loss * int(y.sum()))
    best: tuple[float, float, float] | None = None
    for penalty in PENALTIES:
        losses, thresholds = [], []
        for out_of_fold in _out_of_fold(x, y, penalty):
            clipped = np.clip(out_of_fold, 1e-6, 1 - 1e-6)
            losses.append(float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))))
            thresholds.append(float(np.sort(out_of_fold[at_stake])[budget]))
        loss = float(np.mean(losses))
        print(f"penalty {penalty:>5}: out-of-fold log-loss {loss:.4f}")
        if best is None or loss < best[1]:
            best = (penalty, loss, float(np.median(thresholds)))
    assert best is not None
    penalty, _, threshold = best
    beta = _logistic(x, y, penalty)
    threshold = math.floor(threshold * 1000) / 1000
    others = [i for i, p in enumerate(rows) if p.page_type != "article"]
    kinds, weights, bias = _softmax_regression(
        x[others], [rows[i].page_type for i in others], KIND_PENALTY)
    return {
        "about": "Weights of ingest/pagetype.py, written by `python bench/pagetype.py --train` "
                 "(see its docstring); not edited by hand. Per signal: the mean and scale "
                 "that standardise it, its weight for an article (log-odds per scale), and "
                 "its weight for each other kind (softmax).",
        "trained_on": f"wcxb_dev, even rows of ground_truth.jsonl: {len(rows)} pages with "
                      f"text, {int(y.sum())} articles",
        "penalty": penalty,
        "max_loss": max_loss,
        "intercept": round(float(beta[-1]), 4),
        "threshold": threshold,
        "kind_intercepts": {k: round(float(b), 4) for k, b in zip(kinds, bias, strict=True)},
        "kind_confidence": KIND_CONFIDENCE,
        "features": {
            name: {"mean": round(float(mean[i]), 6), "scale": round(float(scale[i]), 6),
                   "article": round(float(beta[i]), 4),
                   "kinds": {k: round(float(weights[i, j]), 4) for j, k in enumerate(kinds)}}
            for i, name in enumerate(names)},
    }


def model_json(model: dict[str, Any]) -> str:
    """The model as reviewable JSON: one line per signal."""
    head = {k: v for k, v in model.items() if k != "features"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    signals = ",\n".join(f"    {json.dumps(name)}: {json.dumps(weights)}"
                          for name, weights in model["features"].items())
    return "{\n" + ",\n".join(lines) + ',\n  "features": {\n' + signals + "\n  }\n}\n"


# --- report -------------------------------------------------------------------------------


def figures(pages: list[Page]) -> dict[str, Any]:
    """Per group (wcxb_dev halves, each article corpus) and page type: pages, kept out by
    cause, loaded; articles lost by cause; time per page."""
    groups: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        name = f"{page.corpus} ({page.half} rows)" if page.half else page.corpus
        groups[name].append(page)
    out: dict[str, Any] = {}
    for name, members in groups.items():
        by_type: dict[str, Counter[str]] = defaultdict(Counter)
        for page in members:
            counts = by_type[page.page_type]
            counts["pages"] += 1
            counts[page.stopped_by or "loaded"] += 1
            if page.stopped_by == "validation":
                counts["validation:" + page.outcome] += 1
        out[name] = {kind: dict(counts) for kind, counts in sorted(by_type.items())}
    out["curve"] = curve(pages, groups)
    timed = [p for p in pages if p.timed and p.outcome != "no_content"]
    out["seconds"] = {
        "pages_timed": len(timed),
        "extract_per_page": sum(p.extract_seconds for p in timed) / max(len(timed), 1),
        "classify_per_page": sum(p.classify_seconds for p in timed) / max(len(timed), 1),
    }
    return out


def curve(pages: list[Page], groups: dict[str, list[Page]]) -> list[dict[str, Any]]:
    """The trade-off at other thresholds than the model's: per group, the share of its
    non-articles kept out (by any cause) and the articles the classifier loses."""
    rows = []
    for threshold in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5):
        row: dict[str, Any] = {"threshold": threshold, "groups": {}}
        for name, members in groups.items():
            ok = [p for p in members if p.outcome == "ok"]
            lost = sum(1 for p in ok if p.page_type == "article" and p.score < threshold)
            others = [p for p in members if p.page_type != "article"]
            figures_: dict[str, Any] = {"lost": lost}
            if others:
                out = sum(1 for p in others if p.outcome != "ok" or p.score < threshold)
                figures_["kept_out"] = out / len(others)
            row["groups"][name] = figures_
        rows.append(row)
    return rows


def report(pages: list[Page], stats: dict[str, Any]) -> None:
    for name, by_type in stats.items():
        if name in ("seconds", "curve"):
            continue
        print(f"\n{name}")
        print(f"  {'page type':<14} {'pages':>6} {'no_content':>10} {'validation':>10} "
              f"{'classifier':>10} {'kept out':>9} {'loaded':>7}")
        for kind, c in by_type.items():
            out = c["pages"] - c.get("loaded", 0)
            share = out / c["pages"]
            print(f"  {kind:<14} {c['pages']:>6} {c.get('no_content', 0):>10} "
                  f"{c.get('validation', 0):>10} {c.get('not_an_article', 0):>10} "
                  f"{out:>4} {share:>4.0%} {c.get('loaded', 0):>7}")
        others = [c for kind, c in by_type.items() if kind != "article"]
        if others:
            total = sum(c["pages"] for c in others)
            out = total - sum(c.get("loaded", 0) for c in others)
            print(f"  {'not articles':<14} {total:>6} {'':>32} {out:>4} {out / total:>4.0%}")
        if "article" in by_type:
            c = by_type["article"]
            lost = c["pages"] - c.get("loaded", 0)
            causes = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in sorted(c.items())
                               if k.startswith("validation:"))
            print(f"  articles lost: {lost} of {c['pages']} ({lost / c['pages']:.1%}): "
                  f"no_content {c.get('no_content', 0)}, validation {c.get('validation', 0)}"
                  f"{' (' + causes + ')' if causes else ''}, classifier "
                  f"{c.get('not_an_article', 0)}")
    if "curve" in stats:
        print("\nother thresholds (kept out: not articles of the half, all causes; lost: "
              "articles the classifier alone loses)")
        for row in stats["curve"]:
            print(f"  {row['threshold']:>5.3f}: " + "; ".join(
                f"{name} kept out {v['kept_out']:.1%}, lost {v['lost']}"
                if "kept_out" in v else f"{name} lost {v['lost']}"
                for name, v in row["groups"].items()))
    seconds = stats["seconds"]
    if seconds["pages_timed"]:
        print(f"\ntime per page, on {seconds['pages_timed']} pages timed in this run: "
              f"classifier {seconds['classify_per_page'] * 1000:.2f} ms, extraction "
              f"{seconds['extract_per_page'] * 1000:.1f} ms "
              f"({seconds['classify_per_page'] / seconds['extract_per_page']:.1%})")
    for page in pages:
        if page.corpus != "wcxb_dev" and page.stopped_by == "not_an_article":
            print(f"  kept out: {page.corpus}/{page.id} {page.url} -> {page.kind} "
                  f"({page.score:.2f}): {page.evidence}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus_dir(),
                        help="folder holding the corpora (default: ../shared/corpus)")
    parser.add_argument("--corpora", default=None,
                        help=f"comma-separated subset of {','.join(CORPORA)}")
    parser.add_argument("--fresh", action="store_true", help="extract again, ignore the cache")
    parser.add_argument("--train", action="store_true",
                        help=f"refit the model on wcxb_dev's even rows into {MODEL}")
    parser.add_argument("--max-loss", type=float, default=0.005,
                        help="share of the training half's articles the classifier may lose")
    parser.add_argument("--timing", type=int, default=10,
                        help="time extraction again on every N-th page (0: none)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    corpora = tuple(args.corpora.split(",")) if args.corpora else CORPORA
    if args.train and "wcxb_dev" not in corpora:
        raise SystemExit("--train needs wcxb_dev")
    pages = measure(args.corpus, corpora, args.fresh, classify=not args.train,
                    timing=args.timing)
    if not pages:
        raise SystemExit(f"no corpus under {args.corpus}")
    if args.train:
        model = train(pages, args.max_loss)
        MODEL.write_text(model_json(model), encoding="utf-8")
        print(f"model written to {MODEL}: penalty {model['penalty']}, "
              f"threshold {model['threshold']}")
        pagetype._model.cache_clear()
        pages = measure(args.corpus, corpora, timing=args.timing)
    stats = figures(pages)
    report(pages, stats)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = {"figures": stats, "pages": [
            {k: v for k, v in asdict(p).items() if k != "signals"} for p in pages]}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
