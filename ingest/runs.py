r"""Runs: their beginning and end, their bookkeeping (``news.run_log``, read as
``news.runs``; ``news.run_sources``; ``news.quality``), and how a run whose process
died gets closed.

:func:`begin_run` migrates the warehouse and :func:`repair`\s what killed passes left
before it opens a run; :func:`end_run` closes it.

A process working on a run holds a :class:`RunGuard`: a shared advisory lock on the
run, on a connection of its own, and a heartbeat every 30 s. A kill (SIGKILL
included) closes that connection, so the lock goes with the process.
:func:`close_abandoned`, called by every pass, by the DAG's ``finish`` and by
``news-ingest db repair``, closes as ``aborted`` the runs still ``running`` whose
lock nobody holds: at once for runs that one process carries from start to end
(the CLI, the demo, revalidate, reextract), and after ``stale_after`` without a
heartbeat for Airflow runs, whose tasks run one after another in different
processes (a queued ingest task holds nothing yet).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ingest import db, derive, rawstore, spool, stories, upgrade, validate
from ingest.config import Environment, Settings
from ingest.models import SourceCounts

log = logging.getLogger(__name__)

RUN_LOCK = 0x72756E73  # 'runs': the advisory lock class of runs, keyed by hashtext(run_id)
HEARTBEAT_SECONDS = 30.0
#: Triggers whose runs are carried by several processes in turn (Airflow's tasks).
_SPANS_PROCESSES = frozenset({"airflow"})


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(
    conn: psycopg.Connection[Any], run_id: str, trigger: str, started_at: datetime
) -> None:
    """Create the run's row; a re-run of the same run id marks it running again."""
    with conn.transaction():
        conn.execute(
            """INSERT INTO news.run_log (run_id, trigger, started_at, heartbeat_at, owner)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (run_id) DO UPDATE
               SET status = 'running', finished_at = NULL, message = NULL,
                   heartbeat_at = EXCLUDED.heartbeat_at, owner = EXCLUDED.owner""",
            (run_id, trigger, started_at, started_at, owner()),
        )


class RunGuard:
    """Marks a run as worked on by this process for as long as the ``with`` block
    lasts: a shared advisory lock on a connection of its own, and a heartbeat thread.

    The lock is shared, so the mapped tasks of one Airflow run hold it together. If
    the connection drops (the warehouse restarted), the heartbeat reconnects and takes
    the lock again; a run closed as aborted meanwhile is marked running again."""

    def __init__(self, dsn: str, run_id: str, interval: float = HEARTBEAT_SECONDS) -> None:
        self.dsn = dsn
        self.run_id = run_id
        self.interval = interval
        self._conn: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RunGuard:
        self._connect()
        self._thread = threading.Thread(target=self._beat_forever, name="run-heartbeat",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._conn is not None:
            # Released now, not when the server notices the closed connection (a moment
            # later on a busy machine, when the caller may already look for it).
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock_shared(%s, hashtext(%s))",
                                   (RUN_LOCK, self.run_id))
            self._conn.close()

    def _connect(self) -> None:
        conn = db.connect(self.dsn, autocommit=True)
        conn.execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))", (RUN_LOCK, self.run_id))
        self._conn = conn
        with contextlib.suppress(psycopg.errors.UndefinedTable):  # a warehouse not migrated yet
            self._beat()

    def _beat(self) -> None:
        assert self._conn is not None
        self._conn.execute(
            """UPDATE news.run_log
               SET heartbeat_at = now(), owner = %s,
                   finished_at = CASE WHEN status = 'aborted' THEN NULL ELSE finished_at END,
                   status = CASE WHEN status = 'aborted' THEN 'running' ELSE status END
               WHERE run_id = %s""",
            (owner(), self.run_id),
        )

    def _beat_forever(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    if self._conn is not None:
                        self._conn.close()
                    self._connect()
                else:
                    self._beat()
            except Exception as exc:  # the warehouse is away: the pass itself reports it
                log.debug("run heartbeat failed: %s", exc)


def close_abandoned(
    conn: psycopg.Connection[Any], stale_after: timedelta = timedelta(hours=1)
) -> list[str]:
    """Close as ``aborted`` the runs left ``running`` by a process that died. Returns
    their ids. Safe beside live runs: one whose lock is held is never touched."""
    rows = conn.execute(
        """SELECT run_id, trigger, coalesce(heartbeat_at, started_at) < now() - %s
           FROM news.run_log WHERE status = 'running' ORDER BY started_at""",
        (stale_after,),
    ).fetchall()
    closed = []
    for run_id, trigger, stale in rows:
        if trigger in _SPANS_PROCESSES and not stale:
            continue  # between two tasks of a live Airflow run, nothing holds the lock
        free = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                            (RUN_LOCK, run_id)).fetchone()
        if not free or not free[0]:
            continue
        try:
            done = conn.execute(
                """UPDATE news.run_log
                   SET status = 'aborted', finished_at = coalesce(heartbeat_at, started_at),
                       message = concat_ws('; ', message, %s::text)
                   WHERE run_id = %s AND status = 'running'""",
                ("aborted: the process working on the run stopped without closing it "
                 f"(last sign of life at the time in finished_at); closed by {owner()}",
                 run_id),
            ).rowcount
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (RUN_LOCK, run_id))
        if done:
            closed.append(run_id)
            log.warning("run %s was left running by a process that died: closed as aborted",
                        run_id)
    return closed


