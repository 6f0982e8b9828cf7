"""Named points where the chaos tests kill (or stall) the process, to prove that a
kill there leaves nothing the next pass cannot repair.

``NEWS_INGEST_FAILPOINT=load.committed`` makes the process SIGKILL itself the first
time it reaches ``reach("load.committed")``; ``load.committed@3`` the third time;
``load.committed@1:sleep=4`` stalls it there for 4 s instead (while the test, say,
restarts the warehouse). Several points are separated by commas. Unset (always,
outside the chaos tests), :func:`reach` is a dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from functools import cache

ENV = "NEWS_INGEST_FAILPOINT"
_lock = threading.Lock()
_counts: dict[str, int] = {}


@cache
def _armed() -> dict[str, tuple[int, float | None]]:
    armed = {}
    for item in filter(None, os.environ.get(ENV, "").split(",")):
        point, _, action = item.strip().partition(":")
        name, _, nth = point.partition("@")
        sleep = float(action.removeprefix("sleep=")) if action.startswith("sleep=") else None
        armed[name] = (int(nth or 1), sleep)
    return armed


def reach(name: str) -> None:
    """Kill (or stall) this process here, now, if the chaos test armed this point."""
    armed = _armed()
    if name not in armed:
        return
    nth, sleep = armed[name]
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == nth
    if not hit:
        return
    if sleep is not None:
        time.sleep(sleep)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
