"""
### news_backfill

Fetches a source's older articles between two dates: a sitemap source's (or a
discovered site's) sitemaps by their `lastmod` and publication dates, a list
page source's next pages further back. Trigger it by hand with the source's
name and the dates; the regular `news_ingest` runs keep going beside it.

Params: `config` (sources file), `source` (required), `since` and `until`
(YYYY-MM-DD, `until` defaults to today), `max_steps` (stop after this many steps
of at most `settings.sitemap_max_documents` documents each; trigger again to go
on). It never fetches an article the warehouse holds, and an interrupted
backfill, triggered again with the same dates, goes on where it stopped
(`news.backfills`). Emits `news_articles`, so the digest is rebuilt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task
from news_ingest_airflow import ARTICLES, record_failure, warehouse_dsn


@dag(
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["news", "maintenance"],
    params={
        "config": Param(None, type=["null", "string"], description="sources file path"),
        "source": Param(None, type=["null", "string"], description="the source to backfill"),
        "since": Param(None, type=["null", "string"], format="date",
                       description="first day, YYYY-MM-DD (required)"),
        "until": Param(None, type=["null", "string"], format="date",
                       description="last day, YYYY-MM-DD (default today)"),
        "max_steps": Param(None, type=["null", "integer"], minimum=1,
                           description="stop after this many steps (trigger again to go on)"),
    },
    default_args={"retries": 0, "on_failure_callback": record_failure},
)
def news_backfill() -> None:
    @task(outlets=[ARTICLES], execution_timeout=dt.timedelta(hours=24))
    def backfill(params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from ingest import sources
        from ingest.backfill import backfill as run

        if not params.get("source") or not params.get("since"):
            raise ValueError("news_backfill needs the params source and since (YYYY-MM-DD)")
        _, config = sources.load(params.get("config"))
        until = params.get("until")
        result = run(
            config, warehouse_dsn(), params["source"], dt.date.fromisoformat(params["since"]),
            dt.date.fromisoformat(until) if until else None, max_steps=params.get("max_steps"),
            trigger="airflow",
        )
        counts = result.counts
        summary = {
            "run_id": result.run_id, "source": result.source, "steps": result.steps,
            "finished": result.finished, "sitemaps_read": result.documents,
            "articles_new": counts.articles_new, "articles_fetched": counts.articles_fetched,
            "rejections": counts.reasons, "messages": result.messages,
        }
        outlet_events[ARTICLES].extra = summary
        return summary

    backfill()


news_backfill()
