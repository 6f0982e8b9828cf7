"""End-to-end throughput: real pages behind feeds on loopback, into a fresh warehouse.

    .venv/bin/python bench/e2e.py [--pages N] [--per-feed K] [--workers W]

Serves N pages (default: all, about 1,300) of ../shared/corpus (scrapinghub_aeb,
trafilatura_eval, mozilla_readability)
behind RSS feeds on 127.0.0.1, runs one pass of the pipeline into a fresh
embedded PostgreSQL, and prints articles/s end to end. In the same run it times
trafilatura alone, in one process, on the same page bytes with the same
settings (before and after the pipeline, averaged), and prints the ratio. The
target is a ratio of at least 1.3 on two cores: the pipeline's fetching,
validation and loading must hide behind its parallel extraction. It also prints
where the pass loses time: its start-up (from its start to the first page done),
its tail (from the last page done to its end: the last batch's validation and
load, the Data Docs) and how busy the extraction workers were (their CPU time,
from /proc, over workers x the pass's time).
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

from ingest import db
from ingest.config import parse_config
from ingest.demo.corpus import CorpusPage, CorpusSite, load_corpus
from ingest.pipeline import run_pass

CORPUS = ROOT.parent / "shared" / "corpus"


def pages(n: int) -> list[CorpusPage]:
    found: list[CorpusPage] = []
    for name in ("scrapinghub_aeb", "trafilatura_eval", "mozilla_readability"):
        folder = CORPUS / name
        if folder.is_dir():
            found += load_corpus(folder)
    if not found:
        sys.exit(f"no corpus under {CORPUS}")
    return found[:n] if n else found


def trafilatura_alone(chosen: list[CorpusPage]) -> tuple[float, int]:
    """One process, the same extraction call the pipeline makes, on the same bytes."""
    import trafilatura

    bodies = [(p.path.read_bytes(), p.id) for p in chosen]
    trafilatura.bare_extraction(bodies[0][0], with_metadata=True)  # imports warmed, not timed
    started = time.perf_counter()
    ok = 0
    for body, page_id in bodies:
        doc = trafilatura.bare_extraction(
            body, url=f"http://127.0.0.1/page/{page_id}.html", with_metadata=True,
            include_comments=False, include_tables=True, deduplicate=False,
        )
        ok += bool(doc is not None and doc.text)
    return time.perf_counter() - started, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=0, help="how many pages (default: all)")
    parser.add_argument("--per-feed", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    chosen = pages(args.pages)
    print(f"pages: {len(chosen)} from {CORPUS}; cores: {os.cpu_count()}")
    # The baseline is timed before and after the pipeline and averaged, so that a
    # machine whose speed drifts (a shared VM) does not tilt the ratio either way.
    before, alone_ok = trafilatura_alone(chosen)

    with tempfile.TemporaryDirectory(prefix="news-bench-") as home:
        dsn = db.embedded_dsn(Path(home))
        with CorpusSite(chosen, per_feed=args.per_feed) as site:
            config = parse_config(site.sources_config(
                min_words=0, extract_workers=args.workers, concurrency=16))
            done: list[float] = []  # when each entry was done with

            def progress(event: str, source: str, n: int) -> None:
                if event == "item" and n:
                    done.append(time.perf_counter())

            started = time.perf_counter()
            result = run_pass(config, dsn, run_id="bench", quality_dir=Path(home) / "quality",
                              progress=progress)
            e2e = time.perf_counter() - started
            busy, workers = extraction_cpu()
        stored = result.summary["articles_new"] + result.summary["articles_seen_before"]
        extracted = sum(c.articles_extracted for c in result.counts)
        reasons: dict[str, int] = {}
        for counts in result.counts:
            for reason, n in counts.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + n

    after, _ = trafilatura_alone(chosen)
    alone = (before + after) / 2
    e2e_rate = extracted / e2e
    alone_rate = alone_ok / alone
    print(f"end to end:        {extracted} articles extracted, {stored} stored "
          f"in {e2e:.2f} s = {e2e_rate:.1f} articles/s "
          f"(rejections {result.summary['rejections']}: {dict(sorted(reasons.items()))})")
    print(f"trafilatura alone: {alone_ok} articles in {alone:.2f} s = {alone_rate:.1f} articles/s "
          f"(one process; {before:.2f} s before the pipeline, {after:.2f} s after)")
    print(f"ratio end-to-end / trafilatura-alone: {e2e_rate / alone_rate:.2f}x (target >= 1.3x)")
    if done:
        print(f"start-up: {done[0] - started:.2f} s from the pass's start to its first page "
              f"done; tail: {started + e2e - done[-1]:.2f} s "
              "from its last page done to its end")
    if workers:
        print(f"extraction workers: {workers}, busy {busy:.1f} core-s = "
              f"{busy / (workers * e2e):.0%} of the pass")


def extraction_cpu() -> tuple[float, int]:
    """CPU seconds used so far by this process's extraction workers (the children of
    its forkserver), and how many there are (from /proc; Linux only)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    busy, workers = 0.0, 0
    for server in children.get(os.getpid(), []):
        try:
            if b"forkserver" not in Path(f"/proc/{server}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        for worker in children.get(server, []):
            try:
                fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            busy += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            workers += 1
    return busy, workers


if __name__ == "__main__":
    main()