def record_source_counts(
    conn: psycopg.Connection[Any], run_id: str, counts: Iterable[SourceCounts], at: datetime
) -> None:
    rows = [
        (run_id, c.source, at, c.feeds_fetched, c.entries_seen, c.articles_fetched,
         c.articles_extracted, c.articles_valid, c.articles_new, c.articles_seen_before,
         c.rejections, c.articles_changed, c.near_duplicates, c.articles_skipped)
        for c in counts
    ]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO news.run_sources (run_id, source, finished_at, feeds_fetched,
                   entries_seen, articles_fetched, articles_extracted, articles_valid,
                   articles_new, articles_seen_before, rejections, articles_changed,
                   near_duplicates, articles_skipped)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (run_id, source) DO UPDATE SET
                   articles_changed = EXCLUDED.articles_changed,
                   near_duplicates = EXCLUDED.near_duplicates,
                   finished_at = EXCLUDED.finished_at,
                   feeds_fetched = EXCLUDED.feeds_fetched,
                   entries_seen = EXCLUDED.entries_seen,
                   articles_fetched = EXCLUDED.articles_fetched,
                   articles_extracted = EXCLUDED.articles_extracted,
                   articles_valid = EXCLUDED.articles_valid,
                   articles_new = EXCLUDED.articles_new,
                   articles_seen_before = EXCLUDED.articles_seen_before,
                   rejections = EXCLUDED.rejections,
                   articles_skipped = EXCLUDED.articles_skipped""",
            rows,
        )


def source_history(
    conn: psycopg.Connection[Any], sources: Iterable[str], run_id: str, limit: int = 50
) -> dict[str, list[int]]:
    """New-article counts of each source's earlier runs, newest first."""
    rows = conn.execute(
        """SELECT source, articles_new FROM (
               SELECT source, articles_new, row_number() OVER (
                          PARTITION BY source ORDER BY finished_at DESC) AS n
               FROM news.run_sources WHERE source = ANY(%s) AND run_id <> %s) r
           WHERE n <= %s ORDER BY source, n""",
        (list(sources), run_id, limit),
    ).fetchall()
    history: dict[str, list[int]] = {}
    for source, new in rows:
        history.setdefault(source, []).append(new)
    return history


def record_quality(
    conn: psycopg.Connection[Any], run_id: str, counts: Iterable[SourceCounts], at: datetime
) -> None:
    """One ``news.quality`` row per source that reached validation or has a gate verdict."""
    rows = [
        (run_id, c.source, at, c.validated, c.validated - c.validation_rejected,
         c.validation_rejected, Jsonb(c.validation_reasons), c.gate or "skipped", c.gate_message)
        for c in counts
        if c.validated or c.gate == "failed"
    ]
    if not rows:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO news.quality (run_id, source, validated_at, rows_validated,
                   rows_passed, rows_rejected, reasons, gate, gate_message)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (run_id, source) DO UPDATE SET
                   validated_at = EXCLUDED.validated_at,
                   rows_validated = EXCLUDED.rows_validated,
                   rows_passed = EXCLUDED.rows_passed,
                   rows_rejected = EXCLUDED.rows_rejected,
                   reasons = EXCLUDED.reasons, gate = EXCLUDED.gate,
                   gate_message = EXCLUDED.gate_message""",
            rows,
        )


def note_run(conn: psycopg.Connection[Any], run_id: str, note: str) -> None:
    """Add a note to the run's message (once, however often it is added)."""
    with conn.transaction():
        conn.execute(
            """UPDATE news.run_log SET message = concat_ws('; ', message, %s::text)
               WHERE run_id = %s AND (message IS NULL OR strpos(message, %s) = 0)""",
            (note, run_id, note),
        )


def flag_run(conn: psycopg.Connection[Any], run_id: str, message: str) -> None:
    """Mark a run failed while it is still going (a quality gate), keeping the reason."""
    with conn.transaction():
        conn.execute(
            """UPDATE news.run_log SET status = 'failed',
                   message = concat_ws('; ', message, %s::text)
               WHERE run_id = %s AND (message IS NULL OR strpos(message, %s) = 0)""",
            (message, run_id, message),
        )


