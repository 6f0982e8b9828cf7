"""
### news-ingest DAGs

Passes over the sources of `sources.yml` (param `config`, else
`$NEWS_INGEST_CONFIG`): feeds fetched, entries resolved, pages fetched and
extracted, batches de-duplicated, validated (Great Expectations) and loaded
into the warehouse (Airflow connection `news_warehouse`).

* **plan** reads the sources file, migrates the warehouse, opens the run's row in
  `news.runs` and returns batches of source names, sources of one site together
  (one task keeps per-host politeness);
* **ingest** is mapped over the batches, each task labelled with its sources,
  and runs the `ingest` pipeline for them. Single items that fail are rows of
  `news.rejections`, not task failures; a quality gate failure turns the task
  red without retries;
* **finish** closes the run and emits the `news_articles` asset (red if a
  batch failed); it also closes as `aborted` earlier runs whose processes died.

XCom carries source names and counts only. Re-running a run updates its rows
and adds none.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import Asset, AssetWatcher, Param, dag, get_current_context, task
from news_ingest_airflow import ARTICLES, NewFeedEntriesTrigger, record_failure, warehouse_dsn

#: Updated by the feed watcher in the triggerer when a feed lists new entries.
FEED_UPDATES = Asset(
    name="news_feed_updates",
    uri="news-ingest://feeds/updates",
    watchers=[AssetWatcher(name="news_feed_watcher", trigger=NewFeedEntriesTrigger())],
)

PARAMS = {
    "config": Param(None, type=["null", "string"], description="sources file path"),
    "sources": Param(None, type=["null", "array"], description="only these source names"),
    "run_key": Param(None, type=["null", "string"],
                     description="warehouse run id (default: derived from the run)"),
    "max_tasks": Param(32, type="integer", minimum=1, maximum=1024,
                       description="at most this many mapped ingest tasks"),
}
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=15),
    "on_failure_callback": record_failure,
    # Ingest tasks share one pool, so a big refresh cannot take every worker slot.
    # `make airflow` and docker-compose create `news_ingest`; default: Airflow's own.
    "pool": os.environ.get("NEWS_INGEST_POOL", "default_pool"),
}


def ingest_dag(dag_id: str, schedule: Any, mode: str, summary: str) -> Any:
    """An ingestion DAG. ``mode``: ``incremental`` (conditional GET, skip known
    entries), ``full`` (every feed body read again, failing feeds tried despite
    their back-off) or ``stream`` (only the sources the triggering events name)."""

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,
        doc_md=f"{summary}\n\n{__doc__}",
        tags=["news", "ingest", mode],
        params=PARAMS,
        default_args=DEFAULT_ARGS,
    )
    def pipeline_dag() -> None:
        @task(pool="default_pool")
        def plan(params: Any = None, run_id: Any = None, logical_date: Any = None,
                 triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            from ingest import runs, sources

            path, config = sources.load(params.get("config"))
            names = params.get("sources")
            if mode == "stream" and names is None:
                names = sorted({
                    name
                    for events in (triggering_asset_events or {}).values()
                    for event in events
                    for name in (event.extra or {}).get("payload", {}).get("sources", [])
                }) or None  # no payload: catch up on every source
            chosen = config.enabled_sources(names)
            run_key = runs.airflow_run_key(dag_id, run_id, params.get("run_key"), logical_date,
                                           full_refresh=mode == "full")
            runs.begin_run(warehouse_dsn(), run_key, "airflow", config.settings)
            return [
                {"run_key": run_key, "config": str(path), "sources": batch, "mode": mode}
                for batch in sources.plan_batches(chosen, params["max_tasks"])
            ]

        @task(map_index_template="{{ batch_label }}", execution_timeout=dt.timedelta(hours=2))
        def ingest(batch: dict[str, Any]) -> dict[str, Any]:
            import time

            started = time.monotonic()  # the task's start-up (its imports) counts too
            from ingest.pool import start_forkserver

            start_forkserver()  # the extraction workers' warm-up runs beside these imports
            from airflow.sdk.exceptions import AirflowFailException

            from ingest import pipeline, sources
            from ingest.console import LogProgress
            from ingest.errors import QualityGateError

            context: Any = get_current_context()
            context["batch_label"] = ", ".join(batch["sources"])[:200]
            _, config = sources.load(batch["config"])
            progress = LogProgress(context["task"].log)  # lines in this task's log
            timings = pipeline.Timings(started=started)  # the task's own start-up counts
            try:
                result = pipeline.ingest_sources(
                    config, config.enabled_sources(batch["sources"]), warehouse_dsn(),
                    batch["run_key"], full_refresh=batch["mode"] == "full", progress=progress,
                    timings=timings,
                )
            except QualityGateError as exc:  # good rows are loaded; retrying would not help
                progress.report(exc.result.counts, {"run_id": batch["run_key"],
                                "status": "quality gate failed"}, time.monotonic() - started)
                raise AirflowFailException(str(exc)) from exc
            progress.report(result.counts, {"run_id": batch["run_key"], "status": "batch done"},
                            time.monotonic() - started)
            context["task"].log.info("timing: %s", timings.text())
            return {"sources": {c.source: c.as_dict() for c in result.counts},
                    "timings": timings.as_dict()}

        @task(outlets=[ARTICLES], trigger_rule="all_done", pool="default_pool")
        def finish(
            batches: list[dict[str, Any]], results: Any, outlet_events: Any = None
        ) -> dict[str, Any]:
            """Close the run. If an ingest task failed, the run (and this task) fail
            too, after recording it: the DAG run must not look green."""
            from airflow.sdk.exceptions import AirflowFailException

            from ingest import runs

            # One slice request: iterating the lazy sequence asks for item after item
            # until one is missing, and that 404 is logged as an error ("XCom not found
            # ... offset=N") by the task supervisor, in the scheduler's log.
            done = list(results[:])
            if not batches:
                return {}
            failed = len(batches) - len(done)
            message = f"{failed} of {len(batches)} ingest task(s) failed" if failed else None
            run = runs.end_run(
                warehouse_dsn(), batches[0]["run_key"], "failed" if failed else "success",
                message, sweep=True,
            )
            if failed:
                raise AirflowFailException(f"{message}: {run.get('message')}")
            summary = {k: run[k] for k in ("run_id", "articles_new", "articles_seen_before",
                                           "rejections")}
            outlet_events[ARTICLES].extra = summary
            return summary

        batches = plan()
        finish(batches, ingest.expand(batch=batches))

    return pipeline_dag()


ingest_dag(
    "news_ingest", "@daily", "incremental",
    "**news_ingest**: one incremental pass a day: feeds with conditional GET, stored "
    "articles never downloaded again. Also what `make demo` runs.",
)
ingest_dag(
    "news_ingest_daily", "@daily", "full",
    "**news_ingest_daily**: the daily full refresh: every feed read again (no conditional "
    "GET), failing feeds tried despite their back-off. Safe to re-run for any date: the run "
    "key is the date (`news_ingest_daily-YYYY-MM-DD`).",
)
ingest_dag(
    "news_ingest_stream", [FEED_UPDATES], "stream",
    "**news_ingest_stream**: event-driven. The `news_feed_watcher` trigger polls the feeds "
    "in the triggerer (conditional GET, each at its `poll_interval`) and updates the "
    "`news_feed_updates` asset when one lists new entries; this DAG then ingests those "
    "sources, whose known entries it skips.",
)
