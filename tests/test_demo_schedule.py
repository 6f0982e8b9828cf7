"""`make demo` runs news_ingest once through Airflow; the scheduler of `make airflow`
(same Airflow home) must still create the day's scheduled run afterwards.

The demo used to pass the day's date as the run's logical date: the @daily schedule's
run for that day then already existed ("run already exists; skipping dagrun
creation", every 30 s) and the day's ingestion never ran.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_demo_logical_date_is_never_a_schedule_instant() -> None:
    from ingest.demo.runner import demo_logical_date

    midnight = datetime(2026, 12, 5, tzinfo=UTC)
    assert demo_logical_date(midnight) != midnight
    assert demo_logical_date(midnight).microsecond != 0
    noon = midnight + timedelta(hours=12, microseconds=5)
    assert demo_logical_date(noon) == noon


def test_after_the_demo_the_scheduler_creates_the_days_run(
    airflow_db: None, dsn: str, demo_site: Any, tmp_path: Path
) -> None:
    from ingest.demo.runner import DEMO_NOTE, _run_dag
    from ingest.demo.site import sources_yaml
    from ingest.standalone import airflow_env, run_airflow

    config = tmp_path / "sources.yml"
    config.write_text(sources_yaml(demo_site.base))
    started = datetime.now(UTC)
    _run_dag(tmp_path, dsn, config)  # what `make demo` runs in Airflow

    # Then Airflow's own scheduler, for a few loops, on the same metadata database. Its
    # pools have no slot: only the creation of the day's run is looked at, no task runs.
    env = airflow_env(tmp_path, dsn, config)
    log = tmp_path / "airflow" / "scheduler.log"
    for pool in ("default_pool", "news_ingest"):
        run_airflow(["pools", "set", pool, "0", "no task runs in this test"], env, log)
    run_airflow(["dags", "unpause", "news_ingest"], env, log)
    run_airflow(["scheduler", "--num-runs", "6", "--skip-serve-logs"], env, log)

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
        runs = db.execute(
            "SELECT r.run_id, r.run_type, r.logical_date, r.start_date, n.content "
            "FROM dag_run r LEFT JOIN dag_run_note n ON n.dag_run_id = r.id "
            "WHERE r.dag_id = 'news_ingest' ORDER BY r.id").fetchall()
    scheduler_log = log.read_text(errors="replace")
    assert "run already exists" not in scheduler_log
    demo = [r for r in runs if r[1] == "manual"]
    assert len(demo) == 1, runs
    _, _, logical, start, note = demo[0]
    assert note == DEMO_NOTE  # the UI says it is the demo's
    logical_date, start_date = utc(logical), utc(start)
    assert logical_date is not None and logical_date >= started.replace(microsecond=0)
    # it started when it ran, not at midnight (the UI showed a demo run "lasting 17 h")
    assert start_date is not None and start_date >= started.replace(microsecond=0)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    scheduled = [r for r in runs if r[1] == "scheduled"]
    assert [utc(r[2]) for r in scheduled] == [midnight], (runs, scheduler_log[-3000:])
