"""What the warehouse says about ingestion: the figures behind the Airflow page.

Each function takes a psycopg connection and returns plain rows (dicts), so the
Airflow plugin, the CLI or a notebook can show them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.runs import airflow_run_key


def _rows(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return list(cur.execute(sql, params))


def freshness(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Per source: last success, last new item, last article, failing or not."""
    return _rows(conn, """
        SELECT source, feed_url, last_success_at, last_new_item_at, last_article_at,
               articles, failing, consecutive_failures, last_status, last_error
        FROM news.source_freshness ORDER BY failing DESC, source""")


def items_per_day(conn: psycopg.Connection[Any], days: int = 28,
                  today: date | None = None) -> list[dict[str, Any]]:
    """Articles first seen per UTC day over the last ``days`` days (zero days included)."""
    end = today or date.today()
    start = end - timedelta(days=days - 1)
    return _rows(conn, """
        SELECT d::date AS day, coalesce(sum(c.articles), 0)::integer AS articles
        FROM generate_series(%s::date, %s::date, interval '1 day') d
        LEFT JOIN news.daily_source_counts c ON c.day = d::date
        GROUP BY 1 ORDER BY 1""", (start, end))


def rejection_reasons(conn: psycopg.Connection[Any], days: int = 7) -> list[dict[str, Any]]:
    """Rejections by stage and reason over the last ``days`` days."""
    return _rows(conn, """
        SELECT stage, reason, count(*)::integer AS rejections,
               count(DISTINCT source)::integer AS sources
        FROM news.rejections
        WHERE rejected_at > now() - make_interval(days => %s) AND resolved_by IS NULL
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""", (days,))


def recent_runs(conn: psycopg.Connection[Any], limit: int = 10) -> list[dict[str, Any]]:
    return _rows(conn, """
        SELECT run_id, trigger, started_at, finished_at, status, sources, articles_new,
               articles_seen_before, rejections, message
        FROM news.runs ORDER BY started_at DESC LIMIT %s""", (limit,))


def rejected_page_types(conn: psycopg.Connection[Any], days: int = 7) -> list[dict[str, Any]]:
    """Pages kept out as not_an_article over the last ``days`` days, by page type."""
    return _rows(conn, """
        SELECT page_type, sum(pages)::integer AS pages, count(DISTINCT source)::integer AS sources
        FROM news.rejected_page_types
        WHERE day > (now() AT TIME ZONE 'UTC')::date - %s
        GROUP BY 1 ORDER BY 2 DESC, 1""", (days,))


# --- what went wrong, where (issue 19.4) -------------------------------------------


