"""
### news_daily_digest

A downstream consumer of the warehouse, scheduled on the `news_articles` asset
(emitted whenever an ingestion run finishes): rebuilds the digest of the day
(UTC) the articles were first seen, and of the day before when the run is the
first of a new day:

* `news.daily_digest`: articles per source and language;
* `news.daily_top_stories`: the day's most re-posted stories (documents sharing
  a `story_id`), with their copies and the sources that carried them.

`news.build_daily_digest(day)` does the work in SQL, idempotently: any run can
be repeated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import dag, task
from news_ingest_airflow import ARTICLES, warehouse_dsn


@dag(
    schedule=[ARTICLES],
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["news", "digest"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=1)},
)
def news_daily_digest() -> None:
    @task
    def build(dag_run: Any = None, triggering_asset_events: Any = None) -> dict[str, Any]:
        from ingest import db

        # The run's own time, not the clock: a re-run rebuilds the same days.
        day = dag_run.run_after.astimezone(dt.UTC).date()
        days = [day - dt.timedelta(days=1), day]
        with db.connect(warehouse_dsn(), autocommit=True) as conn:
            rows = {str(day): conn.execute("SELECT news.build_daily_digest(%s)", (day,))
                    .fetchone()[0] for day in days}
        events = sum(len(v) for v in (triggering_asset_events or {}).values())
        return {"digest_rows": rows, "triggering_events": events}

    build()


news_daily_digest()
