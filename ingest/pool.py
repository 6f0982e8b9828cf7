"""Worker processes for CPU-bound stages, usable from asyncio.

Extraction (trafilatura) and validation (Great Expectations) are CPU-bound and
would hold the event loop's GIL; they run in processes started from a
``forkserver`` that has already imported trafilatura, loaded the language model
and extracted a sample page (:mod:`ingest.warm`), so a new worker is ready in
milliseconds and all that is paid once, not once per worker. Starting waits for
that (about a second), on a thread of the pool's, not the event loop's.
Pools start when a pass may need them (:meth:`ProcessPool.start_soon`), and they
are shared by the passes of one
process (``airflow dags test`` runs every task in one process; the Great
Expectations import is paid once, not per task). A worker that dies (a page
that crashes the parser) takes only its own job down: the pool is rebuilt and
the job tried once more. A job over the time it was given (a page that sends
the parser into a loop) raises :class:`JobTimeout` and its worker is killed, the
same way. Workers die with the process that owns the pool, even when it is killed
with SIGKILL (which runs no clean-up): see :func:`_die_with`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_PRELOAD = ["ingest.warm"]  # ingest.extract, warmed up (the validator is spawned)
_shared: dict[tuple[int, str, str, int], ProcessPool] = {}
_shared_lock = threading.Lock()


def _context(method: str) -> Any:
    current = multiprocessing.current_process()
    config: dict[str, Any] = current._config  # type: ignore[attr-defined]
    if current.daemon:
        # A Celery prefork worker runs tasks in daemonic processes, and multiprocessing
        # refuses children to those. Ours are stopped by this process (at exit, or by
        # the executor), so the rule's reason (orphans) does not apply.
        config["daemon"] = False
    authkey_type: Any = multiprocessing.process.AuthenticationString  # type: ignore[attr-defined]
    if not isinstance(config.get("authkey"), authkey_type):
        # Celery's billiard leaves its own authkey type behind, which the standard
        # library refuses to pickle for the forkserver: give this process a fresh one.
        config["authkey"] = authkey_type(os.urandom(32))
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def start_forkserver() -> None:
    """Start the extraction workers' forkserver now, if it is not running: its preload
    (:mod:`ingest.warm`, about a second) then runs while the caller imports, connects
    and reads its sources, instead of after. Cheap (one process started; nothing is
    waited for), and idempotent."""
    from multiprocessing import forkserver

    _context("forkserver")  # the preload list, and a Celery worker's quirks
    forkserver.ensure_running()


class JobTimeout(Exception):
    """A job ran longer than the time :meth:`ProcessPool.run` allowed it."""


class ProcessPool:
    """A lazily started ``ProcessPoolExecutor`` with an async ``run``.

    ``method="spawn"`` starts its processes from a fresh interpreter instead of the
    forkserver, whose preload they do not need (the validator imports Great
    Expectations instead). ``nice`` lowers the workers' priority once their
    initializer has run (:func:`_worker_init`)."""

    def __init__(self, workers: int | None = None, initializer: Callable[[], None] | None = None,
                 method: str = "forkserver", nice: int = 0):
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._initializer = initializer
        self._method = method
        self._nice = nice  # added to the workers' niceness: batch work yields to extraction
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        # Starting blocks until the forkserver has imported and warmed up (seconds, the
        # first time): from asyncio it is done on this thread, not the event loop's.
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="pool-start")

    @classmethod
    def shared(
        cls, workers: int | None = None, initializer: Callable[[], None] | None = None,
        method: str = "forkserver", nice: int = 0,
    ) -> ProcessPool:
        """The process-wide pool for this size, initializer, start method and niceness
        (closed at exit)."""
        size = workers or max(1, os.cpu_count() or 1)
        key = (size, repr(initializer), method, nice)
        with _shared_lock:
            pool = _shared.get(key)
            if pool is None:
                pool = _shared[key] = cls(size, initializer, method, nice)
            return pool

    def start(self) -> ProcessPoolExecutor:
        with self._lock:
            attempts = 3
            while self._pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=_context(self._method),
                    initializer=_worker_init,
                    initargs=(os.getpid(), self._method, self._initializer, self._nice),
                )
                # Spawn every worker now, not at the first job, and without the main
                # module: workers need ingest's functions only, and re-running the
                # program that started them (the `airflow` command, in a task) in
                # each of them is at best slow and at worst fatal.
                try:
                    with _main_module_hidden:
                        for _ in range(self.workers):
                            pool.submit(_noop)
                except BrokenProcessPool:  # a worker died while the others were starting
                    _end(pool)
                    attempts -= 1
                    if not attempts:
                        raise
                    continue
                # Handed out only now: a job submitted while the workers spawn would wait
                # on the executor's lock, and from the event loop that freezes it.
                self._pool = pool
            return self._pool

    def start_soon(self, after: ProcessPool | None = None) -> None:
        """Start the workers in the background (they warm up while pages download);
        ``after`` another pool has started, so that this one's start-up does not
        take the cores from that one's."""
        if self._pool is None:
            self._starter.submit(self._start_after, after)

    def _start_after(self, other: ProcessPool | None) -> ProcessPoolExecutor:
        if other is not None:
            other.start()
        return self.start()

    async def ready(self) -> ProcessPoolExecutor:
        """The started pool, waited for without holding the event loop."""
        pool = self._pool
        if pool is not None:
            return pool
        return await asyncio.get_running_loop().run_in_executor(self._starter, self.start)

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """``fn(*args)`` in a worker. A job still running after ``timeout`` seconds
        raises :class:`JobTimeout`, and its worker is killed (a page that sends the
        parser or a regular expression into a loop would hold it for ever); the other
        jobs of that moment are tried again in new workers, as after a crash."""
        executor = await self.ready()
        try:
            return await self._within(executor, timeout, fn, *args)
        except BrokenProcessPool:
            self._replace(executor)
            return await self._within(await self.ready(), timeout, fn, *args)

    async def _within(self, executor: ProcessPoolExecutor, timeout: float | None,
                      fn: Callable[..., T], *args: Any) -> T:
        job = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        # asyncio.wait, not wait_for: a job given up must not be cancelled, or the
        # executor fails when it later reports the killed workers to it (3.11).
        done, _ = await asyncio.wait({job}, timeout=timeout)
        if done:
            return job.result()
        job.add_done_callback(_retrieve)  # it ends with BrokenProcessPool: nobody waits
        self._kill(executor)
        raise JobTimeout(f"{getattr(fn, '__name__', fn)} gave up after {timeout:g} s")

    def _kill(self, executor: ProcessPoolExecutor) -> None:
        """Kill the workers of ``executor``: its management thread then fails every job
        it holds with BrokenProcessPool, which :meth:`run` tries once more in a new pool.
        (Not ``shutdown(cancel_futures=True)``: that would cancel the waiting jobs'
        callers instead.)"""
        self._forget(executor)
        _end(executor, cancel=False)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        self._forget(broken)
        _end(broken)

    def _forget(self, executor: ProcessPoolExecutor) -> None:
        """The next job starts a new pool (unless another caller did already)."""
        with self._lock:
            if self._pool is executor:
                self._pool = None

    def cpu_seconds(self) -> float | None:
        """CPU time its live workers have used (user + system, from /proc: Linux), or
        None where that cannot be read. Workers replaced after a crash take theirs
        with them."""
        executor = self._pool
        if not os.path.exists("/proc/self/stat"):
            return None
        if executor is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in list(getattr(executor, "_processes", None) or {}):
            try:
                with open(f"/proc/{pid}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except FileNotFoundError:
                continue  # ended since
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _end(executor: ProcessPoolExecutor, cancel: bool = True) -> None:
    """Shut a broken or given-up executor down, and kill whatever worker it still has.

    The executor's management thread, once it finds a worker dead, terminates the
    workers it knows and then waits for each to end; a worker that was being spawned
    at that moment (a job submitted while the pool started) is not terminated, waits
    for a job for ever, and that wait would hold the interpreter's exit (which joins
    every management thread). ``shutdown`` takes the executor's lock, so no spawn is
    under way after it, and none can start: then every worker left is killed."""
    workers = getattr(executor, "_processes", None)  # the dict: shutdown lets go of it
    executor.shutdown(wait=False, cancel_futures=cancel)
    for process in list((workers or {}).values()):
        with contextlib.suppress(Exception):  # gone already, or never started
            process.kill()


@atexit.register
def _close_shared() -> None:
    for pool in list(_shared.values()):
        pool.close()


# A process started by multiprocessing joins its children before atexit handlers run:
# close the pools in multiprocessing's own exit step first, or it waits forever.
multiprocessing.util.Finalize(None, _close_shared, exitpriority=100)


def _worker_init(
    owner: int, method: str, initializer: Callable[[], None] | None, nice: int = 0
) -> None:
    """A worker's first steps: die with the pool's owner, its own initializer, then a
    lower priority when asked. The initializer (the validator's Great Expectations
    import) runs at the owner's: every job waits for it, and at a low priority on
    busy cores it would not end before the last page (its jobs all in the tail)."""
    _die_with(owner, kernel_signal=method == "forkserver")
    if initializer is not None:
        initializer()
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)


