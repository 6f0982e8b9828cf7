"""Validation cost: the Great Expectations suite over 10,000 records.

    .venv/bin/python bench/validation.py [--rows 10000] [--bad 0.05]

Prints the import cost of Great Expectations (paid once per process), the time
to validate N synthetic records (5% of them bad in one way or another) with and
without storing the result for Data Docs, the Data Docs build, and, as the
baseline of the same run, the time to extract N/10 pages with trafilatura: the
validation of a batch should be a small share of what its records cost to make.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.dedup import content_hash, word_count
from ingest.models import Article
from ingest.validate import SourceRules, build_docs, validate_records

WORDS = ("trade", "minister", "agreement", "export", "battery", "summit", "investment", "market",
         "energy", "partner")


def records(n: int, bad: float, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 600))) + f" {i}"
        article = Article(
            source=f"source-{i % 20}", url=f"https://site{i % 50}.example/{i}", urls=[],
            title=f"Title {i}", author=None, published_at=now - timedelta(hours=i % 500),
            language="en", site_name=None, text=text, word_count=word_count(text),
            content_hash=content_hash(text),
        )
        if rng.random() < bad:
            kind = rng.randrange(4)
            if kind == 0:
                article.title = None
            elif kind == 1:
                article.text = "Too short."
                article.word_count = 2
                article.content_hash = content_hash(article.text + str(i))
            elif kind == 2:
                article.published_at = now + timedelta(days=10)
            else:
                article.language = "xx"
        out.append(article)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad", type=float, default=0.05)
    args = parser.parse_args()
    batch = records(args.rows, args.bad)
    rules = {f"source-{k}": SourceRules(80, ("en",)) for k in range(20)}

    started = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - started:.2f} s (once per process)")
    validate_records(batch[:50], rules)  # first-call set-up, not timed
    started = time.perf_counter()
    valid, rejected = validate_records(batch, rules)
    plain = time.perf_counter() - started
    print(f"validate {args.rows:,} records: {plain:.2f} s "
          f"({len(valid):,} valid, {len({r.url for r in rejected}):,} rejected)")
    with tempfile.TemporaryDirectory() as quality:
        started = time.perf_counter()
        validate_records(batch, rules, run_id="bench", quality_dir=Path(quality))
        stored = time.perf_counter() - started
        started = time.perf_counter()
        build_docs(Path(quality), "bench")
        docs = time.perf_counter() - started
    print(f"validate and store for Data Docs: {stored:.2f} s; build Data Docs: {docs:.2f} s")
    print(f"per 10,000 rows: {plain / args.rows * 10_000:.2f} s")

    corpus = ROOT.parent / "shared" / "corpus" / "scrapinghub_aeb" / "html"
    if corpus.is_dir():
        import trafilatura

        pages = sorted(corpus.glob("*.html"))[: max(1, args.rows // 100)]
        started = time.perf_counter()
        for page in pages:
            trafilatura.bare_extraction(page.read_bytes(), with_metadata=True)
        per_page = (time.perf_counter() - started) / len(pages)
        print(f"baseline: trafilatura extraction {per_page * 1000:.1f} ms per page, so "
              f"{args.rows:,} pages take ~{per_page * args.rows:.0f} s on one core; "
              f"validation is {plain / (per_page * args.rows):.1%} of that")


if __name__ == "__main__":
    main()
