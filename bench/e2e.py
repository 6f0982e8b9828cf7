"""End-to-end throughput: real pages behind feeds on loopback, into a fresh warehouse.

    .venv/bin/python bench/e2e.py [--pages N] [--per-feed K] [--workers W]

Serves N pages (default: all, about 1,300) of ../shared/corpus (scrapinghub_aeb,
trafilatura_eval, mozilla_readability)
behind RSS feeds on 127.0.0.1, runs one pass of the pipeline into a fresh
embedded PostgreSQL, and prints articles/s end to end. In the same run it times
trafilatura alone, in one process, on the same page bytes with the same
settings (before and after the pipeline, averaged), and prints the ratio (issue
21 asks 1.6x on two cores: the pipeline's fetching, validation and loading hidden
behind its parallel extraction). It also prints where the pass loses time, as
the pass itself measures it (``ingest.pipeline.Timings``, the CLI's "timing:"
line): its start-up (from its start to the first page extracted), its tail (from
the last page extracted to its end: the last batch's validation and load) and how
busy the extraction workers were (their CPU time, from /proc, over workers x the
pass's time).

    .venv/bin/python bench/e2e.py --airflow [--pages N] [--per-feed K] [--workers W]

The same pages through Airflow instead: one ``dag.test()`` of the ``news_ingest``
DAG (plan -> ingest -> finish; every source is on the one loopback host, so plan
makes one batch and one ingest task, and ``max_tasks`` is 1 besides), in a child
process with a throw-away ``AIRFLOW_HOME`` (SQLite metadata, migrated first, not
counted) and the warehouse as the ``news_warehouse`` connection. It prints the
articles/s over the ingest task's own duration (its task instance's start to end
in Airflow's metadata) and their ratio to trafilatura alone, timed in the same run
as above, the DAG run's wall time, and the task's start-up, tail and busy share
from its XCom return value. Why: under Airflow every mapped ingest task pays its
own start-up before its first page (its imports of ingest, starting its extraction
workers), where a CLI pass pays it once. ``dag.test()`` runs the tasks in its own
process, one after another: no task process is started, and plan has already
imported part of ingest when ingest starts, so this start-up is a lower bound of
a real worker's. ``--airflow-log FILE`` keeps Airflow's output.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import db
from ingest.config import parse_config
from ingest.demo.corpus import CorpusPage, CorpusSite, load_corpus
from ingest.pipeline import run_pass
from ingest.standalone import airflow_env, run_airflow

CORPUS = ROOT.parent / "shared" / "corpus"
#: The Airflow variant's child gives up after this long (its process group is killed).
AIRFLOW_TIMEOUT = 3600.0


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
    parser.add_argument("--airflow", action="store_true",
                        help="through one ingest task of the news_ingest DAG (dag.test())")
    parser.add_argument("--airflow-log", type=Path, default=None,
                        help="with --airflow: keep Airflow's output in this file")
    args = parser.parse_args()
    chosen = pages(args.pages)
    print(f"pages: {len(chosen)} from {CORPUS}; cores: {os.cpu_count()}")
    # The baseline is timed before and after the pipeline and averaged, so that a
    # machine whose speed drifts (a shared VM) does not tilt the ratio either way.
    before, alone_ok = trafilatura_alone(chosen)
    if args.airflow:
        airflow_variant(args, chosen, before, alone_ok)
        return

    with tempfile.TemporaryDirectory(prefix="news-bench-") as home:
        dsn = db.embedded_dsn(Path(home))
        with CorpusSite(chosen, per_feed=args.per_feed) as site:
            config = parse_config(site.sources_config(
                min_words=0, extract_workers=args.workers, concurrency=16))
            started = time.perf_counter()
            result = run_pass(config, dsn, run_id="bench", quality_dir=Path(home) / "quality")
            e2e = time.perf_counter() - started
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
    print(f"ratio end-to-end / trafilatura-alone: {e2e_rate / alone_rate:.2f}x (target >= 1.6x)")
    if result.timings is not None:
        print_timings(result.timings.as_dict())


def print_timings(timings: dict[str, float | None]) -> None:
    """Where the pass lost time (ingest.pipeline.Timings): the same figures the CLI's
    and the ingest task's "timing:" lines give."""
    print(f"start-up: {timings['startup']} s from the start to the first page extracted "
          f"(target <= 1 s); tail: {timings['tail']} s from the last page extracted to the "
          f"end (target <= 0.5 s)")
    busy = timings["workers_busy"]
    if busy is not None:
        print(f"extraction workers: {timings['workers']}, busy {busy:.0%} of the pass "
              "(target >= 90%)")


# --- the Airflow variant ------------------------------------------------------------

