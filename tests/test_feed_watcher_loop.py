"""The feed watcher must not block the event loop it shares with every other trigger.

Airflow's triggerer runs all triggers in one asyncio loop and logs "Triggerer's async
thread was blocked for N seconds" when a 0.1 s sleep of its watchdog takes longer
than ``[triggerer] blocked_main_thread_warning_threshold`` (0.2 s). This runs
NewFeedEntriesTrigger in a fresh interpreter (cold imports, as in a new triggerer)
next to the same watchdog, against the demo site, for a few polls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT

THRESHOLD = 0.2  # Airflow's default [triggerer] blocked_main_thread_warning_threshold

HARNESS = r"""
import asyncio, json, logging, sys, time

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
# The triggerer has Airflow loaded before any trigger runs: so does this.
from news_ingest_airflow import NewFeedEntriesTrigger

async def main():
    # (no asyncio debug mode: it slows every step down by itself)
    gaps, events = [], 0
    stop = asyncio.Event()

    def queued():  # seconds this thread has spent ready to run but waiting for a core
        try:
            with open("/proc/thread-self/schedstat") as stat:
                return int(stat.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    async def watchdog():  # what the triggerer's block_watchdog measures, and the queueing
        while not stop.is_set():
            start, waited = time.monotonic(), queued()
            await asyncio.sleep(0.1)
            gaps.append((time.monotonic() - start, queued() - waited))

    async def watch():
        nonlocal events
        run = NewFeedEntriesTrigger(config_path=sys.argv[1], tick=0.5).run()
        try:
            async for _ in run:
                events += 1
        finally:
            await run.aclose()

    dog = asyncio.create_task(watchdog())
    task = asyncio.create_task(watch())
    await asyncio.sleep(float(sys.argv[2]))
    task.cancel()
    stop.set()
    await asyncio.gather(dog, task, return_exceptions=True)
    # A gap the loop spent running, blocked on I/O or waiting for the GIL is the watcher's
    # doing; the part of it the loop's thread spent queued for a core (a loaded machine,
    # the other test processes) is the machine's, and the kernel counts it apart.
    busy = max(gap - waited for gap, waited in gaps)
    print(json.dumps({"max_gap": max(g for g, _ in gaps), "max_busy_gap": busy,
                      "events": events, "ticks": len(gaps)}))

asyncio.run(main())
"""


def measure(config: Path, seconds: float = 5.0) -> tuple[dict[str, Any], str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", HARNESS, str(config), str(seconds)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_the_feed_watcher_does_not_block_the_triggerer_loop(demo_site: Any, tmp_path: Path
                                                            ) -> None:
    from ingest.demo.site import sources_yaml

    config = tmp_path / "sources.yml"
    # every second: several polls (the first one a catch-up that reports every source)
    config.write_text(sources_yaml(demo_site.base).replace(
        "settings:\n", "settings:\n  poll_interval: 1\n", 1))
    # Before the fix: 0.29-0.55 s, every time (the imports on the loop); after: 0.10-0.13 s
    # on a quiet machine. On a loaded one (the rest of the suite beside it) a gap can
    # still grow past the threshold while a thread of the watcher's holds the GIL and
    # waits for a core itself: what the watcher does wrong, it does in every try, so
    # the watch is measured up to three times and the best try counts.
    tries = []
    for _ in range(3):
        result, stderr = measure(config)
        assert result["events"] >= 1, stderr[-3000:]  # it did watch, and found the entries
        assert result["ticks"] > 20
        tries.append(result["max_busy_gap"])
        if result["max_busy_gap"] <= THRESHOLD:
            break
    assert min(tries) <= THRESHOLD, (
        f"the event loop was blocked for {', '.join(f'{t:.2f}' for t in tries)} s in "
        f"{len(tries)} tries (the triggerer warns past {THRESHOLD} s):\n{stderr[-3000:]}")