def _die_with(owner: int, kernel_signal: bool) -> None:
    """End this process as soon as ``owner`` ends.

    A killed owner runs no clean-up, and a worker blocked on its job queue never
    notices (it holds that pipe's write end itself). So a thread of the worker's
    waits on a pidfd of the owner (a poll once a second where pidfds are missing)
    and exits the process. Workers forked by the forkserver also ask the kernel for
    SIGKILL when their parent ends: the forkserver, which itself exits when the owner
    does; that signal arrives even while the worker's job holds the GIL. (Not for
    spawned workers: their parent thread in the owner may end before the owner.)"""
    if kernel_signal:
        with contextlib.suppress(Exception):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    try:
        pidfd: int | None = os.pidfd_open(owner)
    except (AttributeError, OSError):
        pidfd = None
    if not _alive(owner):
        os._exit(1)

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _alive(owner):
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _noop() -> None:
    return None


class _MainModuleHidden:
    """While workers start, make ``__main__`` look like an interactive session, so
    multiprocessing does not import it again in them. Pools start on threads of
    their own, at once: ``__main__`` stays hidden until the last start ends (one
    start's end must not show it to another start's new workers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starts = 0
        self._saved: tuple[Any, Any, str | None] | None = None  # module, spec, path

    def __enter__(self) -> None:
        with self._lock:
            self._starts += 1
            main = sys.modules.get("__main__")
            if self._starts > 1 or main is None:
                return
            self._saved = (main, main.__spec__, getattr(main, "__file__", None))
            main.__spec__ = None
            if self._saved[2] is not None:
                del main.__file__

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._starts -= 1
            if self._starts or self._saved is None:
                return
            main, spec, path = self._saved
            self._saved = None
            main.__spec__ = spec
            if path is not None:
                main.__file__ = path


_main_module_hidden = _MainModuleHidden()
