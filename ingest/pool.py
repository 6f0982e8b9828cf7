"""Worker processes for CPU-bound stages, usable from asyncio.

Extraction (trafilatura) and validation (Great Expectations) are CPU-bound and
would hold the event loop's GIL; they run in processes started from a
``forkserver`` that has already imported trafilatura, so a new worker is ready
in milliseconds. Pools start on first use, so a pass with nothing new to
process pays nothing for them; :meth:`ProcessPool.start` starts them early, to
overlap their start-up with downloads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_PRELOAD = ["ingest.extract", "ingest.validate", "trafilatura", "py3langid"]


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


class ProcessPool:
    """A lazily started ``ProcessPoolExecutor`` with an async ``run``."""

    def __init__(self, workers: int | None = None, initializer: Callable[[], None] | None = None):
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._initializer = initializer
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_context(), initializer=self._initializer
            )
            if self._initializer is not None:  # spawn the workers now, not at the first job
                for _ in range(self.workers):
                    self._pool.submit(_noop)
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.start(), fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _noop() -> None:
    return None
