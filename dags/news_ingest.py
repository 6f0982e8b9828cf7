"""
### news_ingest

One pass over the sources of `sources.yml`: feeds fetched, entries resolved,
pages fetched and extracted, batches validated (Great Expectations), de-duplicated
and loaded into the warehouse (connection `news_warehouse`).

* **plan**: reads the sources file (param `config`, else `$NEWS_INGEST_CONFIG`,
  else `sources.yml` at the project root), migrates the warehouse and opens the
  run's row in `news.runs`; returns batches of source names.
* **ingest**: one mapped task per batch (labelled by its sources) runs the
  `ingest` pipeline for those sources. Failures of single items are rows of
  `news.rejections`, not task failures.
* **finish**: closes the run and emits the `news_articles` asset.

XCom carries source names and counts only. Re-running a run (same run id, or
the same `run_key` param) updates its rows instead of adding new ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

ARTICLES = Asset(name="news_articles", uri="postgres://warehouse:5432/news/news/articles")
WAREHOUSE_CONN_ID = "news_warehouse"


def warehouse_dsn() -> str:
    """The `news_warehouse` connection as a libpq DSN; without one, the
    environment's (NEWS_INGEST_DSN, else the embedded PostgreSQL)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from ingest import db
    from ingest.config import Environment

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        env = Environment()
        return db.resolve_dsn(None, env.dsn, env.home)
    return db.dsn_from_airflow_connection(
        conn.host, conn.login, conn.password, conn.schema, conn.port, conn.extra_dejson
    )


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: the run's row in news.runs says which task failed and why."""
    from ingest import pipeline

    params = context.get("params") or {}
    run_key = params.get("run_key") or context["run_id"]
    ti = context["ti"]
    message = f"task {ti.task_id}[{ti.map_index}] failed: {context.get('exception')!r}"
    try:
        pipeline.end_run(warehouse_dsn(), run_key, "failed", message[:1000])
    except Exception as exc:  # the callback must not hide the task's own error
        print(f"could not record the failure in news.runs: {exc}")


@dag(
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["news", "ingest"],
    params={
        "config": Param(None, type=["null", "string"], description="sources file path"),
        "sources": Param(None, type=["null", "array"], description="only these source names"),
        "run_key": Param(None, type=["null", "string"],
                         description="warehouse run id (default: the Airflow run id)"),
        "max_tasks": Param(32, type="integer", minimum=1, maximum=1024,
                           description="at most this many mapped ingest tasks"),
    },
    default_args={
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=15),
        "on_failure_callback": record_failure,
    },
)
def news_ingest() -> None:
    @task
    def plan(params: Any = None, run_id: Any = None) -> list[dict[str, Any]]:
        from ingest import pipeline, sources

        path, config = sources.load(params.get("config"))
        names = [s.name for s in config.enabled_sources(params.get("sources"))]
        run_key = params.get("run_key") or run_id
        pipeline.begin_run(warehouse_dsn(), run_key, "airflow")
        return [
            {"run_key": run_key, "config": str(path), "sources": batch}
            for batch in sources.plan_batches(names, params["max_tasks"])
        ]

    @task(map_index_template="{{ batch_label }}", execution_timeout=dt.timedelta(hours=2))
    def ingest(batch: dict[str, Any]) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from ingest import pipeline, sources
        from ingest.errors import QualityGateError

        get_current_context()["batch_label"] = ", ".join(batch["sources"])[:200]  # type: ignore[typeddict-unknown-key]
        _, config = sources.load(batch["config"])
        try:
            result = pipeline.ingest_sources(
                config, config.enabled_sources(batch["sources"]), warehouse_dsn(),
                batch["run_key"],
            )
        except QualityGateError as exc:  # good rows are loaded; retrying would not help
            raise AirflowFailException(str(exc)) from exc
        return {c.source: c.as_dict() for c in result.counts}

    @task(outlets=[ARTICLES], trigger_rule="all_done")
    def finish(
        batches: list[dict[str, Any]], results: Any, outlet_events: Any = None
    ) -> dict[str, Any]:
        """Close the run. If an ingest task failed, the run (and this task) fail too,
        after recording it: the DAG run must not look green."""
        from airflow.sdk.exceptions import AirflowFailException

        from ingest import pipeline

        done = list(results)
        if not batches:
            return {}
        failed = len(batches) - len(done)
        message = f"{failed} of {len(batches)} ingest task(s) failed" if failed else None
        run = pipeline.end_run(
            warehouse_dsn(), batches[0]["run_key"], "failed" if failed else "success", message
        )
        if failed:
            raise AirflowFailException(f"{message}: {run.get('message')}")
        summary = {k: run[k] for k in ("run_id", "articles_new", "articles_seen_before",
                                       "rejections")}
        outlet_events[ARTICLES].extra = summary
        return summary

    batches = plan()
    finish(batches, ingest.expand(batch=batches))


news_ingest()
