"""Extraction quality: our extractor beside trafilatura's defaults, on every corpus.

    .venv/bin/python bench/extraction.py [--corpus DIR] [--corpora A,B] [--limit N] [--workers W]
                                         [--json PATH]

For each page of ../shared/corpus (scrapinghub_aeb, trafilatura_eval, the real pages of
mozilla_readability, wcxb_dev) it runs, in the same worker and on the same bytes:

* ours: ``ingest.extract.extract_page`` (text, title, published_at, author);
* trafilatura defaults: ``trafilatura.bare_extraction(html, url=..., with_metadata=True)``
  with no other option, on the text ``ingest.extract.decode_html`` gives ("trafilatura
  alone", the floor the issue sets: never worse than it on any corpus).

and prints, per corpus, both figures and ours minus defaults (a ratio for speed):

* scrapinghub_aeb: text precision/recall/F1 as the Article Extraction Benchmark computes
  them (``ingest.evaluate.aeb_score``) and mean bag-of-words F1;
* trafilatura_eval: trafilatura's own snippet evaluation (``SnippetScore``: share of
  ``with`` snippets found, of ``without`` snippets kept out, precision, recall, F1 summed
  over snippets); exact titles, dates (the day) and authors (the same names), each over the
  pages whose truth has that field; and titles again with CSS capitals aside (a truth in
  capitals only, copied from a ``text-transform: uppercase`` heading, matches the page's
  own mixed case: ``title_match_as_shown``; the exact figure is the target);
* mozilla_readability, real pages (``feature_test`` false): text precision/recall/F1,
  titles, bylines (every extracted name found in Readability's byline), dates;
* wcxb_dev: text as scrapinghub_aeb's (over the pages whose truth has text) and snippets as
  trafilatura_eval's, titles, dates and authors; for all pages and for articles only
  (``page_type`` article), each on the even and on the odd rows of ground_truth.jsonl (the
  project's halves: decide on one, confirm on the other);
* pages/s on one core: pages / the summed time of each side's calls (ours includes its
  decoding, hashing, compression and language detection; defaults include decoding).

A failed extraction counts as empty text and missing metadata. Pages run in a process pool
(``--workers``, default: all cores). ``--json PATH`` writes every figure for the tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.evaluate import (
    CORPORA,
    Hits,
    SnippetScore,
    TruthPage,
    aeb_score,
    author_match,
    byline_match,
    corpus_pages,
    date_match,
    default_corpus_dir,
    title_match,
    title_match_as_shown,
    token_f1,
)
from ingest.extract import ExtractJob, decode_html, extract_page

SIDES = ("ours", "defaults")
WCXB = "wcxb_dev"
MEASURED = (*CORPORA, WCXB)
TEXT_SCORED = ("scrapinghub_aeb", "mozilla_readability", WCXB)  # a full true text
SNIPPET_SCORED = ("trafilatura_eval", WCXB)  # with/without snippets
TEXT_METRICS = ("text precision", "text recall", "text F1", "text token F1 (mean)")


@dataclass
class Side:
    """What one extractor gave for one page."""

    text: str
    title: str | None
    day: str | None  # ISO date of the page's date, in its own zone
    author: str | None
    seconds: float


def _ours(page: TruthPage, body: bytes) -> Side:
    from ingest.errors import ExtractError

    started = time.perf_counter()
    try:
        got = extract_page(ExtractJob(source="bench", url=page.url, body=body,
                                      declared_charset=page.charset))
    except ExtractError:
        return Side("", None, None, None, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    day = got.published_at.date().isoformat() if got.published_at else None
    return Side(got.text, got.title, day, got.author, seconds)


def _defaults(page: TruthPage, body: bytes) -> Side:
    import trafilatura

    started = time.perf_counter()
    html, _ = decode_html(body, page.charset)
    doc = trafilatura.bare_extraction(html, url=page.url, with_metadata=True)
    seconds = time.perf_counter() - started
    if doc is None:
        return Side("", None, None, None, seconds)
    date = doc.date if isinstance(doc.date, str) else None
    return Side(doc.text or "", doc.title, date and date[:10], doc.author, seconds)


def measure(page: TruthPage) -> dict[str, Side]:
    """Both extractors on one page (run in a worker)."""
    body = page.path.read_bytes()
    return {"ours": _ours(page, body), "defaults": _defaults(page, body)}


def _page_json(side: Side) -> dict[str, Any]:
    fields = asdict(side)
    fields["text_chars"] = len(fields.pop("text"))
    return fields


def _init_worker() -> None:
    from ingest.extract import warm_up

    for name in ("trafilatura", "htmldate", "courlan", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warm_up()


def score(corpus: str, pages: list[TruthPage], results: list[dict[str, Side]]) -> dict[str, Any]:
    """Figures of one corpus: {metric: {"ours": x, "defaults": y}} plus page counts."""
    metrics: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {"pages": len(pages)}

    def put(name: str, side: str, value: float) -> None:
        metrics.setdefault(name, {})[side] = value

    for side in SIDES:
        got = [r[side] for r in results]
        seconds = sum(g.seconds for g in got)
        pairs = [(p.truth.get("text"), g.text) for p, g in zip(pages, got, strict=True)
                 if corpus in TEXT_SCORED and p.has("text")]
        if pairs:
            aeb = aeb_score(pairs)
            put("text precision", side, aeb.precision)
            put("text recall", side, aeb.recall)
            put("text F1", side, aeb.f1)
            put("text token F1 (mean)", side, sum(token_f1(t, g) for t, g in pairs) / len(pairs))
            if corpus == WCXB:  # not every page has a true text
                counts.update(dict.fromkeys(TEXT_METRICS, len(pairs)))
        if corpus in SNIPPET_SCORED:
            snippets = SnippetScore()
            for p, g in zip(pages, got, strict=True):
                snippets.add(p.truth.get("with") or [], p.truth.get("without") or [], g.text)
            put("'with' snippets found", side, snippets.recall)
            put("'without' snippets absent", side, snippets.without_absent)
            put("snippet precision", side, snippets.precision)
            put("snippet F1", side, snippets.f1)
            put("snippet accuracy", side, snippets.accuracy)
        titles, shown, dates, authors = Hits(), Hits(), Hits(), Hits()
        by_name = byline_match if corpus == "mozilla_readability" else author_match
        for p, g in zip(pages, got, strict=True):
            if p.has("title"):
                titles.add(title_match(p.truth["title"], g.title))
                shown.add(title_match_as_shown(p.truth["title"], g.title))
            if p.has("date"):
                dates.add(date_match(p.truth["date"], g.day))
            if p.has("author"):
                authors.add(by_name(p.truth["author"], g.author))
        author_label = "bylines" if corpus == "mozilla_readability" else "authors"
        for label, hits in (("titles", titles), ("titles, CSS caps aside", shown),
                            ("dates (day)", dates), (author_label, authors)):
            if hits.total:
                put(label, side, hits.rate)
                counts[label] = hits.total
        put("empty text", side, sum(1 for g in got if not g.text))
        put("pages/s (one core)", side, len(got) / seconds if seconds else 0.0)
    return {"counts": counts, "metrics": metrics}


def wcxb_groups(
    pages: list[TruthPage], results: list[dict[str, Side]]
) -> dict[str, tuple[list[TruthPage], list[dict[str, Side]]]]:
    """wcxb_dev's pages (and results) by ``all``/``articles`` and ``even``/``odd`` row, keyed
    ``wcxb_dev/all/even`` and so on; rows are counted as bench/pagetype.py counts them."""
    groups: dict[str, tuple[list[TruthPage], list[dict[str, Side]]]] = {}
    for kind in ("all", "articles"):
        for half in ("even", "odd"):
            chosen = [(p, r) for row, (p, r) in enumerate(zip(pages, results, strict=True))
                      if ("even", "odd")[row % 2] == half
                      and (kind == "all" or p.truth.get("page_type") == "article")]
            groups[f"{WCXB}/{kind}/{half}"] = ([p for p, _ in chosen], [r for _, r in chosen])
    return groups


def _label(corpus: str) -> str:
    if corpus == "mozilla_readability":
        return f"{corpus} (real pages)"
    if corpus.startswith(f"{WCXB}/"):
        _, kind, half = corpus.split("/")
        return f"{WCXB}, {'all pages' if kind == 'all' else 'articles only'}, {half} rows"
    return corpus


def _compare(name: str, ours: float, defaults: float) -> str:
    if name.startswith("pages/s"):
        return f"{ours / defaults:.2f}x" if defaults else "-"
    if name == "empty text":
        return f"{ours - defaults:+.0f}"
    return f"{ours - defaults:+.4f}"


def report(corpus: str, figures: dict[str, Any]) -> None:
    counts = figures["counts"]
    print(f"\n{_label(corpus)}: {counts['pages']} pages")
    print(f"  {'metric':<34} {'ours':>9} {'defaults':>9} {'ours-def':>9}")
    for name, sides in figures["metrics"].items():
        of = f" (of {counts[name]})" if name in counts else ""
        ours, defaults = sides["ours"], sides["defaults"]
        if name == "empty text":
            values = f"{ours:>9.0f} {defaults:>9.0f}"
        elif name.startswith("pages/s"):
            values = f"{ours:>9.1f} {defaults:>9.1f}"
        else:
            values = f"{ours:>9.4f} {defaults:>9.4f}"
        print(f"  {name + of:<34} {values} {_compare(name, ours, defaults):>9}")


def run(corpus_dir: Path, limit: int | None, workers: int | None,
        corpora: tuple[str, ...] = MEASURED) -> dict[str, Any]:
    """Measure ``corpora`` found under ``corpus_dir``; returns the JSON-able figures."""
    chosen: dict[str, list[TruthPage]] = {}
    for corpus in corpora:
        folder = corpus_dir / corpus
        if folder.is_dir():
            chosen[corpus] = corpus_pages(folder, limit=limit,
                                          real_only=corpus == "mozilla_readability")
    every = [page for pages in chosen.values() for page in pages]
    if not every:
        raise SystemExit(f"no corpus under {corpus_dir}")
    started = time.perf_counter()
    with ProcessPoolExecutor(workers or os.cpu_count() or 1, initializer=_init_worker) as pool:
        results = list(pool.map(measure, every, chunksize=4))
    wall = time.perf_counter() - started
    out: dict[str, Any] = {"corpus_dir": str(corpus_dir), "limit": limit,
                           "wall_seconds": wall, "corpora": {}}
    at = 0
    for corpus, pages in chosen.items():
        got = results[at:at + len(pages)]
        at += len(pages)
        if corpus == WCXB:
            for key, (group, group_got) in wcxb_groups(pages, got).items():
                out["corpora"][key] = score(corpus, group, group_got)
        else:
            out["corpora"][corpus] = score(corpus, pages, got)
    out["trafilatura_defaults_call"] = "bare_extraction(html, url=url, with_metadata=True)"
    out["pages"] = {
        f"{page.corpus}/{page.id}": {side: _page_json(r[side]) for side in SIDES}
        for page, r in zip(every, results, strict=True)
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus_dir(),
                        help="folder holding the corpora (default: ../shared/corpus)")
    parser.add_argument("--corpora", default=",".join(MEASURED),
                        help=f"comma-separated subset of {','.join(MEASURED)} (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    corpora = tuple(args.corpora.split(","))
    if unknown := set(corpora) - set(MEASURED):
        parser.error(f"unknown corpora: {', '.join(sorted(unknown))}")
    import trafilatura

    from ingest.extract import extractor_version

    figures = run(args.corpus, args.limit, args.workers, corpora)
    print(f"corpus: {args.corpus}; ours: {extractor_version()}; defaults: trafilatura "
          f"{trafilatura.__version__} {figures['trafilatura_defaults_call']}; "
          f"cores: {os.cpu_count()}")
    for corpus, corpus_figures in figures["corpora"].items():
        report(corpus, corpus_figures)
    print(f"\n{len(figures['pages'])} pages, both extractors, in {figures['wall_seconds']:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
