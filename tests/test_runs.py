"""Run bookkeeping, and runs whose process died: closed as aborted, never left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from conftest import ROOT
from ingest import runs
from ingest.models import SourceCounts

SEEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_run_bookkeeping(conn: psycopg.Connection[Any]) -> None:
    runs.start_run(conn, "r1", "cli", SEEN)
    runs.record_source_counts(conn, "r1", [SourceCounts("a", entries_seen=3, articles_new=2),
                                           SourceCounts("b", entries_seen=1, rejections=1)], SEEN)
    runs.record_source_counts(conn, "r1", [SourceCounts("a", entries_seen=3, articles_new=2)], SEEN)
    summary = runs.finish_run(conn, "r1", SEEN)
    assert summary["status"] == "success"
    assert (summary["sources"], summary["entries_seen"], summary["articles_new"],
            summary["rejections"]) == (2, 4, 2, 1)


def status(conn: psycopg.Connection[Any], run_id: str) -> str:
    row = conn.execute("SELECT status FROM news.runs WHERE run_id = %s", (run_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_guarded_run_is_never_closed_and_an_unguarded_one_is(
    dsn: str, conn: psycopg.Connection[Any]
) -> None:
    now = datetime.now(UTC)
    runs.start_run(conn, "alive", "cli", now)
    runs.start_run(conn, "dead", "cli", now)
    with runs.RunGuard(dsn, "alive"):
        assert runs.close_abandoned(conn) == ["dead"]
        assert status(conn, "alive") == "running"
    assert status(conn, "dead") == "aborted"
    message = conn.execute("SELECT message FROM news.runs WHERE run_id = 'dead'").fetchone()
    assert message is not None and "aborted" in message[0]
    assert runs.close_abandoned(conn) == ["alive"]  # its guard is gone now


def test_an_airflow_run_between_tasks_waits_for_its_heartbeat_to_go_stale(
    conn: psycopg.Connection[Any],
) -> None:
    runs.start_run(conn, "manual__1", "airflow", datetime.now(UTC))
    assert runs.close_abandoned(conn, stale_after=timedelta(hours=1)) == []
    conn.execute("UPDATE news.run_log SET heartbeat_at = now() - interval '2 hours'")
    assert runs.close_abandoned(conn, stale_after=timedelta(hours=1)) == ["manual__1"]
    assert status(conn, "manual__1") == "aborted"


def test_a_guard_brings_back_a_run_closed_while_it_was_cut_off(
    dsn: str, conn: psycopg.Connection[Any]
) -> None:
    runs.start_run(conn, "r", "cli", datetime.now(UTC))
    runs.close_abandoned(conn)
    assert status(conn, "r") == "aborted"
    with runs.RunGuard(dsn, "r"):
        assert status(conn, "r") == "running"


def test_a_killed_process_leaves_its_run_to_be_closed(dsn: str, conn: psycopg.Connection[Any]) -> None:
    """SIGKILL runs no clean-up: the lock must go with the process's connection."""
    script = (
        "import sys, time\n"
        "from datetime import UTC, datetime\n"
        "from ingest import db, runs\n"
        "with db.connect(sys.argv[1], autocommit=True) as conn:\n"
        "    runs.start_run(conn, 'victim', 'cli', datetime.now(UTC))\n"
        "with runs.RunGuard(sys.argv[1], 'victim'):\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, dsn], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert runs.close_abandoned(conn) == []  # alive: its lock is held
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not runs.close_abandoned(conn) and time.monotonic() < deadline:
            time.sleep(0.1)  # the server notices the closed socket at once, or nearly
        assert status(conn, "victim") == "aborted"
    finally:
        child.kill()


def test_the_airflow_page_shows_an_aborted_run_as_such(dsn: str, conn: psycopg.Connection[Any]) -> None:
    sys.path.insert(0, str(ROOT / "plugins"))
    from news_ingest_plugin import page_data, render_page

    runs.start_run(conn, "cli-killed", "cli", datetime.now(UTC))
    runs.close_abandoned(conn)
    html = render_page(page_data(dsn), latest_docs=False)
    row = html.split('data-status="aborted"', 1)[1].split("</tr>", 1)[0]
    assert "cli-killed" in row and 'class="bad">aborted' in row
    assert "the process working on the run stopped" in row