#: Run by the Airflow variant's child (Airflow reads its configuration when first
#: imported: the child's environment is Airflow's): one dag.test() of news_ingest as
#: tests/test_dags.py runs it, then one JSON line, after RESULT_MARK, with what the
#: bench prints. argv: the DAG folder, the run's conf (JSON), the result line's mark.
AIRFLOW_SCRIPT = """
import json, sys, time

from airflow.dag_processing.dagbag import DagBag
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
if bag.import_errors:
    sys.exit(f"DAG import errors: {bag.import_errors}")
dag = bag.dags["news_ingest"]
for task in dag.tasks:
    task.retries = 0  # a failure ends the run now, not after a retry delay
started = time.perf_counter()
run = dag.test(run_conf=json.loads(sys.argv[2]))
wall = time.perf_counter() - started

def seconds(a, b):
    return (b - a).total_seconds() if a and b else None

tis = run.get_task_instances()
ingest = [ti for ti in tis if ti.task_id == "ingest"]
with create_session() as session:
    xcoms = {
        (x.task_id, x.map_index): XComModel.deserialize_value(x)
        for x in session.scalars(XComModel.get_many(
            run_id=run.run_id, key="return_value", dag_ids=dag.dag_id,
            task_ids=["ingest", "finish"]))
    }
print(sys.argv[3] + json.dumps({
    "state": str(run.state),
    "wall": wall,
    "run_seconds": seconds(run.start_date, run.end_date),
    "tasks": [[ti.task_id, ti.map_index, str(ti.state)] for ti in sorted(
        tis, key=lambda ti: ti.start_date.timestamp() if ti.start_date else float("inf"))],
    "ingest_tasks": len(ingest),
    "ingest_seconds": seconds(ingest[0].start_date, ingest[0].end_date) if ingest else None,
    "ingest": xcoms.get(("ingest", 0)),
    "finish": xcoms.get(("finish", -1)),
}), flush=True)
"""
RESULT_MARK = "e2e-airflow-result: "


def run_child(command: list[str], env: dict[str, str], log: Path) -> None:
    """Run a command, its output appended to ``log``; on failure or timeout, kill its
    process group (extraction workers included) and exit with the log's tail."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(command[:3])} ...\n")
        out.flush()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True)
        try:
            code = proc.wait(timeout=AIRFLOW_TIMEOUT)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if code != 0:
        sys.exit(f"{command[0]} {command[1]} ... failed (exit {code}); {tail(log)}")


def tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"last lines of {log}:\n" + "\n".join(text)


def airflow_variant(args: argparse.Namespace, chosen: list[CorpusPage], before: float,
                    alone_ok: int) -> None:
    """The same pages through one ingest task of the news_ingest DAG (dag.test() in a
    child process); the figures are the task's, from Airflow's metadata and its XCom."""
    import yaml

    with tempfile.TemporaryDirectory(prefix="news-bench-airflow-") as tmp:
        home = Path(tmp)
        log = args.airflow_log.resolve() if args.airflow_log else home / "airflow.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")
        dsn = db.embedded_dsn(home)
        with db.connect(dsn, autocommit=True) as conn:  # not timed: plan finds it done
            db.migrate(conn)
        config = home / "sources.yml"
        env = airflow_env(home, dsn, config)
        env.pop("NEWS_INGEST_POOL")  # dag.test() schedules nothing: Airflow's default pool
        migrating = time.perf_counter()
        run_airflow(["db", "migrate"], env, log)
        migrated = time.perf_counter() - migrating
        with CorpusSite(chosen, per_feed=args.per_feed) as site:
            config.write_text(yaml.safe_dump(site.sources_config(
                min_words=0, extract_workers=args.workers, concurrency=16)), encoding="utf-8")
            run_conf = {"config": str(config), "run_key": "bench-airflow", "max_tasks": 1}
            run_child([sys.executable, "-P", "-c", AIRFLOW_SCRIPT, str(ROOT / "dags"),
                       json.dumps(run_conf), RESULT_MARK], env, log)
        lines = [line for line in log.read_text(encoding="utf-8").splitlines()
                 if line.startswith(RESULT_MARK)]
        if not lines:
            sys.exit(f"the Airflow child printed no result; {tail(log)}")
        out: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARK):])
        tasks = ", ".join(f"{t}{'' if i < 0 else f'[{i}]'} {s}" for t, i, s in out["tasks"])
        if (out["state"] != "success" or out["ingest_tasks"] != 1 or not out["ingest"]
                or not out["ingest_seconds"]):
            sys.exit(f"DAG run {out['state']}, {out['ingest_tasks']} ingest task(s) "
                     f"({tasks}); {tail(log)}")

    after, _ = trafilatura_alone(chosen)
    alone = (before + after) / 2
    alone_rate = alone_ok / alone
    counts = out["ingest"]["sources"].values()
    extracted = sum(c["articles_extracted"] for c in counts)
    reasons: dict[str, int] = {}
    for c in counts:
        for reason, n in c["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    summary = out["finish"] or {}
    stored = summary.get("articles_new", 0) + summary.get("articles_seen_before", 0)
    task = out["ingest_seconds"]
    rate = extracted / task
    print(f"airflow ingest task: {extracted} articles extracted, {stored} stored "
          f"in {task:.2f} s (the task instance's start to end) = {rate:.1f} articles/s "
          f"(rejections {summary.get('rejections')}: {dict(sorted(reasons.items()))})")
    print(f"trafilatura alone: {alone_ok} articles in {alone:.2f} s = {alone_rate:.1f} articles/s "
          f"(one process; {before:.2f} s before the DAG run, {after:.2f} s after)")
    print(f"ratio ingest-task / trafilatura-alone: {rate / alone_rate:.2f}x (target >= 1.6x)")
    print(f"DAG run: {out['state']} in {out['wall']:.2f} s wall (dag.test(); the run's start "
          f"to end in Airflow {out['run_seconds']:.2f} s): {tasks}; "
          f"`airflow db migrate` before it: {migrated:.1f} s, not counted")
    print_timings(out["ingest"]["timings"])


if __name__ == "__main__":
    main()
