"""
### news_reextract

Derives stored articles again from their raw pages (`news.raw_pages`), with no
request to any site: trigger it by hand after upgrading the extractor or
changing cleaning rules, a source's `clean:`, `split:` or `timezone:`.

Params: `config` (sources file), `source` (only this one), `since_days` (only
articles first seen within this many days). Changed records update their
articles in place (a changed text keeps the previous one in
`news.article_versions`); records that fail validation now leave their article
as it was and are listed in `news.rejections`. Emits `news_articles`, so the
digest is rebuilt. Running it twice changes nothing the second time.
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
        "source": Param(None, type=["null", "string"], description="only this source"),
        "since_days": Param(None, type=["null", "number"], minimum=0,
                            description="only articles first seen within this many days"),
    },
    default_args={"retries": 0, "on_failure_callback": record_failure},
)
def news_reextract() -> None:
    @task(outlets=[ARTICLES], execution_timeout=dt.timedelta(hours=6))
    def reextract(params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from ingest import sources
        from ingest.reextract import reextract as run

        _, config = sources.load(params.get("config"))
        days = params.get("since_days")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days is not None else None
        result = run(config, warehouse_dsn(), source=params.get("source"), since=since)
        summary = {
            "run_id": result.run_id, "pages": result.pages, "records": result.records,
            "changed_text": result.changed_text, "changed_metadata": result.changed_metadata,
            "unchanged": result.unchanged, "new_items": result.new_items,
            "kept_as_stored": result.rejected,
        }
        outlet_events[ARTICLES].extra = summary
        return summary

    reextract()


news_reextract()
