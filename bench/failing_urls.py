"""A second pass over a newsroom whose links fail: what the failing URLs still cost.

    .venv/bin/python bench/failing_urls.py [--feeds 20] [--items 40] [--slow 12]

A synthetic newsroom (``ingest.demo.newsroom``) serves F feeds of I articles on
127.0.0.1; in every 40 articles of a feed one is missing (404), one busy for good
(503), one a PDF and one answers after ``--slow`` seconds, past the read timeout.
Three passes into a fresh embedded PostgreSQL: the first takes everything, the
second changes nothing (failing URLs wait for their next try; 404 and PDF are given
up), the third is the baseline measured in the same run: the same no-change pass
with ``news.url_failures`` emptied first, so that it tries every failing URL again,
as every pass did before failing URLs backed off. Target: the second pass costs at
most 5% of the first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from ingest import db
from ingest.config import parse_config
from ingest.demo.newsroom import Newsroom
from ingest.pipeline import run_pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--slow", type=float, default=12.0, help="seconds the slow page takes")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="news-failing-"))
    os.environ["NEWS_INGEST_HOME"] = str(home)
    dsn = db.embedded_dsn(home)
    with Newsroom(args.feeds, args.items, faults=("missing", "busy", "pdf", "slow"),
                  slow_seconds=args.slow, repost_every=0) as room:
        settings = {"allow_private_hosts": ["127.0.0.1"], "per_host_concurrency": 16,
                    "per_host_delay": 0, "concurrency": 32, "read_timeout": 5,
                    "total_timeout": 10}
        config = parse_config({"settings": settings, "sources": room.sources()})
        print(f"{args.feeds} feeds of {args.items} articles; per 40 articles: a 404, a 503, "
              f"a PDF and a page of {args.slow:g} s (read timeout 5 s)")
        timings = []
        for label in ("first pass", "no-change pass",
                      "baseline: no-change pass, failing URLs retried"):
            if label.startswith("baseline"):
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("DELETE FROM news.url_failures")
            started = time.perf_counter()
            result = run_pass(config, dsn, quality_dir=home / "quality")
            seconds = time.perf_counter() - started
            timings.append(seconds)
            s = result.summary
            print(f"{label}: {seconds:.1f} s, {result.fetch.requests} requests, "
                  f"{s['articles_new']} new, {s['articles_seen_before']} known, "
                  f"{s['articles_skipped']} waiting, {s['rejections']} rejected")
    first, second, retried = timings
    print(f"no-change pass: {100 * second / first:.1f}% of the first (target 5%); "
          f"retrying the failing URLs: {100 * retried / first:.1f}%")


if __name__ == "__main__":
    main()