def sources(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Per source: its feed's health, what it brought in, and its last run.

    * ``articles``/``last_article_at``: the articles stored under the source
      (``news.articles.source``);
    * ``linked``: articles stored under another source (their publisher) that the
      source's links also led to (``news.article_urls.source``): what an aggregator
      brought in shows here;
    * ``brought_in``/``last_new_at``: articles the source was first to bring in (its
      URL rows are the article's earliest), and when the latest of them was first
      seen. Only a pass that loaded a new article moves it, unlike
      ``news.feed_state.last_new_item_at`` (kept as ``feed_new_entry_at``), which any
      unseen feed entry moves, even one whose page then failed;
    * ``last_*``: the source's counts in its latest run (``news.run_sources``) and the
      gate it got there (``news.quality``; no row: ``skipped``, nothing validated).
    """
    return _rows(conn, """
        WITH first_bringer AS (
            SELECT DISTINCT ON (u.article_id) u.article_id, u.source
            FROM news.article_urls u JOIN news.articles a USING (article_id)
            ORDER BY u.article_id, u.first_seen_at, u.source <> a.source
        ), own AS (
            SELECT source, count(*)::integer AS articles, max(first_seen_at) AS last_article_at
            FROM news.articles GROUP BY source
        ), brought AS (
            SELECT coalesce(f.source, a.source) AS source, count(*)::integer AS brought_in,
                   max(a.first_seen_at) AS last_new_at
            FROM news.articles a LEFT JOIN first_bringer f USING (article_id) GROUP BY 1
        ), linked AS (
            SELECT u.source, count(DISTINCT u.article_id)::integer AS linked
            FROM news.article_urls u JOIN news.articles a USING (article_id)
            WHERE u.source <> a.source GROUP BY 1
        ), last_run AS (
            SELECT DISTINCT ON (rs.source) rs.source, rs.run_id AS last_run_id,
                   rs.finished_at AS last_run_at, rs.entries_seen AS last_entries,
                   rs.articles_new AS last_new, rs.articles_seen_before AS last_seen_before,
                   rs.rejections AS last_rejections, coalesce(q.gate, 'skipped') AS last_gate,
                   q.gate_message AS last_gate_message
            FROM news.run_sources rs LEFT JOIN news.quality q USING (run_id, source)
            ORDER BY rs.source, rs.finished_at DESC
        )
        SELECT n.source, f.feed_url, f.last_success_at,
               coalesce(f.consecutive_failures > 0, false) AS failing, f.consecutive_failures,
               f.last_status, f.last_error, f.last_new_item_at AS feed_new_entry_at,
               coalesce(o.articles, 0) AS articles, o.last_article_at,
               coalesce(l.linked, 0) AS linked, coalesce(b.brought_in, 0) AS brought_in,
               b.last_new_at, r.last_run_id, r.last_run_at, r.last_entries, r.last_new,
               r.last_seen_before, r.last_rejections, r.last_gate, r.last_gate_message
        FROM (SELECT source FROM news.feed_state UNION SELECT source FROM own
              UNION SELECT source FROM linked) n
        LEFT JOIN news.feed_state f USING (source)
        LEFT JOIN own o USING (source)
        LEFT JOIN brought b USING (source)
        LEFT JOIN linked l USING (source)
        LEFT JOIN last_run r USING (source)
        ORDER BY failing DESC, n.source""")


def quality_gates(conn: psycopg.Connection[Any], run_ids: list[str]) -> list[dict[str, Any]]:
    """The quality gate of every source in each of ``run_ids``: ``passed``, ``failed``
    (``gate_message`` says why, ``reasons`` counts the rejected records per
    expectation) or ``skipped``. A source a run dealt with but that has no
    ``news.quality`` row reached no validation: ``skipped`` with ``judged`` false."""
    return _rows(conn, """
        SELECT k.run_id, k.source, coalesce(q.gate, 'skipped') AS gate, q.gate IS NOT NULL
               AS judged, q.gate_message, coalesce(q.rows_validated, 0) AS rows_validated,
               coalesce(q.rows_passed, 0) AS rows_passed,
               coalesce(q.rows_rejected, 0) AS rows_rejected,
               coalesce(q.reasons, '{}'::jsonb) AS reasons, rs.entries_seen, rs.articles_new
        FROM (SELECT run_id, source FROM news.run_sources WHERE run_id = ANY(%(runs)s)
              UNION SELECT run_id, source FROM news.quality WHERE run_id = ANY(%(runs)s)) k
        LEFT JOIN news.quality q USING (run_id, source)
        LEFT JOIN news.run_sources rs USING (run_id, source)
        ORDER BY k.run_id, k.source""", {"runs": list(run_ids)})


def rejections_by_day(conn: psycopg.Connection[Any], days: int = 14,
                      today: date | None = None) -> list[dict[str, Any]]:
    """Rejections still standing (not loaded by a revalidation since) per UTC day of
    ``rejected_at``, stage and reason, over the last ``days`` days. Days without any
    are not listed."""
    end = today or date.today()
    start = end - timedelta(days=days - 1)
    return _rows(conn, """
        SELECT (rejected_at AT TIME ZONE 'UTC')::date AS day, stage, reason,
               count(*)::integer AS rejections, count(DISTINCT source)::integer AS sources
        FROM news.rejections
        WHERE rejected_at >= (%s::date)::timestamp AT TIME ZONE 'UTC'
          AND rejected_at < (%s::date + 1)::timestamp AT TIME ZONE 'UTC'
          AND resolved_by IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", (start, end))


# --- runs and the Airflow DAG runs behind them ------------------------------------

#: DAGs whose runs write news.runs (dags/). The ingestion DAGs' plan task names the
#: warehouse run (its ``run_key``); the maintenance DAGs' task returns its run id.
INGEST_DAGS = ("news_ingest", "news_ingest_daily", "news_ingest_stream")
FULL_REFRESH_DAGS = ("news_ingest_daily",)
MAINTENANCE_DAGS = ("news_backfill", "news_reextract")
RUN_DAGS = INGEST_DAGS + MAINTENANCE_DAGS
#: Tasks whose return value (XCom) names the warehouse run: plan returns batches with
#: ``run_key``, finish, backfill and reextract a summary with ``run_id``.
RUN_KEY_TASKS = ("plan", "finish", "backfill", "reextract")

#: How runs that no Airflow DAG run carried are shown, by news.runs.trigger.
TRIGGER_LABELS = {
    "cli": "CLI pass",
    "demo": "demo pass",
    "backfill": "backfill (CLI)",
    "reextract": "re-extraction",
    "revalidate": "revalidation (CLI)",
    "airflow": "Airflow",
}


def dag_run_key(dag_id: str, run_id: str, conf: dict[str, Any] | None,
                logical_date: datetime | None) -> str | None:
    """The warehouse run id a run of an ingestion DAG writes
    (:func:`ingest.runs.airflow_run_key`, as its plan task derives it). None for the
    other DAGs (their run ids are random: see :func:`xcom_run_key`)."""
    if dag_id not in INGEST_DAGS:
        return None
    return airflow_run_key(dag_id, run_id, (conf or {}).get("run_key"), logical_date,
                           full_refresh=dag_id in FULL_REFRESH_DAGS)


def xcom_run_key(task_id: str, value: Any) -> str | None:
    """The warehouse run id in a task's return value (:data:`RUN_KEY_TASKS`)."""
    if task_id == "plan" and isinstance(value, list) and value and isinstance(value[0], dict):
        key = value[0].get("run_key")
    elif isinstance(value, dict):
        key = value.get("run_id")
    else:
        key = None
    return str(key) if key else None


def airflow_origin(run_id: str, trigger: str) -> tuple[str | None, str | None]:
    """(DAG id, Airflow run id) of a warehouse run, from its id alone, as far as only one
    answer is possible; Airflow's own database (the plugin) knows the rest.

    An ingestion DAG names the warehouse run after its Airflow run (``scheduled__...``,
    ``asset_triggered__...``, ``manual__...``), except the daily refresh
    (``news_ingest_daily-<date>``); news_backfill's runs are ``airflow-<time>-<hex>``
    (ingest.backfill names them after their trigger). ``manual__...`` can be any
    ingestion DAG's: (None, run id)."""
    if trigger != "airflow":
        return None, None
    if run_id.startswith("news_ingest_daily-"):
        return "news_ingest_daily", None
    if run_id.startswith(("scheduled__", "backfill__")):
        return "news_ingest", run_id  # the daily refresh's scheduled runs are named by date
    if run_id.startswith("asset_triggered__"):
        return "news_ingest_stream", run_id  # the one ingestion DAG scheduled on an asset
    if run_id.startswith("manual__"):
        return None, run_id
    if run_id.startswith("airflow-"):
        return "news_backfill", None
    return None, None