def finish_run(
    conn: psycopg.Connection[Any],
    run_id: str,
    finished_at: datetime,
    status: str = "success",
    message: str | None = None,
) -> dict[str, Any]:
    """Close the run and return its row of ``news.runs``."""
    with conn.transaction():
        conn.execute(
            """UPDATE news.run_log
               SET finished_at = %(at)s, status = %(status)s,
                   message = CASE WHEN %(message)s::text IS NULL THEN message
                                  ELSE concat_ws('; ', message, %(message)s::text) END
               WHERE run_id = %(run)s""",
            {"at": finished_at, "status": status, "message": message, "run": run_id},
        )
    return run_summary(conn, run_id)


def run_summary(conn: psycopg.Connection[Any], run_id: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT * FROM news.runs WHERE run_id = %s", (run_id,)).fetchone()
    return dict(row) if row else {}


def airflow_run_key(dag_id: str, run_id: str, param: str | None,
                    logical_date: datetime | None, full_refresh: bool) -> str:
    """The warehouse run id of an ingestion DAG run: its ``run_key`` param, else for a
    full refresh ``<dag_id>-<logical day>`` (re-running a date updates the same rows),
    else the Airflow run id."""
    if param:
        return str(param)
    if full_refresh and logical_date is not None:
        return f"{dag_id}-{logical_date:%Y-%m-%d}"
    return run_id


def new_run_id(trigger: str) -> str:
    return f"{trigger}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def repair(
    conn: psycopg.Connection[Any], settings: Settings, spool_dir: Path | None = None
) -> dict[str, Any]:
    """Finish what killed or cut-off passes left behind: run pending data steps of
    migrations, close their runs as ``aborted``, rebuild the near-duplicate index if a
    crash emptied it, write the derived data (stories, search) of articles loaded just
    before a kill, and load the batches spooled while the warehouse was away.
    Idempotent, cheap when there is nothing to do; every pass starts with it
    (``news-ingest db repair`` too)."""
    window = timedelta(days=settings.story_window_days)
    steps = upgrade.run_pending(conn)
    aborted = close_abandoned(conn, timedelta(seconds=settings.abandoned_run_after))
    rebuilt = stories.ensure_story_index(conn, window)
    if rebuilt:
        log.warning("rebuilt the near-duplicate index for %d articles", rebuilt)
    queued = derive.pending(conn)
    drained = derive.drain(conn, window) if queued else derive.Drained()
    if queued:
        log.warning("wrote the stories and search entries of %d article(s) left by a killed "
                    "pass", queued)
    replayed = spool.replay(conn, spool_dir, window, rawstore.open_store(
        settings, Environment().home)) if spool_dir is not None else 0
    return {"aborted_runs": aborted, "index_rebuilt": rebuilt, "derived": drained.linked,
            "indexed": drained.indexed, "spooled_loaded": replayed, "data_steps": steps}


def begin_run(
    dsn: str, run_id: str, trigger: str, settings: Settings | None = None,
    spool_dir: Path | None = None,
) -> None:
    """Migrate the warehouse, repair what killed passes left (:func:`repair`), and open
    the run's record (idempotent)."""
    settings = settings or Settings()
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        repair(conn, settings, spool_dir or spool.directory(Environment().home, dsn))
        start_run(conn, run_id, trigger, datetime.now(UTC))


def end_run(
    dsn: str, run_id: str, status: str = "success", message: str | None = None,
    *, sweep: bool = False,
) -> dict[str, Any]:
    """Close the run's record and return its ``news.runs`` row; with ``sweep``, also
    close earlier runs whose processes died (:func:`close_abandoned`)."""
    with db.connect(dsn, autocommit=True) as conn:
        summary = finish_run(conn, run_id, datetime.now(UTC), status, message)
        if sweep:
            close_abandoned(conn, timedelta(seconds=Settings().abandoned_run_after))
        return summary


def judge(
    conn: psycopg.Connection[Any],
    run_id: str,
    counts: dict[str, SourceCounts],
    gates: dict[str, validate.GateRules],
    notes: Iterable[str] = (),
) -> list[str | None]:
    """A pass's end: each source's quality gate, then the run's records
    (``news.run_sources``, ``news.quality``, notes on its message). Returns the
    messages of the gates that failed (the run is flagged failed with them)."""
    now = datetime.now(UTC)
    history = source_history(conn, list(counts), run_id)
    for name, c in counts.items():
        c.gate, c.gate_message = validate.check_gate(
            name, c.validated, c.validation_rejected, c.validation_reasons, c.articles_new,
            history.get(name, []), gates[name],
        )
    record_source_counts(conn, run_id, counts.values(), now)
    record_quality(conn, run_id, counts.values(), now)
    for note in notes:
        note_run(conn, run_id, note)
    failed = [c.gate_message for c in counts.values() if c.gate == "failed"]
    if failed:
        flag_run(conn, run_id, "quality gate failed: " + "; ".join(m for m in failed if m))
    return failed
