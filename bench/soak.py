"""Load held: many feeds, pass after pass in one process; memory and descriptors must
stay flat.

    .venv/bin/python bench/soak.py [--feeds 1000] [--items 50] [--passes 5] [--new 5]

A synthetic newsroom (``ingest.demo.newsroom``, in a process of its own so that its
memory is not counted) serves F feeds of I articles on 127.0.0.1; between two passes
every feed moves on by N new articles, as a day of news would. The passes run one
after the other in this process, as they do in a long-lived Airflow worker or the
streaming DAG, into a fresh embedded PostgreSQL. After each pass the bench prints
its time, the new articles, and the resident memory of this process and of its
workers, this process's open file descriptors and threads. Flat means: after the
first pass (which starts the workers), no figure grows from pass to pass by more
than noise.

The newsroom answers every request itself, so the politeness limits per host are
lifted for the run (per_host_concurrency 16, per_host_delay 0).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import db
from ingest.config import parse_config
from ingest.pipeline import run_pass

_SERVER = """
import sys
from ingest.demo.newsroom import Newsroom
with Newsroom(feeds=int(sys.argv[1]), items=int(sys.argv[2]), repost_every=0) as room:
    print(room.base, flush=True)
    for line in sys.stdin:
        room.advance(int(line))
        print("ok", flush=True)
"""


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--new", type=int, default=5, help="new articles per feed per pass")
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(args.feeds), str(args.items)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    base = server.stdout.readline().strip()
    home = Path(tempfile.mkdtemp(prefix="news-soak-"))
    os.environ["NEWS_INGEST_HOME"] = str(home)
    dsn = db.embedded_dsn(home)
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "per_host_concurrency": 16,
                     "per_host_delay": 0, "concurrency": 32, "obey_robots": False},
        "sources": [{"name": f"paper-{f}", "url": f"{base}/feed/{f}.xml"}
                    for f in range(args.feeds)],
    })
    print(f"{args.feeds} feeds of {args.items} articles, {args.new} new per feed per pass, "
          f"{args.passes} passes, in one process")
    print(f"{'pass':>4} {'seconds':>8} {'new':>7} {'requests':>9} {'main MB':>8} "
          f"{'workers MB':>10} {'workers':>7} {'fds':>5} {'threads':>7}")
    rows = []
    try:
        for n in range(1, args.passes + 1):
            started = time.perf_counter()
            result = run_pass(config, dsn, run_id=f"soak-{n}", quality_dir=home / "quality")
            seconds = time.perf_counter() - started
            newsroom = {server.pid, *descendants(server.pid)}  # the site, not ours
            workers = [pid for pid in descendants(os.getpid()) if pid not in newsroom]
            row = (n, seconds, result.summary["articles_new"], result.fetch.requests,
                   rss_kb(os.getpid()) / 1024, sum(rss_kb(p) for p in workers) / 1024,
                   len(workers), len(os.listdir("/proc/self/fd")), len(os.listdir(
                       "/proc/self/task")))
            rows.append(row)
            print(f"{row[0]:>4} {row[1]:>8.1f} {row[2]:>7} {row[3]:>9} {row[4]:>8.0f} "
                  f"{row[5]:>10.0f} {row[6]:>7} {row[7]:>5} {row[8]:>7}", flush=True)
            server.stdin.write(f"{args.new}\n")
            server.stdin.flush()
            server.stdout.readline()
    finally:
        server.terminate()
    if len(rows) > 2:
        later = rows[1:]
        print(f"from pass 2 to pass {len(rows)}: main memory "
              f"{later[0][4]:.0f} -> {later[-1][4]:.0f} MB, workers {later[0][5]:.0f} -> "
              f"{later[-1][5]:.0f} MB, descriptors {later[0][7]} -> {later[-1][7]}, "
              f"threads {later[0][8]} -> {later[-1][8]}")


if __name__ == "__main__":
    main()
